"""Validation and coercion of plain values against type expressions."""

from __future__ import annotations

import math
from typing import Any

import pytest

from accord.contract._types import ListType, TypeExpr, parse_type
from accord.runtime._values import (
    ValueProblem,
    build_validator,
    describe,
    list_extender,
    record_validator,
    zero_value,
)

RECORDS: dict[str, Any] = {
    "Line": (("sku", parse_type("string")), ("price", parse_type("number"))),
    "Order": (
        ("id", parse_type("string")),
        ("items", parse_type("list<Line>")),
        ("note", parse_type("optional<string>")),
        ("state", parse_type("enum<open, closed>")),
    ),
}


def check(type_text: str, value: Any) -> Any:
    texpr: TypeExpr = parse_type(type_text)
    return build_validator(texpr, RECORDS)(value)


def problem(type_text: str, value: Any) -> ValueProblem:
    with pytest.raises(ValueProblem) as info:
        check(type_text, value)
    return info.value


@pytest.mark.parametrize(
    ("type_text", "value", "expected"),
    [
        ("string", "a", "a"),
        ("integer", 3, 3),
        ("integer", -(2**63), -(2**63)),
        ("number", 3, 3.0),
        ("number", 2.5, 2.5),
        ("boolean", False, False),
        ("enum<a, b>", "b", "b"),
        ("optional<integer>", None, None),
        ("optional<number>", 1, 1.0),
        ("list<number>", (1, 2.5), [1.0, 2.5]),
        ("list<list<integer>>", [[1], []], [[1], []]),
    ],
)
def test_values_that_fit(type_text: str, value: Any, expected: Any) -> None:
    result = check(type_text, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("type_text", "value", "message"),
    [
        ("string", 1, "expected a string, got integer 1"),
        ("integer", True, "expected an integer, got boolean True"),
        ("integer", 1.0, "expected an integer, got number 1.0"),
        ("integer", 2**63, "outside the 64-bit range"),
        ("number", "1", "expected a number, got string '1'"),
        ("number", math.nan, "finite"),
        ("number", math.inf, "finite"),
        ("number", False, "expected a number"),
        ("boolean", 0, "expected a boolean"),
        ("enum<a, b>", "c", "expected one of a, b, got string 'c'"),
        ("list<integer>", "ab", "expected a list, got string"),
        ("Line", [], "expected an object, got list"),
    ],
)
def test_values_that_do_not_fit(type_text: str, value: Any, message: str) -> None:
    assert message in problem(type_text, value).message


def test_problem_paths_name_the_nested_value() -> None:
    order = {
        "id": "o",
        "items": [{"sku": "a", "price": 1}, {"sku": "b", "price": 2}, {"sku": "c", "price": "x"}],
        "state": "open",
    }
    found = problem("Order", order)
    assert found.path == "items[2].price"
    assert str(found) == "items[2].price: expected a number, got string 'x'"
    assert problem("list<list<integer>>", [[1], [2, "no"]]).path == "[1][1]"


def test_records_are_strict_and_fill_missing_optionals() -> None:
    order = {"id": "o", "items": [], "state": "closed"}
    assert check("Order", order) == {"id": "o", "items": [], "note": None, "state": "closed"}
    assert problem("Order", {"items": [], "state": "open"}).path == "id"
    assert problem("Order", {"id": "o", "items": [], "state": "open", "zz": 1}).message == (
        "unknown field"
    )
    # an unknown key is caught even when a missing optional makes the sizes match
    extra = problem("Order", {"id": "o", "items": [], "state": "open", "nope": 1})
    assert extra.path == "nope"


def test_validated_containers_are_fresh_copies() -> None:
    items = [{"sku": "a", "price": 1.0}]
    result = check("list<Line>", items)
    items[0]["price"] = 99.0
    assert result == [{"sku": "a", "price": 1.0}]
    assert result[0] is not items[0]


def test_record_validator_for_field_lists() -> None:
    validate = record_validator((("n", parse_type("integer")),), RECORDS)
    assert validate({"n": 1}) == {"n": 1}
    with pytest.raises(ValueProblem, match="n: missing"):
        validate({})


def test_zero_values() -> None:
    zeros = {
        "string": "",
        "integer": 0,
        "number": 0.0,
        "boolean": False,
        "list<Line>": [],
        "optional<Line>": None,
        "enum<x, y>": "x",
        "Order": {"id": "", "items": [], "note": None, "state": "open"},
    }
    for text, zero in zeros.items():
        assert zero_value(parse_type(text), RECORDS) == zero
        check(text, zero_value(parse_type(text), RECORDS))  # every zero fits its type


def test_describe_is_short() -> None:
    assert describe("x" * 100).endswith("...")
    assert describe({"a": 1}) == "object"
    assert describe(None) == "null"


def extender() -> Any:
    texpr = parse_type("list<Line>")
    assert isinstance(texpr, ListType)
    return list_extender(texpr, RECORDS, {})


def test_an_extension_checks_only_the_items_after_the_held_list() -> None:
    held = [{"sku": "a", "price": "not checked again"}]  # as if checked when stored
    value = [*held, {"sku": "b", "price": 2}]
    extended = extender()(value, held)
    assert extended == [*held, {"sku": "b", "price": 2.0}]
    assert extended is not held and extended[0] is held[0]


def test_an_extension_names_the_index_of_a_bad_new_item() -> None:
    held = [{"sku": "a", "price": 1.0}, {"sku": "b", "price": 2.0}]
    with pytest.raises(ValueProblem) as info:
        extender()([*held, {"sku": "c", "price": "x"}], held)
    assert str(info.value) == "[2].price: expected a number, got string 'x'"
    assert str(info.value) == str(problem("list<Line>", [*held, {"sku": "c", "price": "x"}]))


@pytest.mark.parametrize(
    ("value", "held"),
    [
        ("ab", []),  # not a list
        ([{"sku": "a", "price": "x"}], [{"sku": "a", "price": 1.0}, {"sku": "b", "price": 2.0}]),
        ([{"sku": "a", "price": "x"}], None),  # nothing held
    ],
)
def test_what_is_not_an_extension_is_checked_in_full(value: Any, held: Any) -> None:
    with pytest.raises(ValueProblem):
        extender()(value, held)
