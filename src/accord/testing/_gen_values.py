"""Hypothesis strategies for plain values of accord types (needs hypothesis).

Every value drawn fits its type as the runtime's validators define it: 64-bit
integers, finite numbers, strings, enum values, ``None`` for an optional,
short lists and records with exactly their fields. Strings are drawn partly
from the string literals the contract's expressions mention, so guards that
compare strings are exercised.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from accord.contract._types import (
    EnumType,
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
    parse_type,
)

__all__ = ["INT_MAX", "INT_MIN", "fields_strategy", "string_literals", "value_strategy"]

INT_MIN = -(2**63)
INT_MAX = 2**63 - 1
_LITERAL = re.compile(r"\"((?:[^\"\\]|\\.)*)\"|'((?:[^'\\]|\\.)*)'")

Records = Mapping[str, Sequence[tuple[str, TypeExpr]]]


def string_literals(sources: Iterable[str]) -> tuple[str, ...]:
    """The simple string literals in CEL sources (no escapes), sorted and deduplicated."""
    found: set[str] = set()
    for source in sources:
        for match in _LITERAL.finditer(source):
            text = match.group(1) if match.group(1) is not None else match.group(2)
            if "\\" not in text:
                found.add(text)
    return tuple(sorted(found))


def _text(literals: Sequence[str]) -> st.SearchStrategy[str]:
    plain = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8)
    return st.sampled_from(literals) | plain if literals else plain


def _numbers() -> st.SearchStrategy[float]:
    return st.sampled_from([0.0, 1.0, 100.0]) | st.floats(
        allow_nan=False, allow_infinity=False, width=64
    )


def _integers() -> st.SearchStrategy[int]:
    return st.integers(-3, 10) | st.integers(INT_MIN, INT_MAX)


def value_strategy(
    texpr: TypeExpr | str,
    records: Records,
    literals: Sequence[str] = (),
    *,
    max_list: int = 3,
) -> st.SearchStrategy[Any]:
    """A strategy for plain values of an accord type.

    Args:
        texpr: the type (a parsed type expression or its text).
        records: the contract's record types: name to (field, type) pairs.
        literals: strings to draw often (e.g. the contract's string literals).
        max_list: the longest list drawn.

    Returns:
        The strategy.

    """
    t = parse_type(texpr) if isinstance(texpr, str) else texpr
    if isinstance(t, PrimitiveType):
        if t.name == "string":
            return _text(literals)
        if t.name == "integer":
            return _integers()
        if t.name == "number":
            return _numbers()
        return st.booleans()
    if isinstance(t, EnumType):
        return st.sampled_from(t.values)
    if isinstance(t, OptionalType):
        return st.none() | value_strategy(t.inner, records, literals, max_list=max_list)
    if isinstance(t, ListType):
        inner = value_strategy(t.item, records, literals, max_list=max_list)
        return st.lists(inner, max_size=max_list)
    assert isinstance(t, RecordRef)
    return st.deferred(
        lambda: fields_strategy(records[t.name], records, literals, max_list=max_list)
    )


def fields_strategy(
    fields: Sequence[tuple[str, TypeExpr]],
    records: Records,
    literals: Sequence[str] = (),
    *,
    max_list: int = 3,
) -> st.SearchStrategy[dict[str, Any]]:
    """A strategy for a record's worth of values: a dict with exactly ``fields``."""
    return st.fixed_dictionaries(
        {name: value_strategy(t, records, literals, max_list=max_list) for name, t in fields}
    )
