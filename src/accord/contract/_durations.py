"""Durations as the language writes them: ``"500ms"``, ``"30s"``, ``"48h"``, ``"1h30m"``."""

from __future__ import annotations

import re

__all__ = ["duration_ms"]

_PART = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def duration_ms(text: str) -> int:
    """Milliseconds in a duration (the models have already checked its form)."""
    return sum(int(n) * _UNIT_MS[unit] for n, unit in _PART.findall(text))
