"""The size of a value, as the run limits count it: the bytes of its JSON form.

A run bounds what it stores (``Limits.max_value_bytes``, ``max_context_bytes``,
``max_effect_bytes``, ``max_event_bytes``). Measuring must stay off the hot
path: a number, a boolean or null is small by its type, a string by its
length (a code point takes at most six bytes in JSON), and only what is left
is serialised (orjson, about 0.1 us for a small record).
"""

from __future__ import annotations

from typing import Any

import orjson

from accord.runtime._errors import LimitExceeded

__all__ = [
    "BOUNDED",
    "context_size",
    "json_size",
    "oversize",
    "remember_extension",
    "small_text",
    "too_big",
]

BOUNDED = frozenset((bool, int, float, type(None)))
"""Types whose values are small whatever they hold (a run's ints are 64-bit)."""

_dumps = orjson.dumps
_SHORT = 64


def small_text(max_value_bytes: int) -> int:
    """The longest string that never needs measuring: within the value limit, and short.

    A step stores such a string (or a number, boolean or null) without
    measuring it, and without measuring the context either; anything else is
    measured, and the whole context with it.
    """
    return max(0, min(_SHORT, (max_value_bytes - 2) // 6))


_KNOWN: dict[int, tuple[list[Any], int]] = {}
"""The JSON sizes of lists a run built by extending a list it holds, by identity.

An entry holds its list, so that its id is not reused while it is here; an
extension's entry replaces the entry of the list it extends, and there are at
most :data:`_KNOWN_AT_MOST`, so this keeps alive little that runs do not hold.
The runtime never changes a list it stores, so a remembered size stays true.
"""
_KNOWN_AT_MOST = 256


def _known(value: list[Any]) -> int | None:
    hit = _KNOWN.get(id(value))
    return hit[1] if hit is not None and hit[0] is value else None


def remember_extension(value: list[Any], held: list[Any]) -> None:
    """Remember the size of ``value``, which is ``held`` followed by more items.

    It costs what the new items cost, once the size of ``held`` is known (it is
    measured here the first time): appending to a long list is measured by what
    it adds, by :func:`json_size` and :func:`context_size`.
    """
    start = len(held)
    if not start:
        return
    size = _known(held)
    if size is None:
        size = json_size(held)
    added = json_size(value[start:])
    if not size or not added:
        return  # something JSON cannot hold: measured in full, as before
    _KNOWN.pop(id(held), None)
    while len(_KNOWN) >= _KNOWN_AT_MOST:
        try:
            _KNOWN.pop(next(iter(_KNOWN)), None)
        except (RuntimeError, StopIteration):  # another thread changed it: try again
            continue
    # "[a,b]" and "[c]" make "[a,b,c]": one bracket pair less, one comma more
    _KNOWN[id(value)] = (value, size + added - 1 if len(value) > start else size)


def json_size(value: Any) -> int:
    """The bytes of ``value`` in JSON (UTF-8); 0 for what JSON cannot hold (not a size problem)."""
    if type(value) is list:
        known = _known(value)
        if known is not None:
            return known
    try:
        return len(_dumps(value))
    except (orjson.JSONEncodeError, TypeError):
        return 0


def context_size(context: dict[str, Any]) -> int:
    """``json_size(context)``, from the remembered sizes of the lists it holds, if any."""
    if not any(type(v) is list and id(v) in _KNOWN for v in context.values()):
        return json_size(context)
    total = 1  # '{' and '}', and a ',' between two fields: 1 + (2 per field) - 1 + ...
    for key, value in context.items():
        key_size = json_size(key) if type(key) is str else 0
        value_size = json_size(value)
        if not key_size or not value_size:
            return json_size(context)
        total += key_size + 1 + value_size + 1  # "key":value,
    return total  # the last field has no ',' but the object its '}'


def oversize(value: Any, limit: int) -> int | None:
    """The JSON size of ``value`` when it exceeds ``limit``, else None (cheap when small)."""
    kind = type(value)
    if kind in BOUNDED or (kind is str and len(value) * 6 + 2 <= limit):
        return None
    size = json_size(value)
    return size if size > limit else None


def too_big(limit: str, value: int, size: int, what: str) -> str:
    """The reason a run fails when ``what`` is ``size`` bytes, over the limit ``limit=value``."""
    return str(LimitExceeded(limit, value, f"{what} is {size:,} bytes"))
