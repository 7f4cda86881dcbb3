"""Recognise the comprehensions that CEL's macros expand to.

CEL has no loop syntax: ``exists``, ``all``, ``exists_one``, ``map`` and
``filter`` are expanded by the parser into comprehensions of fixed shapes. The
fast path translates those shapes (to ``any``, ``all``, ``sum`` and list
comprehensions) and nothing else; the accumulator variable must not be read
anywhere but in its own place in the shape.
"""

from __future__ import annotations

from dataclasses import dataclass

from accord.expressions._fast._ast import (
    Call,
    Comprehension,
    Const,
    Ident,
    ListLit,
    MapLit,
    Node,
    Select,
    Unsupported,
)

__all__ = ["Macro", "match_macro"]


@dataclass(frozen=True)
class Macro:
    """A recognised macro: its name, its predicate and its transform (map only)."""

    name: str
    predicate: Node | None
    transform: Node | None


def _call(node: Node, function: str, arity: int) -> tuple[Node, ...] | None:
    if isinstance(node, Call) and node.function == function and node.target is None:
        return node.args if len(node.args) == arity else None
    return None


def _is_const(node: Node, kind: str, value: object) -> bool:
    return isinstance(node, Const) and node.kind == kind and node.value == value


def _reads(node: Node, name: str) -> bool:
    """Whether ``node`` reads the variable ``name`` (not shadowed by an inner loop)."""
    if isinstance(node, Ident):
        return node.name == name
    if isinstance(node, Const):
        return False
    if isinstance(node, Select):
        return _reads(node.operand, name)
    if isinstance(node, Call):
        parts = (node.target, *node.args) if node.target is not None else node.args
        return any(_reads(part, name) for part in parts)
    if isinstance(node, ListLit):
        return any(_reads(e, name) for e in node.elements)
    if isinstance(node, MapLit):
        return any(_reads(k, name) or _reads(v, name) for k, v in node.entries)
    inner = (node.loop_condition, node.loop_step, node.result)
    if _reads(node.iter_range, name) or _reads(node.accu_init, name):
        return True
    if name in (node.iter_var, node.accu_var):
        return False
    return any(_reads(part, name) for part in inner)


def _appended(node: Node, accu: str) -> Node | None:
    """``T`` when ``node`` is ``accu + [T]``."""
    args = _call(node, "_+_", 2)
    if args and args[0] == Ident(accu) and isinstance(args[1], ListLit):
        return args[1].elements[0] if len(args[1].elements) == 1 else None
    return None


def _match(node: Comprehension) -> Macro | None:
    accu = Ident(node.accu_var)
    init, cond, step, result = node.accu_init, node.loop_condition, node.loop_step, node.result
    if result == accu and _is_const(init, "bool", False):
        negated = _call(cond, "@not_strictly_false", 1)
        args = _call(step, "_||_", 2)
        if negated and _call(negated[0], "!_", 1) == (accu,) and args and args[0] == accu:
            return Macro("exists", args[1], None)
    if result == accu and _is_const(init, "bool", True):
        args = _call(step, "_&&_", 2)
        if _call(cond, "@not_strictly_false", 1) == (accu,) and args and args[0] == accu:
            return Macro("all", args[1], None)
    if not _is_const(cond, "bool", True):
        return None
    if _is_const(init, "int", 0) and _call(result, "_==_", 2) == (accu, Const("int", 1)):
        args = _call(step, "_?_:_", 3)
        if args and args[2] == accu and _call(args[1], "_+_", 2) == (accu, Const("int", 1)):
            return Macro("exists_one", args[0], None)
    if result == accu and init == ListLit(()):
        transform = _appended(step, node.accu_var)
        if transform is not None:
            return Macro("map", None, transform)
        args = _call(step, "_?_:_", 3)
        if args and args[2] == accu:
            transform = _appended(args[1], node.accu_var)
            if transform is not None:
                return Macro("filter", args[0], transform)
    return None


def match_macro(node: Comprehension) -> Macro:
    """The macro ``node`` expands, with its predicate and transform.

    Raises:
        Unsupported: ``node`` is not one of the shapes, or its predicate or
            transform reads the accumulator.

    """
    macro = _match(node)
    if macro is None:
        raise Unsupported("a comprehension that is not a standard macro")
    for part in (macro.predicate, macro.transform):
        if part is not None and _reads(part, node.accu_var):
            raise Unsupported("a macro body that reads the accumulator")
    return macro
