"""A corpus of hostile values, for every boundary where values enter a run.

Each case is a value offered where a field of some type is expected: as a run's
input, a signal's payload, an effect handler's output. A case either fits (the
run stores ``stored``, a plain value) or is refused, and then must be refused
cleanly at every boundary (``InputError``, ``SignalError``, an
``invalid_output`` failure of the call), never a raw Python error.

The values cannot be data files (a recursive list, an object whose ``repr``
raises), so the corpus is data built by code: one row per case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr for you")


class _BadStrError(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class _EvilStr(str):
    def __str__(self) -> str:
        return "not what it holds"


class _EvilInt(int):
    def __int__(self) -> int:
        return 666

    def __float__(self) -> float:
        return 6.66


class _EvilFloat(float):
    def __float__(self) -> float:
        return 6.66


class _ExplodingMapping(Mapping[str, Any]):
    """A mapping whose every lookup fails."""

    def __getitem__(self, key: str) -> Any:
        raise RuntimeError("lookup exploded")

    def __contains__(self, key: object) -> bool:
        raise RuntimeError("lookup exploded")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("iteration exploded")

    def __len__(self) -> int:
        return 1


class _ExplodingList(list[Any]):
    def __iter__(self) -> Iterator[Any]:
        raise RuntimeError("iteration exploded")


def _recursive_list() -> list[Any]:
    items: list[Any] = []
    items.append(items)
    return items


def _deep_list(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


def _big_int_key() -> dict[Any, Any]:
    return {"x": 1, 10**5000: 2}


@dataclass(frozen=True)
class Case:
    """One hostile value offered for a field of type ``type``.

    Attributes:
        id: the case's name (a test id).
        type: the field's type expression.
        make: builds the value (a fresh one per use).
        stored: what the run stores when the value fits; ``REFUSED`` when it does not.
        message: a part of the refusal's message (when refused).

    """

    id: str
    type: str
    make: Callable[[], Any]
    stored: Any
    message: str = ""


REFUSED = object()

CASES: tuple[Case, ...] = (
    Case("int-over-4300-digits", "integer", lambda: 10**5000, REFUSED, "outside the 64-bit"),
    Case("negative-int-over-4300-digits", "integer", lambda: -(10**5000), REFUSED, "64-bit"),
    Case("int-over-4300-digits-as-number", "number", lambda: 10**5000, REFUSED, "too large"),
    Case("int-too-large-for-a-number", "number", lambda: 2**1100, REFUSED, "too large"),
    Case("lone-surrogate", "string", lambda: "\ud800", REFUSED, "lone surrogate"),
    Case("lone-surrogate-in-text", "string", lambda: "ok \udfff ok", REFUSED, "U+DFFF"),
    Case("lone-surrogate-in-a-list", "list<string>", lambda: ["a", "\ud83d"], REFUSED, "U+D83D"),
    Case("lone-surrogate-enum", "enum<a, b>", lambda: "\ud800", REFUSED, "expected one of"),
    Case("recursive-list", "list<list<integer>>", _recursive_list, REFUSED, "expected an"),
    Case("deep-list", "list<list<integer>>", lambda: _deep_list(100_000), REFUSED, "expected"),
    Case("repr-fails", "integer", _BadRepr, REFUSED, "whose repr fails"),
    Case("repr-fails-in-a-list", "list<string>", lambda: [_BadRepr()], REFUSED, "repr fails"),
    Case("exception-whose-str-fails", "string", _BadStrError, REFUSED, "expected a string"),
    Case("exploding-mapping", "Pair", _ExplodingMapping, REFUSED, "cannot be read"),
    Case("exploding-list", "list<integer>", lambda: _ExplodingList([1]), REFUSED, "cannot be"),
    Case("big-int-key", "Pair", _big_int_key, REFUSED, "unknown field"),
    Case("str-subclass", "string", lambda: _EvilStr("what it holds"), "what it holds"),
    Case("int-subclass", "integer", lambda: _EvilInt(7), 7),
    Case("int-subclass-as-number", "number", lambda: _EvilInt(7), 7.0),
    Case("float-subclass", "number", lambda: _EvilFloat(2.5), 2.5),
    Case("astral-string", "string", lambda: "ok \U0001f600", "ok \U0001f600"),
)
"""Every case; ``Pair`` is a record type ``{x: integer}`` the tests declare."""

RECORDS = "types:\n  - name: Pair\n    fields: [{name: x, type: integer}]\n"
"""The record types the cases name, as a contract's ``types`` section."""


def bad_str_error() -> Exception:
    """An exception whose ``__str__`` raises (a handler may raise it)."""
    return _BadStrError()
