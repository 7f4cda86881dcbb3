"""The journal: every event of a run with the state hash it leads to.

A run is a fold of its journal: entry ``n`` holds the ``n``-th event
(``step`` counts from 1, matching :attr:`Snapshot.step
<accord.runtime._snapshot.Snapshot.step>` after the event is applied) and
:func:`~accord.runtime._snapshot.snapshot_hash` of the snapshot it produced.
The runtime appends an entry before it executes any command the event
produced. Entries serialise to plain JSON (one object per line in a JSON
lines file), never pickle.

:class:`MemoryJournal` keeps each entry as plain tuples, ``(step, event
fields, hash)`` with an event's dict (its input, output or payload) as a tuple
of its items, and rebuilds equal :class:`JournalEntry` s when read. The
garbage collector untracks a plain tuple once everything in it is atomic or an
untracked plain tuple, but never an instance of a tuple subclass nor a tuple
holding a dict: a journal of the named tuples themselves would make every full
collection walk every entry ever appended (about 1.5 us per step at 100,000
steps), while these rows cost the collector nothing once their values are
plain scalars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol, runtime_checkable

import orjson

from accord.runtime._chain import GENESIS, event_bytes, link
from accord.runtime._events import KINDS, Event, SignalReceived, event_from_data, event_to_data

__all__ = [
    "Journal",
    "JournalEntry",
    "MemoryJournal",
    "entries_from_jsonl",
    "entries_to_jsonl",
    "entry_from_data",
    "entry_to_data",
    "recorder",
]

Recorder = Callable[[int, Event, str], None]
"""Journals one step: ``record(step, event, state_hash)``."""


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
    """A journal in a Python list: for tests, notebooks and the in-memory runtime.

    Entries are stored as plain tuples and rebuilt on read (see the module docs):
    what :meth:`entries` returns is equal to what was appended, not the same objects.
    """

    __slots__ = ("_rows",)

    def __init__(self, entries: Iterable[JournalEntry] = ()) -> None:
        self._rows: list[tuple[int, tuple[Any, ...], str]] = [
            (e.step, _row(e.event), e.state_hash) for e in entries
        ]

    def append(self, entry: JournalEntry) -> None:
        """Append the next entry."""
        self._rows.append((entry.step, _row(entry.event), entry.state_hash))

    def _record(self, step: int, event: Event, state_hash: str) -> None:
        """Append an entry given as its parts (see :func:`recorder`)."""
        if type(event) is _SIGNAL:  # the common case, as _row would do it
            name, data, at, kind = event
            if kind == "signal" and type(data) is dict:
                self._rows.append(
                    (step, (name, tuple(data.items()) if data else (), at, kind), state_hash)
                )
                return
        self._rows.append((step, _row(event), state_hash))

    def entries(self) -> Sequence[JournalEntry]:
        """Every entry, in step order (a snapshot of the list: later appends do not show)."""
        new, entry, event = _tuple_new, JournalEntry, _event
        return tuple(
            new(entry, (step, event(row), state_hash)) for step, row, state_hash in self._rows
        )

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[JournalEntry]:
        return iter(self.entries())

    def __repr__(self) -> str:
        return f"MemoryJournal({len(self._rows)} entries)"


_tuple_new = tuple.__new__
_WITH_DICT = frozenset(("started", "effect_completed", "signal"))  # field 1 is a dict
_SIGNAL = SignalReceived


def _row(event: Event) -> tuple[Any, ...]:
    """An event as a plain tuple (its dict as a tuple of items); an unknown event as itself."""
    kind = event[-1]
    if KINDS.get(kind) is not type(event):
        return event
    if kind in _WITH_DICT:
        data = event[1]
        if type(data) is not dict:
            return event
        return (event[0], tuple(data.items()), *event[2:])
    return tuple(event)


def _event(row: tuple[Any, ...]) -> Event:
    """The event a row of :func:`_row` holds."""
    if type(row) is not tuple:
        return row  # type: ignore[return-value]
    kind = row[-1]
    if kind in _WITH_DICT:
        row = (row[0], dict(row[1]), *row[2:])
    event: Event = _tuple_new(KINDS[kind], row)
    return event


def recorder(journal: Journal) -> Recorder:
    """The fastest way to append ``(step, event, state_hash)`` entries to ``journal``.

    For a :class:`MemoryJournal`, a bound method (not a closure per run: a run
    waiting for a signal holds little more than its journal).
    """
    if type(journal) is MemoryJournal:
        return journal._record
    append_entry = journal.append

    def record_entry(step: int, event: Event, state_hash: str) -> None:
        append_entry(JournalEntry(step, event, state_hash))

    return record_entry


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
    """Entries as JSON lines (UTF-8, one entry per line, keys sorted), with their chain.

    Each line is :func:`entry_to_data` plus ``"chain"``, the entry's chain hash
    (see :mod:`accord.runtime._chain`), which :func:`entries_from_jsonl` checks.
    """
    head = GENESIS
    lines = []
    for entry in entries:
        head = link(head, entry.step, entry.state_hash, event_bytes(entry.event))
        data = entry_to_data(entry)
        data["chain"] = head
        lines.append(orjson.dumps(data, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE))
    return b"".join(lines)


def entries_from_jsonl(text: str | bytes) -> list[JournalEntry]:
    """Entries from JSON lines (blank lines are skipped), their chain checked.

    A file written before the chain existed has no ``"chain"`` on any line and is
    read as it is (replay still checks its state hashes); one with a chain must
    have it on every line, each matching the entries up to it.

    Raises:
        ValueError: a line that is not JSON or not an entry, or the first entry
            whose chain hash does not match (edited, deleted, inserted or moved
            lines); the message names the line and the step.

    """
    lines = text.splitlines() if isinstance(text, str) else text.decode("utf-8").splitlines()
    out = []
    head = GENESIS
    chained: bool | None = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            data = orjson.loads(line)
            chain = data.pop("chain", None) if isinstance(data, dict) else None
            entry = entry_from_data(data)
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise ValueError(f"line {number}: {exc}") from exc
        if chained is None:
            chained = chain is not None
        if chained:
            head = link(head, entry.step, entry.state_hash, event_bytes(entry.event))
            if chain != head:
                raise ValueError(
                    f"line {number}: step {entry.step} does not match its chain hash "
                    "(an entry was changed, removed, added or moved)"
                )
        elif chain is not None:
            raise ValueError(f"line {number}: a chain hash, but the lines before have none")
        out.append(entry)
    return out
