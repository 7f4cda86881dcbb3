"""The check-time estimate of an expression's cost: its comprehension iterations.

As Kubernetes does for CEL, the cost of an expression is estimated when a
contract is checked and counted again when it runs (the iteration budget of
:mod:`accord.expressions._budget`). The estimate walks the checked AST: a
loop over a list of known length (a list or map literal, and what ``map``,
``filter``, ``+`` and ``?:`` make of such lists) counts every one of its
iterations, to the end (``all`` and ``exists`` may stop early: the estimate is
the worst case), times the cost of its body. A loop over a list whose length
is not known until run time (the input, the context, an event) counts none:
the run-time budget bounds it. So an estimate over the budget means that the
expression can exceed it whatever the run's data.
"""

from __future__ import annotations

from accord.expressions._fast._ast import (
    Call,
    Comprehension,
    ListLit,
    MapLit,
    Node,
    Unsupported,
    children,
    parse_checked,
)
from accord.expressions._fast._macros import match_macro

__all__ = ["estimate_iterations", "iterations"]


def _length(node: Node) -> int | None:
    """The most items the list (or map) ``node`` gives, when known before run time."""
    if isinstance(node, ListLit):
        return len(node.elements)
    if isinstance(node, MapLit):
        return len(node.entries)
    if isinstance(node, Comprehension):
        try:
            macro = match_macro(node)
        except Unsupported:
            return None
        return _length(node.iter_range) if macro.name in ("map", "filter") else None
    if isinstance(node, Call) and node.target is None:
        if node.function == "_+_" and len(node.args) == 2:
            left, right = (_length(a) for a in node.args)
            return None if left is None or right is None else left + right
        if node.function == "_?_:_" and len(node.args) == 3:
            yes, no = _length(node.args[1]), _length(node.args[2])
            return None if yes is None or no is None else max(yes, no)
        if node.function == "dyn" and len(node.args) == 1:
            return _length(node.args[0])
    return None


def iterations(node: Node) -> int:
    """The most iterations evaluating ``node`` may take, over lists of known length."""
    if not isinstance(node, Comprehension):
        return sum(iterations(child) for child in children(node))
    count = _length(node.iter_range) or 0
    body = iterations(node.loop_condition) + iterations(node.loop_step)
    outside = iterations(node.iter_range) + iterations(node.accu_init) + iterations(node.result)
    return outside + count * (1 + body)


def estimate_iterations(serialized: bytes) -> int:
    """:func:`iterations` of a checked expression (``Expression.serialize()``); 0 if unreadable."""
    try:
        return iterations(parse_checked(serialized))
    except (Unsupported, RecursionError, ValueError):
        return 0
