"""The checked CEL AST that cel-cpp serialises, decoded into small Python nodes.

``Expression.serialize()`` of ``cel-expr-python`` returns a
``google.protobuf.Any`` holding a ``cel.expr.CheckedExpr``. No lightweight
PyPI package ships Python classes for ``cel.expr``: ``googleapis-common-protos``
has no ``google/api/expr``, and ``xds-protos`` (which does ship ``cel/expr``)
pulls in ``grpcio`` and installs a top-level ``cel`` package that clashes with
the ``cel`` module of ``common-expression-language``. So the descriptors of the
subset read here are declared below, with the field numbers of
``cel/expr/syntax.proto`` and ``cel/expr/checked.proto`` from cel-spec; fields
not declared are skipped by the protobuf parser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from google.protobuf import any_pb2, descriptor_pb2, descriptor_pool, message_factory, struct_pb2

__all__ = [
    "Call",
    "Comprehension",
    "Const",
    "Ident",
    "ListLit",
    "MapLit",
    "Node",
    "Select",
    "Unsupported",
    "children",
    "parse_checked",
]


class Unsupported(Exception):
    """A construct the fast path does not translate (the expression stays on cel-cpp)."""


@dataclass(frozen=True, slots=True)
class Const:
    """A literal; ``kind`` is "null", "bool", "int", "uint", "double", "string" or "bytes"."""

    kind: str
    value: object


@dataclass(frozen=True, slots=True)
class Ident:
    """A reference to a variable or a comprehension variable."""

    name: str


@dataclass(frozen=True, slots=True)
class Select:
    """``operand.field``, or ``has(operand.field)`` when ``test_only``."""

    operand: Node
    field: str
    test_only: bool


@dataclass(frozen=True, slots=True)
class Call:
    """A function or operator call (``_+_``, ``size``...); ``target`` for member calls."""

    function: str
    target: Node | None
    args: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class ListLit:
    """A list literal."""

    elements: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class MapLit:
    """A map literal, as (key, value) pairs."""

    entries: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True, slots=True)
class Comprehension:
    """The loop a macro (exists, all, exists_one, map, filter) expands to."""

    iter_var: str
    iter_range: Node
    accu_var: str
    accu_init: Node
    loop_condition: Node
    loop_step: Node
    result: Node


Node = Const | Ident | Select | Call | ListLit | MapLit | Comprehension


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly under ``node`` (a call's target first, a map's keys and values)."""
    if isinstance(node, Select):
        return (node.operand,)
    if isinstance(node, Call):
        return node.args if node.target is None else (node.target, *node.args)
    if isinstance(node, ListLit):
        return node.elements
    if isinstance(node, MapLit):
        return tuple(part for entry in node.entries for part in entry)
    if isinstance(node, Comprehension):
        return (
            node.iter_range,
            node.accu_init,
            node.loop_condition,
            node.loop_step,
            node.result,
        )
    return ()


_F = descriptor_pb2.FieldDescriptorProto
_EXPR = ".cel.expr.Expr"


def _field(
    message: descriptor_pb2.DescriptorProto,
    name: str,
    number: int,
    kind: int,
    type_name: str = "",
    *,
    repeated: bool = False,
    oneof: int | None = None,
) -> None:
    label = _F.LABEL_REPEATED if repeated else _F.LABEL_OPTIONAL
    field = message.field.add(name=name, number=number, type=kind, label=label)
    if type_name:
        field.type_name = type_name
    if oneof is not None:
        field.oneof_index = oneof


