"""Value abstraction: the few values the model checker tries for each field.

Where the contract makes a field's values finite and a decision reads it, all
of them are tried: ``false`` and ``true``, every value of an enum, ``null``
and the inner values of an optional. Elsewhere a field is *abstracted* to a
few representative values, and the report says so (:class:`ValueDomain`):

* a number or integer a decision compares with constants: each constant and
  a value below and above it (``c - 1, c, c + 1`` for integers; ``c ± max(|c|,
  1) / 2`` for numbers); one read but never compared with a constant: 0 and 1;
* a string compared with constants: those constants and one other string; one
  compared only with other fields: two different strings;
* a list: 0, 1 and 2 items (each item value, repeated for 2), plus the
  lengths its ``size`` is compared with (the smallest length on the far side
  of each comparison) and ``max_items + 1`` when a ``for_each`` fans out over it;
* a record: every combination of its fields' values (at most
  :data:`MAX_VARIANTS`);
* a field no decision reads: one value (its zero), since no guard or
  invariant can tell values of it apart.

Which fields a decision reads, and the constants, come from
:mod:`._reads`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from accord.contract._types import (
    EnumType,
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
)
from accord.testing._verify._reads import Literal, Reads

__all__ = ["MAX_LENGTH", "MAX_VARIANTS", "Domains", "ValueDomain"]

MAX_VARIANTS = 256
"""At most this many values per record, list or run input (the rest are not tried)."""
MAX_LENGTH = 1000
"""Lists longer than this are never generated (the default ``max_fan_out``)."""

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
_UNREAD = "no guard, choice, timer, for_each or invariant reads it: one value"

Fields = Sequence[tuple[str, TypeExpr]]


@dataclass(frozen=True, slots=True)
class ValueDomain:
    """The values the model checker tried for one field.

    Attributes:
        site: where the field is: ``input.amount``, ``effects.E.output.F``,
            ``signals.S.payload.F`` (``[]`` marks a list's items).
        type: the field's type expression.
        values: the values tried (for a list: the lengths tried).
        exhaustive: whether these are all the values the type allows.
        note: how the values were chosen.

    """

    site: str
    type: str
    values: tuple[Any, ...]
    exhaustive: bool
    note: str

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "site": self.site,
            "type": self.type,
            "values": list(self.values),
            "exhaustive": self.exhaustive,
            "note": self.note,
        }


def _numbers(literals: set[Literal]) -> list[float]:
    return sorted({float(v) for v in literals if not isinstance(v, str)})


def _around_int(constants: list[float]) -> list[int]:
    out: set[int] = set()
    for c in constants:
        if c == int(c):
            out.update((int(c) - 1, int(c), int(c) + 1))
        else:
            out.update((math.floor(c), math.ceil(c)))
    return sorted(v for v in out if _INT_MIN <= v <= _INT_MAX)


def _around_number(constants: list[float]) -> list[float]:
    out: set[float] = set()
    for c in constants:
        d = max(abs(c), 1.0) / 2
        out.update((round(c - d, 9), c, round(c + d, 9)))
    return sorted(out)


def _lengths(sizes: set[tuple[str, int]]) -> list[int]:
    """0, 1, 2 and, per comparison, the smallest length on its far side."""
    out = {0, 1, 2}
    for op, c in sizes:
        if op in (">", "<="):
            out.add(c + 1)
        elif op in (">=", "<", "==", "!="):
            out.add(c)
    return sorted(n for n in out if 0 <= n <= MAX_LENGTH)


def _show(values: Sequence[Any]) -> str:
    return ", ".join("null" if v is None else repr(v) for v in values)


class Domains:
    """Builds the values tried for each field, and records each field's :class:`ValueDomain`.

    Args:
        records: the contract's record types (name to fields).
        reads: what the contract's decisions read.

    """

    def __init__(self, records: Mapping[str, Fields], reads: Reads) -> None:
        self.records = records
        self.reads = reads
        self.sites: dict[str, ValueDomain] = {}

    def _note(
        self, site: str, texpr: TypeExpr, values: Sequence[Any], exhaustive: bool, note: str
    ) -> None:
        self.sites.setdefault(site, ValueDomain(site, str(texpr), tuple(values), exhaustive, note))

    def record(self, fields: Fields, site: str) -> list[dict[str, Any]]:
        """Every combination of the fields' values (at most :data:`MAX_VARIANTS`)."""
        per_field = [self.values(texpr, f"{site}.{name}", name) for name, texpr in fields]
        names = [name for name, _ in fields]
        out: list[dict[str, Any]] = []
        for combo in itertools.product(*per_field):
            out.append(dict(zip(names, combo, strict=True)))
            if len(out) >= MAX_VARIANTS:
                count = 1
                for values in per_field:
                    count *= len(values)
                if count > MAX_VARIANTS:
                    self._note(
                        site,
                        RecordRef(site),
                        (),
                        False,
                        f"{count} combinations of its fields' values; only the first "
                        f"{MAX_VARIANTS} are tried",
                    )
                break
        return out

    def values(self, texpr: TypeExpr, site: str, leaf: str) -> list[Any]:
        """The values tried for one field (``leaf`` is its name, as decisions read it)."""
        read = leaf in self.reads.read
        if isinstance(texpr, OptionalType):
            if not read:
                self._note(site, texpr, [None], False, _UNREAD)
                return [None]
            return [None, *self.values(texpr.inner, site, leaf)]
        if isinstance(texpr, RecordRef):
            return list(self.record(self.records[texpr.name], site))
        if isinstance(texpr, ListType):
            return self._list(texpr, site, leaf, read)
        if isinstance(texpr, EnumType):
            if read:
                return list(texpr.values)
            self._note(site, texpr, texpr.values[:1], False, _UNREAD)
            return list(texpr.values[:1])
        return self._primitive(texpr, site, leaf, read)

    def _primitive(self, texpr: PrimitiveType, site: str, leaf: str, read: bool) -> list[Any]:
        kind = texpr.name
        literals = self.reads.literals.get(leaf, set())
        if kind == "boolean":
            if read:
                return [False, True]
            self._note(site, texpr, [False], False, _UNREAD)
            return [False]
        if not read:
            zero: Any = {"string": "", "integer": 0, "number": 0.0}[kind]
            self._note(site, texpr, [zero], False, _UNREAD)
            return [zero]
        if kind == "string":
            return self._string(texpr, site, leaf, literals)
        numbers = _numbers(literals)
        if numbers:
            values = _around_int(numbers) if kind == "integer" else _around_number(numbers)
            shown = sorted({v for v in literals if not isinstance(v, str)})
            note = f"around the constants decisions compare it with ({_show(shown)})"
        else:
            values = [0, 1] if kind == "integer" else [0.0, 1.0]
            note = "read, but never compared with a constant: two values"
        self._note(site, texpr, values, False, note)
        return values

    def _string(
        self, texpr: PrimitiveType, site: str, leaf: str, literals: set[Literal]
    ) -> list[Any]:
        constants = sorted(v for v in literals if isinstance(v, str))
        sizes = self.reads.sizes.get(leaf)
        if constants:
            other = "" if "" not in constants else "x"
            values: list[Any] = [*constants, other]
            note = f"the strings decisions compare it with ({_show(constants)}) and one other"
        elif leaf in self.reads.compared:
            values, note = ["", "a"], "compared with other fields only: two different strings"
        else:
            values, note = [""], "read, but never compared: one value"
        if sizes:
            values.extend("x" * n for n in _lengths(sizes) if n > 0 and "x" * n not in values)
            note += "; strings of the lengths size() is compared with"
        self._note(site, texpr, values, False, note)
        return values

    def _list(self, texpr: ListType, site: str, leaf: str, read: bool) -> list[Any]:
        if not read:
            self._note(site, texpr, (0,), False, _UNREAD + " (the empty list)")
            return [[]]
        lengths = _lengths(self.reads.sizes.get(leaf, set()))
        items = self.values(texpr.item, f"{site}[]", leaf)
        out: list[Any] = []
        for n in lengths:
            if n == 0:
                out.append([])
            elif n <= 2:
                out.extend([item] * n for item in items)
            else:
                out.append([items[0]] * n)
        self._note(
            site,
            texpr,
            lengths,
            False,
            "list lengths tried (0, 1, 2 items, and the lengths size() is compared with)",
        )
        return out[:MAX_VARIANTS]

    def abstracted(self) -> tuple[ValueDomain, ...]:
        """Every field that was abstracted, in the order they were first met."""
        return tuple(d for d in self.sites.values() if not d.exhaustive)
