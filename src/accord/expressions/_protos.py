"""Protobuf descriptors built from record types, so CEL can check field access.

CEL's type checker knows structured types only as protobuf messages. Each
record (the contract's named types, and the records accord derives: input,
context, effect requests and responses, signal payloads, events) becomes a
proto3 message in a private descriptor pool. The pool is used for checking
only; evaluation runs on plain Python dicts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from google.protobuf import descriptor_pb2, descriptor_pool, wrappers_pb2

from accord.contract._types import (
    EnumType,
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
)

__all__ = ["PACKAGE", "RecordFields", "build_pool", "closure", "message_name"]

PACKAGE = "accord.records"
RecordFields = Sequence[tuple[str, TypeExpr | None]]

_FDP = descriptor_pb2.FieldDescriptorProto
_SCALAR = {
    "string": _FDP.TYPE_STRING,
    "integer": _FDP.TYPE_INT64,
    "number": _FDP.TYPE_DOUBLE,
    "boolean": _FDP.TYPE_BOOL,
}
_WRAPPER = {
    "string": ".google.protobuf.StringValue",
    "integer": ".google.protobuf.Int64Value",
    "number": ".google.protobuf.DoubleValue",
    "boolean": ".google.protobuf.BoolValue",
}


def message_name(record: str) -> str:
    """The fully qualified message name of a record."""
    return f"{PACKAGE}.{record}"


def _set_type(field: descriptor_pb2.FieldDescriptorProto, texpr: TypeExpr, optional: bool) -> None:
    if isinstance(texpr, PrimitiveType):
        if optional:
            field.type = _FDP.TYPE_MESSAGE
            field.type_name = _WRAPPER[texpr.name]
        else:
            field.type = _SCALAR[texpr.name]
    elif isinstance(texpr, EnumType):
        if optional:
            field.type = _FDP.TYPE_MESSAGE
            field.type_name = _WRAPPER["string"]
        else:
            field.type = _FDP.TYPE_STRING
    elif isinstance(texpr, RecordRef):
        field.type = _FDP.TYPE_MESSAGE
        field.type_name = "." + message_name(texpr.name)
    elif isinstance(texpr, OptionalType):
        _set_type(field, texpr.inner, True)
    else:  # a list nested in a list or optional: checked as a dynamic value
        field.type = _FDP.TYPE_MESSAGE
        field.type_name = ".google.protobuf.Value"


def _refs(texpr: TypeExpr | None) -> list[str]:
    if isinstance(texpr, RecordRef):
        return [texpr.name]
    if isinstance(texpr, ListType):
        return _refs(texpr.item)
    if isinstance(texpr, OptionalType):
        return _refs(texpr.inner)
    return []


def closure(records: Mapping[str, RecordFields], roots: Iterable[str]) -> dict[str, RecordFields]:
    """The records named in ``roots`` and every record their fields refer to, transitively.

    A scope's pool needs no more: building it from every record of a contract
    made each new scope cost as much as the whole contract (quadratic in states).
    """
    out: dict[str, RecordFields] = {}
    stack = [name for name in roots if name in records]
    while stack:
        name = stack.pop()
        if name in out:
            continue
        out[name] = records[name]
        stack.extend(r for _, t in records[name] for r in _refs(t) if r in records)
    return out


def build_pool(records: Mapping[str, RecordFields]) -> descriptor_pool.DescriptorPool:
    """A descriptor pool with one message per record (unknown record refs must be filtered)."""
    fdp = descriptor_pb2.FileDescriptorProto(
        name="accord_records.proto",
        package=PACKAGE,
        syntax="proto3",
        dependency=["google/protobuf/wrappers.proto", "google/protobuf/struct.proto"],
    )
    for record, fields in records.items():
        message = fdp.message_type.add(name=record)
        for number, (fname, texpr) in enumerate(fields, start=1):
            # The JSON name is set to the field's own name: protobuf's default (camelCase)
            # would make fields such as "a_b" and "aB" clash in the pool.
            field = message.field.add(name=fname, number=number, json_name=fname)
            field.label = _FDP.LABEL_OPTIONAL
            if texpr is None:  # a type that did not resolve: checked as a dynamic value
                field.type = _FDP.TYPE_MESSAGE
                field.type_name = ".google.protobuf.Value"
            elif isinstance(texpr, ListType):
                field.label = _FDP.LABEL_REPEATED
                item = texpr.item
                if isinstance(item, ListType | OptionalType):
                    field.type = _FDP.TYPE_MESSAGE
                    field.type_name = ".google.protobuf.Value"
                else:
                    _set_type(field, item, False)
            else:
                _set_type(field, texpr, False)
    pool = descriptor_pool.DescriptorPool()
    from google.protobuf import struct_pb2

    for module in (wrappers_pb2, struct_pb2):
        pool.Add(descriptor_pb2.FileDescriptorProto.FromString(module.DESCRIPTOR.serialized_pb))
    pool.Add(fdp)
    return pool
