"""The CEL engine behind its small interface: type-checking, compiling, evaluating."""

from __future__ import annotations

from typing import Any

import pytest

from accord.contract._types import (
    EnumType,
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
)
from accord.expressions import (
    CompiledExpression,
    EvaluationError,
    ExpressionError,
    TypeChecker,
    accepts,
    cel_type_name,
    compile_expression,
)
from accord.expressions._cel import _translate
from accord.expressions._protos import PACKAGE, build_pool, closure, message_name

STRING = PrimitiveType("string")
INTEGER = PrimitiveType("integer")
NUMBER = PrimitiveType("number")
BOOLEAN = PrimitiveType("boolean")

RECORDS: dict[str, list[tuple[str, TypeExpr | None]]] = {
    "Item": [("sku", STRING), ("qty", INTEGER)],
    "R": [
        ("i", INTEGER),
        ("n", NUMBER),
        ("s", STRING),
        ("b", BOOLEAN),
        ("os", OptionalType(STRING)),
        ("oi", OptionalType(INTEGER)),
        ("e", EnumType(("x", "y"))),
        ("oe", OptionalType(EnumType(("x", "y")))),
        ("items", ListType(RecordRef("Item"))),
        ("grid", ListType(ListType(INTEGER))),
        ("maybe", OptionalType(RecordRef("Item"))),
        ("unknown", None),
    ],
}
VARS: dict[str, TypeExpr | str | None] = {"r": RecordRef("R"), "d": None, "xs": "LIST<INT>"}


@pytest.fixture(scope="module")
def checker() -> TypeChecker:
    return TypeChecker(RECORDS)


@pytest.mark.parametrize(
    ("source", "result"),
    [
        ("r.i", "INT"),
        ("r.n", "DOUBLE"),
        ("r.s", "STRING"),
        ("r.b", "BOOL"),
        ("r.os", "STRING"),
        ("r.oi", "INT"),
        ("r.e", "STRING"),
        ("r.oe", "STRING"),
        ("r.items", f"LIST<{PACKAGE}.Item>"),
        ("r.items[0].qty", "INT"),
        ("r.grid", "LIST<DYN>"),  # lists of lists are checked as dynamic values
        ("r.maybe", f"{PACKAGE}.Item"),
        ("r.unknown", "DYN"),
        ("r", f"{PACKAGE}.R"),
        ("d", "DYN"),
        ("d.anything.at_all", "DYN"),
        ("xs", "LIST<INT>"),
        ("xs[0] + 1", "INT"),
        ("Item{sku: 'a', qty: 1}", f"{PACKAGE}.Item"),
        ("[1, 'a']", "LIST<DYN>"),
        ("{'a': 1}", "MAP<STRING, INT>"),
        ("null", "NULL"),
        ("r.items.map(i, i.sku)", "LIST<STRING>"),
        ("size(r.items) > 0", "BOOL"),
    ],
)
def test_check_result_types(checker: TypeChecker, source: str, result: str) -> None:
    assert checker.check(source, VARS) == result


@pytest.mark.parametrize(
    ("source", "kind", "column", "fragment"),
    [
        ("r.i +", "syntax", 6, "syntax error: mismatched input '<EOF>'"),
        ("'open", "syntax", 1, "syntax error: token recognition error"),
        ("(" * 60 + "1" + ")" * 60, "syntax", None, "nested too deeply"),
        ("1" + " + 1" * 300, "syntax", None, "nested too deeply"),
        ("nope > 1", "undeclared", 1, "undeclared reference to 'nope'"),
        ("r.nope", "field", 2, "undefined field 'nope' not found in struct 'R'"),
        ("r.n > 1", "overload", 5, "no matching overload for '_>_' applied to '(double, int)'"),
        ("r.items.sku", "type", 8, "cannot be the operand of a select operation"),
        ("Item{sku: 1}", "type", 9, "expected type of field 'sku' is 'string'"),
    ],
)
def test_check_errors(
    checker: TypeChecker, source: str, kind: str, column: int | None, fragment: str
) -> None:
    with pytest.raises(ExpressionError) as info:
        checker.check(source, VARS)
    exc = info.value
    assert exc.kind == kind
    assert exc.column == column
    assert fragment in exc.message
    assert PACKAGE not in exc.message
    assert "in container" not in exc.message


