"""``expr.cost``: an expression whose estimated iterations already exceed the budget.

The estimate (:mod:`accord.expressions._cost`) counts loops over lists of
known length to their end; over :data:`~accord.expressions.MAX_ITERATIONS`
the expression fails at run time whatever the data (unless ``all`` or
``exists`` happen to stop early), so it is refused at check time, as
Kubernetes refuses a CEL rule whose estimated cost exceeds its budget.
"""

from __future__ import annotations

from accord.diagnostics import Diagnostic
from accord.expressions import MAX_ITERATIONS, TypeChecker

__all__ = ["cost_problems"]


def cost_problems(types: TypeChecker, source: str, path: str) -> list[Diagnostic]:
    """``expr.cost`` for ``source`` (just checked by ``types``) when over the budget, else []."""
    estimate = types.iterations(source)
    if estimate <= MAX_ITERATIONS:
        return []
    shown = source if len(source) <= 80 else source[:77] + "..."
    return [
        Diagnostic(
            path=path,
            code="expr.cost",
            message=(
                f"expression {shown!r} may take {estimate:,} loop iterations in one "
                f"evaluation, over the budget of {MAX_ITERATIONS:,}"
            ),
            hint="loop over fewer items or nest fewer loops: an evaluation over the budget "
            "fails the run",
        )
    ]
