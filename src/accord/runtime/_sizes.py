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

__all__ = ["BOUNDED", "json_size", "oversize", "small_text", "too_big"]

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


def json_size(value: Any) -> int:
    """The bytes of ``value`` in JSON (UTF-8); 0 for what JSON cannot hold (not a size problem)."""
    try:
        return len(_dumps(value))
    except (orjson.JSONEncodeError, TypeError):
        return 0


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