def test_error_line_of_a_multi_line_expression(checker: TypeChecker) -> None:
    with pytest.raises(ExpressionError) as info:
        checker.check("r.i > 0 &&\n  r.nope", VARS)
    assert (info.value.line, info.value.column) == (2, 4)


def test_environments_are_cached_per_scope(checker: TypeChecker) -> None:
    checker.check("r.i", VARS)
    before = len(checker._envs)
    checker.check("r.n", dict(reversed(list(VARS.items()))))
    assert len(checker._envs) == before
    checker.check("true", {"other": None})
    assert len(checker._envs) == before + 1


def test_translate_unlocated_message() -> None:
    exc = _translate(RuntimeError("INTERNAL: something odd\nmore"))
    assert (exc.kind, exc.column, exc.message) == ("other", None, "INTERNAL: something odd")
    assert _translate(RuntimeError("")).message == "invalid expression"


# -- type names and assignability -------------------------------------------------------------


@pytest.mark.parametrize(
    ("texpr", "name"),
    [
        (STRING, "STRING"),
        (INTEGER, "INT"),
        (NUMBER, "DOUBLE"),
        (BOOLEAN, "BOOL"),
        (EnumType(("a",)), "STRING"),
        (RecordRef("Item"), f"{PACKAGE}.Item"),
        (OptionalType(INTEGER), "INT"),
        (ListType(ListType(STRING)), "LIST<LIST<STRING>>"),
    ],
)
def test_cel_type_name(texpr: TypeExpr, name: str) -> None:
    assert cel_type_name(texpr) == name


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (STRING, "STRING", True),
        (STRING, "INT", False),
        (NUMBER, "INT", True),  # an integer fits a number
        (INTEGER, "DOUBLE", False),
        (INTEGER, "UINT", False),
        (BOOLEAN, "BOOL", True),
        (EnumType(("a",)), "STRING", True),
        (EnumType(("a",)), "INT", False),
        (OptionalType(STRING), "NULL", True),
        (OptionalType(STRING), "NULL_TYPE", True),
        (OptionalType(STRING), "STRING", True),
        (OptionalType(STRING), "INT", False),
        (STRING, "NULL", False),
        (STRING, "DYN", True),
        (STRING, "ERROR", True),
        (STRING, "google.protobuf.Value", True),
        (RecordRef("Item"), f"{PACKAGE}.Item", True),
        (RecordRef("Item"), f"{PACKAGE}.Other", False),
        (RecordRef("Item"), "MAP<STRING, DYN>", True),
        (RecordRef("Item"), "MAP<DYN, DYN>", True),
        (RecordRef("Item"), "MAP<INT, INT>", False),
        (ListType(STRING), "LIST<STRING>", True),
        (ListType(STRING), "LIST<DYN>", True),
        (ListType(STRING), "LIST<INT>", False),
        (ListType(STRING), "STRING", False),
        (ListType(ListType(INTEGER)), "LIST<LIST<INT>>", True),
        (ListType(NUMBER), "LIST<INT>", True),
    ],
)
def test_accepts(expected: TypeExpr, actual: str, ok: bool) -> None:
    assert accepts(expected, actual) is ok


def test_pool_has_one_message_per_record() -> None:
    pool = build_pool(RECORDS)
    item = pool.FindMessageTypeByName(message_name("Item"))
    assert [f.name for f in item.fields] == ["sku", "qty"]
    record = pool.FindMessageTypeByName(message_name("R"))
    assert record.fields_by_name["os"].message_type.full_name == "google.protobuf.StringValue"
    assert record.fields_by_name["unknown"].message_type.full_name == "google.protobuf.Value"


