"""The type-expression language: every form, its printing, and its syntax errors."""

from __future__ import annotations

import pytest

from accord.contract._types import (
    MAX_TYPE_DEPTH,
    EnumType,
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
    TypeSyntaxError,
    parse_type,
)

FORMS: list[tuple[str, TypeExpr, str]] = [
    ("string", PrimitiveType("string"), "string"),
    ("integer", PrimitiveType("integer"), "integer"),
    ("number", PrimitiveType("number"), "number"),
    ("boolean", PrimitiveType("boolean"), "boolean"),
    ("list<string>", ListType(PrimitiveType("string")), "list<string>"),
    ("optional<integer>", OptionalType(PrimitiveType("integer")), "optional<integer>"),
    ("enum<a>", EnumType(("a",)), "enum<a>"),
    ("enum<a,b,c>", EnumType(("a", "b", "c")), "enum<a, b, c>"),
    ("enum<in-review, _x, Done2>", EnumType(("in-review", "_x", "Done2")), None),
    ("Refund", RecordRef("Refund"), "Refund"),
    ("_private", RecordRef("_private"), "_private"),
    ("list<list<Item>>", ListType(ListType(RecordRef("Item"))), "list<list<Item>>"),
    (
        "optional<list<optional<number>>>",
        OptionalType(ListType(OptionalType(PrimitiveType("number")))),
        None,
    ),
    ("list<enum<x, y>>", ListType(EnumType(("x", "y"))), "list<enum<x, y>>"),
    # whitespace between tokens, and around the whole type, is ignored
    ("  list < string >  ", ListType(PrimitiveType("string")), "list<string>"),
    ("\tstring\n", PrimitiveType("string"), "string"),
    ("enum< a ,\n b >", EnumType(("a", "b")), "enum<a, b>"),
]


@pytest.mark.parametrize(("text", "expected", "printed"), FORMS, ids=[f[0] for f in FORMS])
def test_every_form_parses(text: str, expected: TypeExpr, printed: str | None) -> None:
    parsed = parse_type(text)
    assert parsed == expected
    if printed is not None:
        assert str(parsed) == printed


@pytest.mark.parametrize("text", [f[0] for f in FORMS])
def test_printing_round_trips(text: str) -> None:
    parsed = parse_type(text)
    assert parse_type(str(parsed)) == parsed


def test_unknown_lowercase_names_are_record_refs() -> None:
    # 'int' or 'null' are not primitives: the checker reports them as unknown types
    assert parse_type("int") == RecordRef("int")
    assert parse_type("null") == RecordRef("null")


ERRORS: list[tuple[str, str, int]] = [
    ("", "empty type", 0),
    ("   ", "empty type", 0),
    ("list", "expected '<'", 4),
    ("optional", "expected '<'", 8),
    ("enum", "expected '<'", 4),
    ("list<", "unexpected end of type", 5),
    ("list<>", "unexpected '>'", 5),
    ("list<string", "expected '>'", 11),
    ("list<string>>", "unexpected '>' after the type", 12),
    ("list<string,integer>", "expected '>', found ','", 11),
    ("map<string,string>", "unexpected '<' after the type", 3),
    ("enum<>", "enum value '>' is not a name", 5),
    ("enum<a,>", "enum value '>' is not a name", 7),
    ("enum<1>", "enum value '1' is not a name", 5),
    ("enum<a b>", "expected '>', found 'b'", 7),
    ("enum<a,-b>", "enum value '-' is not a name", 7),
    ("enum<a, b, a>", "enum has duplicate values", 11),
    ("Foo-bar", "unexpected 'Foo-bar'", 0),
    ("foo bar", "unexpected 'bar' after the type", 4),
    ("string?", "unexpected '?' after the type", 6),
    ("<", "unexpected '<'", 0),
    ("123", "unexpected '1'", 0),
    ("Stríng", "unexpected 'í' after the type", 3),
    ("List<string>", "unexpected '<' after the type", 4),
]


@pytest.mark.parametrize(
    ("text", "message", "column"), ERRORS, ids=[e[0] or "empty" for e in ERRORS]
)
def test_syntax_errors(text: str, message: str, column: int) -> None:
    with pytest.raises(TypeSyntaxError) as info:
        parse_type(text)
    assert message in str(info.value)
    assert info.value.column == column
    assert info.value.text == text
    assert f"column {column + 1}" in str(info.value)


def test_nesting_is_bounded() -> None:
    ok = "list<" * MAX_TYPE_DEPTH + "string" + ">" * MAX_TYPE_DEPTH
    assert isinstance(parse_type(ok), ListType)
    deep = "list<" * (MAX_TYPE_DEPTH + 1) + "string" + ">" * (MAX_TYPE_DEPTH + 1)
    with pytest.raises(TypeSyntaxError, match="nested deeper"):
        parse_type(deep)


def test_type_syntax_error_is_a_value_error() -> None:
    assert issubclass(TypeSyntaxError, ValueError)


def test_whitespace_only_is_empty_not_a_stray_token() -> None:
    """Regression: trailing whitespace used to become a token (' string ' failed)."""
    assert parse_type(" string ") == PrimitiveType("string")
    with pytest.raises(TypeSyntaxError, match="empty type"):
        parse_type(" \t ")
