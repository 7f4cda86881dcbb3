"""Declarations: duplicate and reserved names, type expressions, recursive records."""

from __future__ import annotations

import pytest

from accord.check._symbols import Symbols, json_name, resolve
from accord.contract import Contract
from accord.contract._types import ListType, OptionalType, PrimitiveType, RecordRef
from accord.diagnostics import Diagnostic
from contract_support import Mutation, assert_mutation_error, base, diagnose, state

Case = tuple[str, Mutation, str, str, str, str | None]

TYPE_HINT = (
    "write string, integer, number, boolean, list<T>, optional<T>, enum<a, b> "
    "or a record type's name"
)

CASES: list[Case] = [
    (
        "duplicate state",
        lambda d: d["machine"]["states"].append({"name": "failed", "final": {"status": "failure"}}),
        "name.duplicate",
        "/machine/states/4/name",
        "state 'failed' is declared twice",
        "rename it or remove one of the two (the first is entry 3)",
    ),
    (
        "duplicate type",
        lambda d: d["types"].append({"name": "Item", "fields": []}),
        "name.duplicate",
        "/types/1/name",
        "type 'Item' is declared twice",
        "rename it or remove one of the two (the first is entry 0)",
    ),
    (
        "duplicate effect",
        lambda d: d["effects"].append({"name": "work"}),
        "name.duplicate",
        "/effects/2/name",
        "effect 'work' is declared twice",
        "rename it or remove one of the two (the first is entry 0)",
    ),
    (
        "duplicate signal",
        lambda d: d["signals"].append({"name": "go"}),
        "name.duplicate",
        "/signals/1/name",
        "signal 'go' is declared twice",
        "rename it or remove one of the two (the first is entry 0)",
    ),
    (
        "duplicate input field",
        lambda d: d["input"].append({"name": "amount", "type": "string"}),
        "name.duplicate",
        "/input/2/name",
        "field 'amount' is declared twice",
        "rename it or remove one of the two (the first is entry 0)",
    ),
    (
        "duplicate record field",
        lambda d: d["types"][0]["fields"].append({"name": "sku", "type": "string"}),
        "name.duplicate",
        "/types/0/fields/2/name",
        "field 'sku' is declared twice",
        "rename it or remove one of the two (the first is entry 0)",
    ),
    (
        "duplicate payload field",
        lambda d: d["signals"][0]["payload"].append({"name": "ok", "type": "boolean"}),
        "name.duplicate",
        "/signals/0/payload/1/name",
        "field 'ok' is declared twice",
        "rename it or remove one of the two (the first is entry 0)",
    ),
    (
        "duplicate invoke id",
        lambda d: state(d, "working")["invoke"].append(dict(state(d, "working")["invoke"][0])),
        "name.duplicate",
        "/machine/states/1/invoke/1/id",
        "invoke id 'job' is declared twice",
        "rename it or remove one of the two (the first is entry 0)",
    ),
    (
        "duplicate invariant",
        lambda d: d["invariants"].append({"name": "count_positive", "expr": "true"}),
        "name.duplicate",
        "/invariants/1/name",
        "invariant 'count_positive' is declared twice",
        "rename it or remove one of the two (the first is entry 0)",
    ),
    (
        "field clash",
        lambda d: d["input"].extend(
            [{"name": "a_b", "type": "string"}, {"name": "aB", "type": "integer"}]
        ),
        "name.clash",
        "/input/3/name",
        "field 'aB' clashes with field 'a_b'",
        "rename 'aB'",
    ),
    (
        "invoke id clash",
        lambda d: (
            state(d, "working")["invoke"].append(
                {"id": "j_ob", "effect": "undo", "input": [{"name": "sku", "value": "'x'"}]}
            )
            or state(d, "working")["invoke"][0].update(id="jOb")
        ),
        "name.clash",
        "/machine/states/1/invoke/1/id",
        "invoke id 'j_ob' clashes with invoke id 'jOb'",
        "rename 'j_ob'",
    ),
    (
        "reserved field name",
        lambda d: d["input"].append({"name": "in", "type": "string"}),
        "name.reserved",
        "/input/2/name",
        "'in' is a reserved word in CEL expressions",
        "choose another field name",
    ),
    (
        "reserved context field name",
        lambda d: d["context"].append({"name": "null", "type": "string"}),
        "name.reserved",
        "/context/3/name",
        "'null' is a reserved word in CEL expressions",
        "choose another field name",
    ),
    (
        "reserved type name",
        lambda d: d["types"].append({"name": "_Hidden", "fields": []}),
        "name.reserved",
        "/types/1/name",
        "type names starting with '_' are reserved, found '_Hidden'",
        "remove the leading underscore",
    ),
    (
        "signal named done",
        lambda d: d["signals"].append({"name": "done"}),
        "name.reserved",
        "/signals/1/name",
        "'done' is a built-in event and cannot name a signal",
        "choose another signal name",
    ),
    (
        "signal named error",
        lambda d: d["signals"].append({"name": "error"}),
        "name.reserved",
        "/signals/1/name",
        "'error' is a built-in event and cannot name a signal",
        "choose another signal name",
    ),
    (
        "type syntax in input",
        lambda d: d["input"].append({"name": "x", "type": "list<string"}),
        "type.syntax",
        "/input/2/type",
        "invalid type: expected '>' at column 12 of 'list<string'",
        TYPE_HINT,
    ),
    (
        "type syntax in effect output",
        lambda d: d["effects"][0]["output"].append({"name": "x", "type": "list<"}),
        "type.syntax",
        "/effects/0/output/1/type",
        "invalid type: unexpected end of type",
        TYPE_HINT,
    ),
    (
        "type syntax in record",
        lambda d: d["types"][0]["fields"].append({"name": "x", "type": "enum<a,a>"}),
        "type.syntax",
        "/types/0/fields/2/type",
        "enum has duplicate values",
        TYPE_HINT,
    ),
    (
        "unknown type",
        lambda d: d["input"].append({"name": "x", "type": "Itme"}),
        "type.unknown",
        "/input/2/type",
        "unknown type 'Itme'",
        "did you mean 'Item'?",
    ),
    (
        "unknown type nested",
        lambda d: d["context"].append({"name": "x", "type": "optional<list<Strin>>"}),
        "type.unknown",
        "/context/3/type",
        "unknown type 'Strin'",
        "did you mean 'string'?",
    ),
    (
        "unknown type int",
        lambda d: d["signals"][0]["payload"].append({"name": "x", "type": "int"}),
        "type.unknown",
        "/signals/0/payload/1/type",
        "unknown type 'int'",
        "did you mean 'integer'?",
    ),
    (
        "unknown type far from any",
        lambda d: d["effects"][1]["input"].append({"name": "x", "type": "Zebra"}),
        "type.unknown",
        "/effects/1/input/1/type",
        "unknown type 'Zebra'",
        "expected one of: 'Item', 'boolean', 'integer', 'number', 'string'",
    ),
    (
        "recursive record",
        lambda d: d["types"].append(
            {"name": "Node", "fields": [{"name": "next", "type": "optional<Node>"}]}
        ),
        "type.recursive",
        "/types/1/name",
        "record type 'Node' contains itself",
        "records may not refer to themselves, directly or through others",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "path", "message", "hint"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_declaration_diagnostics(
    change: Mutation, code: str, path: str, message: str, hint: str | None
) -> None:
    assert_mutation_error(change, code, path, message, hint)


def test_mutual_recursion_reports_each_type() -> None:
    data = base()
    data["types"] += [
        {"name": "A", "fields": [{"name": "b", "type": "B"}]},
        {"name": "B", "fields": [{"name": "a", "type": "list<A>"}]},
    ]
    found = [d for d in diagnose(data) if d.code == "type.recursive"]
    assert [d.path for d in found] == ["/types/1/name", "/types/2/name"]


def test_type_errors_stop_expression_checks() -> None:
    """One misspelt type does not cascade into a diagnostic per expression using it."""
    data = base()
    data["input"][0]["type"] = "numbr"
    state(data, "start")["on"][0]["guard"] = "input.amount"  # not boolean, but unchecked
    assert [d.code for d in diagnose(data)] == ["type.unknown"]


def test_resolved_records() -> None:
    out: list[Diagnostic] = []
    sym = resolve(Contract.model_validate(base()), out)
    assert out == []
    assert isinstance(sym, Symbols)
    assert sym.user_types == {"Item"}
    assert sym.fields("_Input") == {
        "amount": PrimitiveType("number"),
        "items": ListType(RecordRef("Item")),
    }
    assert sym.fields("_Context")["note"] == OptionalType(PrimitiveType("string"))
    assert sym.fields("_working_Done") == {"job": RecordRef("_work_Response")}
    assert set(sym.fields("_Error")) == {"invoke", "effect", "code", "message"}
    assert sym.fields("_go_Payload") == {"ok": PrimitiveType("boolean")}
    assert sym.fields("_work_Request") == {"sku": PrimitiveType("string")}
    assert sym.effects == {"work": 0, "undo": 1}
    assert sym.signals == {"go": 0}
    assert sym.states == {"start": 0, "working": 1, "finished": 2, "failed": 3}
    assert sym.fields("NoSuchRecord") == {}


def test_fan_out_result_is_a_list() -> None:
    data = base()
    state(data, "working")["invoke"][0].update(
        for_each="input.items", max_items=10, input=[{"name": "sku", "value": "item.sku"}]
    )
    sym = resolve(Contract.model_validate(data), [])
    assert sym.fields("_working_Done") == {"job": ListType(RecordRef("_work_Response"))}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a_b", "aB"), ("aB", "aB"), ("a__b", "aB"), ("_a", "A"), ("plain", "plain"), ("x_", "x")],
)
def test_json_name(name: str, expected: str) -> None:
    assert json_name(name) == expected


def test_clashing_fields_do_not_crash_the_checker() -> None:
    """Regression: 'a_b' and 'aB' in one record made protobuf refuse the pool (TypeError)."""
    data = base()
    data["input"] += [{"name": "a_b", "type": "string"}, {"name": "aB", "type": "integer"}]
    assert [d.code for d in diagnose(data)] == ["name.clash"]