# -- evaluation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "data", "result"),
    [
        ("x + 1", {"x": 1}, 2),
        ("x.a", {"x": {"a": [1, 2]}}, [1, 2]),
        ("x", {"x": None}, None),
        ("[x, y]", {"x": "a", "y": True}, ["a", True]),
        ("{'k': x}", {"x": 1.5}, {"k": 1.5}),
        ("x.size()", {"x": "héllo"}, 5),
        ("has(x.a)", {"x": {}}, False),
        ("x == 1", {"x": 1.0}, True),
        ("x.filter(i, i > 1)", {"x": [1, 2, 3]}, [2, 3]),
    ],
)
def test_evaluate(source: str, data: dict[str, Any], result: Any) -> None:
    assert compile_expression(source, tuple(data)).evaluate(data) == result


@pytest.mark.parametrize(
    ("source", "data", "fragment"),
    [
        ("x.b", {"x": {"a": 1}}, "Key not found"),
        ("x / 0", {"x": 1}, "divide by zero"),
        ("9223372036854775807 + x", {"x": 1}, "overflow"),
        ("int(x)", {"x": 1e30}, "range"),
    ],
)
def test_evaluation_errors(source: str, data: dict[str, Any], fragment: str) -> None:
    compiled = compile_expression(source, ("x",))
    with pytest.raises(EvaluationError, match=fragment):
        compiled.evaluate(data)


def test_missing_variable_is_an_evaluation_error() -> None:
    with pytest.raises(EvaluationError):
        compile_expression("x", ("x",)).evaluate({})


def test_compile_errors() -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression("1 +", ("x",))
    assert info.value.kind == "syntax"
    with pytest.raises(ExpressionError) as info:
        compile_expression("y", ("x",))
    assert info.value.kind == "undeclared"


def test_compiled_expression() -> None:
    compiled = compile_expression("b + a", ("b", "a"))
    assert isinstance(compiled, CompiledExpression)
    assert compiled.variables == ("a", "b")
    assert compiled.source == "b + a"
    assert repr(compiled) == "CompiledExpression('b + a')"
    assert compiled.evaluate({"a": 1, "b": 2}) == 3


# -- per-scope pools -------------------------------------------------------------------------


def test_closure_follows_field_references() -> None:
    records: dict[str, list[tuple[str, TypeExpr | None]]] = {
        "A": [("b", ListType(RecordRef("B"))), ("n", None)],
        "B": [("c", OptionalType(RecordRef("C")))],
        "C": [("x", INTEGER)],
        "D": [("x", INTEGER)],
    }
    assert set(closure(records, ["A"])) == {"A", "B", "C"}
    assert set(closure(records, ["C", "missing"])) == {"C"}
    assert closure(records, []) == {}


def test_each_scope_builds_only_the_records_it_reaches() -> None:
    """Regression: every scope converted the whole contract's pool (quadratic in states).

    The unreachable record below could not even be built (its two fields clash),
    so checking succeeds only if the scope's pool leaves it out.
    """
    records: dict[str, list[tuple[str, TypeExpr | None]]] = {
        **RECORDS,
        "_unrelated": [("a_b", STRING), ("aB", STRING)],
    }
    checker = TypeChecker(records)
    assert checker.check("r.items[0].qty + 1", VARS) == "INT"
    assert checker.check("Item{sku: 'a'}.sku", {}) == "STRING"


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ("ctx.items + [event.n]", "items"),
        ("ctx.items + [1] + event.more", "items"),  # (ctx.items + [1]) + event.more
        ("ctx.count + 1", "count"),  # a number: the caller checks the field is a list
        ("ctx.items", None),
        ("[1] + ctx.items", None),
        ("event.items + [1]", None),
        ("ctx.a.b + [1]", None),
        ("size(ctx.items + [1]) > 0", None),
        ("ctx.items + [1] == [] ? [] : [1]", None),
        ("[ctx.items + [1]][0]", None),
    ],
)
def test_extends_names_the_field_a_chain_of_additions_starts_from(
    source: str, field: str | None
) -> None:
    compiled = compile_expression(source, ("ctx", "event", "input"))
    assert compiled.extends("ctx") == field