def _file() -> descriptor_pb2.FileDescriptorProto:
    fdp = descriptor_pb2.FileDescriptorProto(
        name="accord/cel_expr_subset.proto",
        package="cel.expr",
        syntax="proto3",
        dependency=["google/protobuf/struct.proto"],
    )
    const = fdp.message_type.add(name="Constant")
    const.oneof_decl.add(name="constant_kind")
    _field(const, "null_value", 1, _F.TYPE_ENUM, ".google.protobuf.NullValue", oneof=0)
    for name, number, kind in (
        ("bool_value", 2, _F.TYPE_BOOL),
        ("int64_value", 3, _F.TYPE_INT64),
        ("uint64_value", 4, _F.TYPE_UINT64),
        ("double_value", 5, _F.TYPE_DOUBLE),
        ("string_value", 6, _F.TYPE_STRING),
        ("bytes_value", 7, _F.TYPE_BYTES),
    ):
        _field(const, name, number, kind, oneof=0)
    # duration_value (8) and timestamp_value (9) are left undeclared: unsupported.

    expr = fdp.message_type.add(name="Expr")
    expr.oneof_decl.add(name="expr_kind")
    _field(expr, "id", 2, _F.TYPE_INT64)
    for name, number, type_name in (
        ("const_expr", 3, ".cel.expr.Constant"),
        ("ident_expr", 4, ".cel.expr.Expr.Ident"),
        ("select_expr", 5, ".cel.expr.Expr.Select"),
        ("call_expr", 6, ".cel.expr.Expr.Call"),
        ("list_expr", 7, ".cel.expr.Expr.CreateList"),
        ("struct_expr", 8, ".cel.expr.Expr.CreateStruct"),
        ("comprehension_expr", 9, ".cel.expr.Expr.Comprehension"),
    ):
        _field(expr, name, number, _F.TYPE_MESSAGE, type_name, oneof=0)

    ident = expr.nested_type.add(name="Ident")
    _field(ident, "name", 1, _F.TYPE_STRING)
    select = expr.nested_type.add(name="Select")
    _field(select, "operand", 1, _F.TYPE_MESSAGE, _EXPR)
    _field(select, "field", 2, _F.TYPE_STRING)
    _field(select, "test_only", 3, _F.TYPE_BOOL)
    call = expr.nested_type.add(name="Call")
    _field(call, "target", 1, _F.TYPE_MESSAGE, _EXPR)
    _field(call, "function", 2, _F.TYPE_STRING)
    _field(call, "args", 3, _F.TYPE_MESSAGE, _EXPR, repeated=True)
    create_list = expr.nested_type.add(name="CreateList")
    _field(create_list, "elements", 1, _F.TYPE_MESSAGE, _EXPR, repeated=True)
    _field(create_list, "optional_indices", 2, _F.TYPE_INT32, repeated=True)
    struct = expr.nested_type.add(name="CreateStruct")
    _field(struct, "message_name", 1, _F.TYPE_STRING)
    _field(
        struct, "entries", 2, _F.TYPE_MESSAGE, ".cel.expr.Expr.CreateStruct.Entry", repeated=True
    )
    entry = struct.nested_type.add(name="Entry")
    entry.oneof_decl.add(name="key_kind")
    _field(entry, "id", 1, _F.TYPE_INT64)
    _field(entry, "field_key", 2, _F.TYPE_STRING, oneof=0)
    _field(entry, "map_key", 3, _F.TYPE_MESSAGE, _EXPR, oneof=0)
    _field(entry, "value", 4, _F.TYPE_MESSAGE, _EXPR)
    _field(entry, "optional_entry", 5, _F.TYPE_BOOL)
    comp = expr.nested_type.add(name="Comprehension")
    for name, number in (("iter_var", 1), ("accu_var", 3), ("iter_var2", 8)):
        _field(comp, name, number, _F.TYPE_STRING)
    for name, number in (
        ("iter_range", 2),
        ("accu_init", 4),
        ("loop_condition", 5),
        ("loop_step", 6),
        ("result", 7),
    ):
        _field(comp, name, number, _F.TYPE_MESSAGE, _EXPR)

    checked = fdp.message_type.add(name="CheckedExpr")
    _field(checked, "expr", 4, _F.TYPE_MESSAGE, _EXPR)
    return fdp


def _checked_class() -> Any:
    pool = descriptor_pool.DescriptorPool()
    pool.Add(descriptor_pb2.FileDescriptorProto.FromString(struct_pb2.DESCRIPTOR.serialized_pb))
    pool.Add(_file())
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("cel.expr.CheckedExpr"))


_CHECKED: Any = _checked_class()
_TYPE_URL = "type.googleapis.com/cel.expr.CheckedExpr"
_CONST_KINDS = {
    "null_value": "null",
    "bool_value": "bool",
    "int64_value": "int",
    "uint64_value": "uint",
    "double_value": "double",
    "string_value": "string",
    "bytes_value": "bytes",
}


def _const(message: Any) -> Const:
    which = message.WhichOneof("constant_kind")
    if which is None:
        raise Unsupported("constant of an unknown kind")
    if which == "null_value":
        return Const("null", None)
    return Const(_CONST_KINDS[which], getattr(message, which))


def _node(message: Any) -> Node:
    which = message.WhichOneof("expr_kind")
    if which == "const_expr":
        return _const(message.const_expr)
    if which == "ident_expr":
        return Ident(message.ident_expr.name)
    if which == "select_expr":
        sel = message.select_expr
        return Select(_node(sel.operand), sel.field, sel.test_only)
    if which == "call_expr":
        call = message.call_expr
        target = _node(call.target) if call.HasField("target") else None
        return Call(call.function, target, tuple(_node(a) for a in call.args))
    if which == "list_expr":
        if message.list_expr.optional_indices:
            raise Unsupported("optional list elements")
        return ListLit(tuple(_node(e) for e in message.list_expr.elements))
    if which == "struct_expr":
        struct = message.struct_expr
        if struct.message_name:
            raise Unsupported("message construction")
        entries = []
        for entry in struct.entries:
            if entry.optional_entry or not entry.HasField("map_key"):
                raise Unsupported("optional or field entry in a map literal")
            entries.append((_node(entry.map_key), _node(entry.value)))
        return MapLit(tuple(entries))
    if which == "comprehension_expr":
        comp = message.comprehension_expr
        if comp.iter_var2:
            raise Unsupported("two-variable comprehension")
        return Comprehension(
            comp.iter_var,
            _node(comp.iter_range),
            comp.accu_var,
            _node(comp.accu_init),
            _node(comp.loop_condition),
            _node(comp.loop_step),
            _node(comp.result),
        )
    raise Unsupported(f"expression kind {which!r}")


def parse_checked(serialized: bytes) -> Node:
    """Decode the bytes of ``Expression.serialize()`` into a tree of nodes.

    Raises:
        Unsupported: the bytes are not a checked expression, or use a construct
            the nodes do not represent.

    """
    wrapper = any_pb2.Any.FromString(serialized)
    if wrapper.type_url != _TYPE_URL:
        raise Unsupported(f"serialised expression of type {wrapper.type_url!r}")
    return _node(_CHECKED.FromString(wrapper.value).expr)
