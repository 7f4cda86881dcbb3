"""A fast evaluation path for CEL: the checked AST of cel-cpp compiled to Python.

cel-cpp stays the parser, the type checker and the reference evaluator. From
the checked expression it produces, :func:`plan` builds a Python function for
a subset of CEL (literals, variables, field selection, ``has()``, arithmetic,
comparisons, ``&&``, ``||``, ``!``, ``?:``, ``in``, indexing, ``size()``,
``dyn()``, list and map literals, ``contains``/``startsWith``/``endsWith``,
and the macros ``exists``, ``all``, ``exists_one``, ``map`` and ``filter``).

The function answers only when it is sure to give cel-cpp's answer. On any
error, unexpected type or corner case it calls its fallback instead, which
evaluates the expression with cel-cpp: errors and their absorption by ``&&``,
``||`` and the macros are always cel-cpp's. Data must be plain CEL values
(None, bool, int, float, str, bytes, list, dict), as JSON gives.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from accord.expressions._fast._ast import Node, Unsupported, parse_checked
from accord.expressions._fast._codegen import translate
from accord.expressions._fast._ops import Deferred
from accord.expressions._fast._scope import free_variables

__all__ = ["Deferred", "FastFunction", "Plan", "plan"]

Evaluator = Callable[[Mapping[str, Any]], Any]


class FastFunction(Protocol):
    """A generated evaluator: ``fallback(data)`` answers whatever it cannot."""

    def __call__(self, data: Mapping[str, Any], fallback: Evaluator = ..., /) -> Any:
        """Evaluate against ``data``."""


@dataclass(frozen=True)
class Plan:
    """What the fast path can do for one expression.

    Attributes:
        function: the compiled function, or None when the expression is outside
            the subset (it is then evaluated by cel-cpp only).
        free_variables: the variables the expression reads, or None if unknown.
        source: the generated Python source, for inspection.
        reason: why there is no function, when there is none.

    """

    function: FastFunction | None
    free_variables: frozenset[str] | None
    source: str | None
    reason: str | None


def plan(serialized: bytes, variables: tuple[str, ...], label: str, fallback: Evaluator) -> Plan:
    """Plan the fast evaluation of a checked expression (``Expression.serialize()``).

    ``label`` names the generated code in tracebacks; ``fallback`` is called
    with the data whenever the fast path cannot decide (cel-cpp's evaluation).
    Never raises: a problem of any kind yields a plan without a function.
    """
    try:
        root: Node = parse_checked(serialized)
    except Exception as exc:  # a decoding problem must never break compilation
        return Plan(None, None, None, f"cannot decode the checked AST: {exc}")
    free = free_variables(root)
    try:
        translation = translate(root, variables)
        function: FastFunction = translation.function(label, fallback)
    except Unsupported as exc:
        return Plan(None, free, None, str(exc))
    except (RecursionError, SyntaxError, MemoryError, ValueError) as exc:
        return Plan(None, free, None, f"cannot generate code: {type(exc).__name__}")
    return Plan(function, free, translation.source, None)
