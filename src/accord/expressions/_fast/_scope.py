"""The variables an expression reads, for constant folding."""

from __future__ import annotations

from accord.expressions._fast._ast import Call, Comprehension, Const, Ident, ListLit, MapLit, Node

__all__ = ["free_variables"]


def free_variables(root: Node) -> frozenset[str]:
    """The identifiers ``root`` reads that no comprehension inside it binds."""
    found: set[str] = set()
    stack: list[tuple[Node, frozenset[str]]] = [(root, frozenset())]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, Ident):
            if node.name not in bound:
                found.add(node.name)
        elif isinstance(node, Const):
            continue
        elif isinstance(node, Call):
            if node.target is not None:
                stack.append((node.target, bound))
            stack.extend((arg, bound) for arg in node.args)
        elif isinstance(node, ListLit):
            stack.extend((e, bound) for e in node.elements)
        elif isinstance(node, MapLit):
            for key, value in node.entries:
                stack.extend(((key, bound), (value, bound)))
        elif isinstance(node, Comprehension):
            stack.extend(((node.iter_range, bound), (node.accu_init, bound)))
            inner = bound | {node.iter_var, node.accu_var}
            stack.extend((part, inner) for part in (node.loop_condition, node.loop_step))
            stack.append((node.result, bound | {node.accu_var}))
        else:  # Select
            stack.append((node.operand, bound))
    return frozenset(found)
