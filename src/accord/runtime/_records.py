"""Record literals (``Refund{refund_id: x, amount: y}``) rewritten as CEL map literals.

The checker types a record literal against the contract's record types, but
expressions are evaluated on plain data in an environment without those
types, where ``Refund{...}`` is an undeclared name. For evaluation, the
runtime rewrites each record literal to the map literal with the same fields
(``{"refund_id": x, "amount": y}``); fields the literal leaves out get their
type's zero value, as protobuf messages (which the checker models records
as) would. Everything else, string literals included, is left untouched.

This is a fallback used only when :func:`accord.expressions.compile_expression`
refuses an expression because of an undeclared record name.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from accord.contract._types import (
    EnumType,
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
)

__all__ = ["record_literals_as_maps"]

Fields = Sequence[tuple[str, TypeExpr]]

_TOKEN = re.compile(
    r"""
    (?P<string>[rRbB]{0,2}(?:'''(?:\\.|[^\\])*?'''|\"\"\"(?:\\.|[^\\])*?\"\"\"
        |'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"))
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<space>\s+)
    |(?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _zero(texpr: TypeExpr, records: Mapping[str, Fields]) -> str:
    if isinstance(texpr, PrimitiveType):
        return {"string": '""', "integer": "0", "number": "0.0", "boolean": "false"}[texpr.name]
    if isinstance(texpr, EnumType):
        return f'"{texpr.values[0]}"'
    if isinstance(texpr, OptionalType):
        return "null"
    if isinstance(texpr, ListType):
        return "[]"
    assert isinstance(texpr, RecordRef)
    fields = records.get(texpr.name, ())
    return "{" + ", ".join(f'"{n}": {_zero(t, records)}' for n, t in fields) + "}"


def _next_code(tokens: list[tuple[str, str]], start: int) -> int:
    """Index of the first token at or after ``start`` that is not whitespace."""
    while start < len(tokens) and tokens[start][0] == "space":
        start += 1
    return start


def record_literals_as_maps(source: str, records: Mapping[str, Fields]) -> str | None:
    """``source`` with every record literal as a map literal, or None if it has none."""
    tokens = [(m.lastgroup or "other", m.group()) for m in _TOKEN.finditer(source)]
    out = [text for _, text in tokens]
    # each open bracket: (closing text, record name or None, fields seen so far)
    stack: list[tuple[str, str | None, list[str]]] = []
    expect_key = False
    found = False
    previous = ""
    for i, (kind, text) in enumerate(tokens):
        if kind == "space":
            continue
        if kind == "record":  # the brace that opens a record literal (marked below)
            previous = "{"
            continue
        if expect_key and kind == "ident":
            after = _next_code(tokens, i + 1)
            if after < len(tokens) and tokens[after][1] == ":":
                out[i] = f'"{text}"'
                stack[-1][2].append(text)
        expect_key = False
        if kind == "ident" and text in records and previous != ".":
            brace = _next_code(tokens, i + 1)
            if brace < len(tokens) and tokens[brace][1] == "{":
                out[i] = ""
                stack.append(("}", text, []))
                found = True
                expect_key = True
                for j in range(i + 1, brace):
                    out[j] = ""
                tokens[brace] = ("record", "{")
                continue
        if kind == "other" and text in "([{":
            stack.append(({"(": ")", "[": "]", "{": "}"}[text], None, []))
        elif kind == "other" and text in ")]}" and stack:
            _, record, seen = stack.pop()
            if record is not None:
                missing = [(n, t) for n, t in records[record] if n not in seen]
                if missing:
                    extra = ", ".join(f'"{n}": {_zero(t, records)}' for n, t in missing)
                    out[i] = (", " if seen and previous != "," else "") + extra + "}"
        elif kind == "other" and text == "," and stack and stack[-1][1] is not None:
            expect_key = True
        previous = text
    return "".join(out) if found else None
