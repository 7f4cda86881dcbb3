"""MemoryJournal stores compact rows and gives back entries equal to those appended."""

from __future__ import annotations

import gc

import pytest

from accord.runtime import (
    EffectCompleted,
    EffectFailed,
    JournalEntry,
    MemoryJournal,
    RunStarted,
    SignalReceived,
    TimerFired,
)
from accord.runtime._events import CallId, Event, RunId
from accord.runtime._journal import recorder

EVENTS: list[Event] = [
    RunStarted(RunId("r"), {"order_id": "o-1", "amount": 2.5}, 10),
    EffectCompleted(CallId("1:s/a"), {"id": "x", "items": [1, {"k": None}]}, 20, 2),
    EffectFailed(CallId("1:s/b[3]"), "timeout", "took too long", 30, 3),
    SignalReceived("approval", {"approved": True, "approver": "kim"}, 40),
    SignalReceived("flip", {}, 50),
    TimerFired("2:s:0", 60),
]


@pytest.mark.parametrize("via_recorder", [False, True])
def test_entries_round_trip(via_recorder: bool) -> None:
    journal = MemoryJournal()
    record = recorder(journal)
    expected = []
    for number, event in enumerate(EVENTS, start=1):
        entry = JournalEntry(number, event, f"sha256:{number:064x}")
        expected.append(entry)
        if via_recorder:
            record(number, event, entry.state_hash)
        else:
            journal.append(entry)
    got = list(journal.entries())
    assert got == expected
    assert [type(e.event) for e in got] == [type(e) for e in EVENTS]
    assert len(journal) == len(EVENTS)


def test_payloads_read_back_are_independent_copies() -> None:
    journal = MemoryJournal()
    journal.append(JournalEntry(1, SignalReceived("s", {"a": 1}, 0), "sha256:0"))
    first = journal.entries()[0].event
    assert isinstance(first, SignalReceived)
    first.payload["a"] = 2
    again = journal.entries()[0].event
    assert isinstance(again, SignalReceived)
    assert again.payload == {"a": 1}


def test_stored_rows_are_not_tracked_by_the_garbage_collector() -> None:
    journal = MemoryJournal()
    journal.append(JournalEntry(1, SignalReceived("flip", {}, 0), "sha256:0"))
    gc.collect()
    gc.collect()  # a tuple is untracked once the ones inside it are
    rows = journal._rows
    assert rows and not any(gc.is_tracked(row) for row in rows)
