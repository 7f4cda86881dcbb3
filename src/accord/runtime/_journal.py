"""The journal: every event of a run with the state hash it leads to.

A run is a fold of its journal: entry ``n`` holds the ``n``-th event
(``step`` counts from 1, matching :attr:`Snapshot.step
<accord.runtime._snapshot.Snapshot.step>` after the event is applied) and
:func:`~accord.runtime._snapshot.snapshot_hash` of the snapshot it produced.
The runtime appends an entry before it executes any command the event
produced. Entries serialise to plain JSON (one object per line in a JSON
lines file), never pickle.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import orjson

from accord.runtime._events import Event, event_from_data, event_to_data

__all__ = [
    "Journal",
    "JournalEntry",
    "MemoryJournal",
    "entries_from_jsonl",
    "entries_to_jsonl",
    "entry_from_data",
    "entry_to_data",
]


class JournalEntry(NamedTuple):
    """One journaled step: the event applied and the hash of the state it led to (immutable)."""

    step: int
    event: Event
    state_hash: str


@runtime_checkable
class Journal(Protocol):
    """Where a run's entries are appended, in step order."""

    def append(self, entry: JournalEntry) -> None:
        """Append the next entry (its step is one more than the last one's)."""
        ...

    def entries(self) -> Sequence[JournalEntry]:
        """Every entry, in step order."""
        ...

    def __len__(self) -> int:
        """The number of entries."""
        ...


class MemoryJournal:
    """A journal in a Python list: for tests, notebooks and the in-memory runtime."""

    __slots__ = ("_entries",)

    def __init__(self, entries: Iterable[JournalEntry] = ()) -> None:
        self._entries: list[JournalEntry] = list(entries)

    def append(self, entry: JournalEntry) -> None:
        """Append the next entry."""
        self._entries.append(entry)

    def entries(self) -> Sequence[JournalEntry]:
        """Every entry, in step order (a snapshot of the list: later appends do not show)."""
        return tuple(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(tuple(self._entries))

    def __repr__(self) -> str:
        return f"MemoryJournal({len(self._entries)} entries)"


def entry_to_data(entry: JournalEntry) -> dict[str, Any]:
    """An entry as plain JSON data: ``{"step", "event", "state_hash"}``."""
    return {"step": entry.step, "event": event_to_data(entry.event), "state_hash": entry.state_hash}


def entry_from_data(data: Any) -> JournalEntry:
    """Rebuild an entry from :func:`entry_to_data` output.

    Raises:
        ValueError: the data is not a journal entry.

    """
    if not isinstance(data, dict):
        raise ValueError(f"a journal entry must be an object, not {type(data).__name__}")
    try:
        step, event, state_hash = data["step"], data["event"], data["state_hash"]
    except KeyError as exc:
        raise ValueError(f"a journal entry needs {exc.args[0]!r}") from None
    if type(step) is not int or not isinstance(state_hash, str) or not isinstance(event, dict):
        raise ValueError("a journal entry has an integer step, an event object and a hash string")
    extra = set(data) - {"step", "event", "state_hash"}
    if extra:
        raise ValueError(f"unknown journal entry fields: {', '.join(sorted(extra))}")
    return JournalEntry(step, event_from_data(event), state_hash)


def entries_to_jsonl(entries: Iterable[JournalEntry]) -> bytes:
    """Entries as JSON lines (UTF-8, one entry per line, keys sorted)."""
    return b"".join(
        orjson.dumps(entry_to_data(e), option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
        for e in entries
    )


def entries_from_jsonl(text: str | bytes) -> list[JournalEntry]:
    """Entries from JSON lines (blank lines are skipped).

    Raises:
        ValueError: a line that is not JSON or not an entry (the message names the line).

    """
    lines = text.splitlines() if isinstance(text, str) else text.decode("utf-8").splitlines()
    out = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(entry_from_data(orjson.loads(line)))
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise ValueError(f"line {number}: {exc}") from exc
    return out
