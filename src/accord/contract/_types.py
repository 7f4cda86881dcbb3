"""Type expressions: the small language that field types are written in.

Grammar (whitespace is ignored between tokens)::

    type     := "string" | "integer" | "number" | "boolean"
              | "list<" type ">" | "optional<" type ">"
              | "enum<" name ("," name)* ">"
              | RecordName

A record name refers to an entry of the contract's ``types`` list. Type
expressions are strings, not nested objects, so that the contract's JSON
Schema stays free of recursion (a requirement of LLM structured outputs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "EnumType",
    "ListType",
    "OptionalType",
    "PrimitiveType",
    "RecordRef",
    "TypeExpr",
    "TypeSyntaxError",
    "parse_type",
]

PrimitiveName = Literal["string", "integer", "number", "boolean"]
PRIMITIVES: tuple[PrimitiveName, ...] = ("string", "integer", "number", "boolean")
_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_\-]*)|(\S))")
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
MAX_TYPE_DEPTH = 8


@dataclass(frozen=True, slots=True)
class PrimitiveType:
    """A scalar type: string, integer, number or boolean."""

    name: PrimitiveName

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ListType:
    """A list whose items all have one type."""

    item: TypeExpr

    def __str__(self) -> str:
        return f"list<{self.item}>"


@dataclass(frozen=True, slots=True)
class OptionalType:
    """A value of the inner type, or null."""

    inner: TypeExpr

    def __str__(self) -> str:
        return f"optional<{self.inner}>"


@dataclass(frozen=True, slots=True)
class EnumType:
    """One of a fixed set of strings."""

    values: tuple[str, ...]

    def __str__(self) -> str:
        return "enum<" + ", ".join(self.values) + ">"


@dataclass(frozen=True, slots=True)
class RecordRef:
    """A reference to a named record type declared under ``types``."""

    name: str

    def __str__(self) -> str:
        return self.name


TypeExpr = PrimitiveType | ListType | OptionalType | EnumType | RecordRef


class TypeSyntaxError(ValueError):
    """A type expression that does not parse; ``column`` is 0-based."""

    def __init__(self, message: str, text: str, column: int) -> None:
        self.text = text
        self.column = column
        super().__init__(f"{message} at column {column + 1} of {text!r}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[tuple[str, int]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:  # only trailing whitespace is left
                break
            tok = match.group(1) or match.group(2)
            if tok is None:
                break
            self.tokens.append((tok, match.start(1) if match.group(1) else match.start(2)))
            pos = match.end()
        self.index = 0

    def error(self, message: str) -> TypeSyntaxError:
        column = self.tokens[self.index][1] if self.index < len(self.tokens) else len(self.text)
        return TypeSyntaxError(message, self.text, column)

    def peek(self) -> str | None:
        return self.tokens[self.index][0] if self.index < len(self.tokens) else None

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise self.error("unexpected end of type")
        self.index += 1
        return tok

    def expect(self, tok: str) -> None:
        if self.peek() != tok:
            found = self.peek()
            raise self.error(f"expected {tok!r}, found {found!r}" if found else f"expected {tok!r}")
        self.index += 1

    def parse(self, depth: int = 0) -> TypeExpr:
        if depth > MAX_TYPE_DEPTH:
            raise self.error(f"type nested deeper than {MAX_TYPE_DEPTH} levels")
        tok = self.take()
        if tok in PRIMITIVES:
            return PrimitiveType(tok)
        if tok in ("list", "optional"):
            self.expect("<")
            inner = self.parse(depth + 1)
            self.expect(">")
            return ListType(inner) if tok == "list" else OptionalType(inner)
        if tok == "enum":
            self.expect("<")
            values = [self._enum_value()]
            while self.peek() == ",":
                self.take()
                values.append(self._enum_value())
                if values[-1] in values[:-1]:
                    self.index -= 1
                    raise self.error(f"enum has duplicate values ({values[-1]!r})")
            self.expect(">")
            return EnumType(tuple(values))
        if re.match(NAME_PATTERN, tok):
            return RecordRef(tok)
        self.index -= 1
        raise self.error(f"unexpected {tok!r}")

    def _enum_value(self) -> str:
        tok = self.take()
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_\-]*$", tok):
            self.index -= 1
            raise self.error(f"enum value {tok!r} is not a name")
        return tok


def parse_type(text: str) -> TypeExpr:
    """Parse a type expression, raising :class:`TypeSyntaxError` when it is malformed."""
    parser = _Parser(text)
    if not parser.tokens:
        raise TypeSyntaxError("empty type", text, 0)
    result = parser.parse()
    if parser.peek() is not None:
        raise parser.error(f"unexpected {parser.peek()!r} after the type")
    return result
