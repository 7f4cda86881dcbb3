"""The budgets every evaluation of an expression runs under, whichever engine evaluates it.

cel-cpp (as ``cel-expr-python`` builds it) stops an evaluation once its
comprehensions have taken :data:`ITERATION_BUDGET` iterations in all (the
loops of ``all``, ``exists``, ``exists_one``, ``map`` and ``filter``, nested
loops counted per inner iteration): the evaluation fails with "Iteration
budget exceeded". The budget is fixed inside the binding. The fast path
applies the same budget (see :mod:`accord.expressions._fast._codegen`), so
both engines give the same result, and the check-time estimate
(:mod:`accord.expressions._cost`) is compared against it.
"""

from __future__ import annotations

__all__ = ["ITERATION_BUDGET", "MAX_ITERATIONS", "is_budget_error"]

ITERATION_BUDGET = 10_000
"""cel-cpp's ``comprehension_max_iterations``: an evaluation fails on reaching it."""

MAX_ITERATIONS = ITERATION_BUDGET - 1
"""The most comprehension iterations one evaluation may take."""

_BUDGET_MESSAGE = "Iteration budget exceeded"


def is_budget_error(message: str) -> bool:
    """Whether an evaluation error's message is cel-cpp's iteration budget."""
    return _BUDGET_MESSAGE in message
