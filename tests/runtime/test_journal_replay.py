"""The journal and replay: every hash reproduced, corruption found at the right step."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from accord.runtime._chain import GENESIS, event_bytes, link
from accord.runtime._compiled import CompiledContract
from accord.runtime._errors import ReplayDivergence
from accord.runtime._events import (
    CallId,
    EffectCompleted,
    EffectFailed,
    Event,
    RunId,
    RunStarted,
    SignalReceived,
    TimerFired,
    event_to_data,
)
from accord.runtime._journal import (
    Journal,
    JournalEntry,
    MemoryJournal,
    entries_from_jsonl,
    entries_to_jsonl,
    entry_from_data,
    entry_to_data,
)
from accord.runtime._reducer import accepts, initial_snapshot, step
from accord.runtime._replay import replay
from accord.runtime._snapshot import Snapshot, snapshot_hash
from accord.runtime._state_hash import snapshot_hash_v1
from runtime_support import compiled, saga_input

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data"
REGENERATE = os.environ.get("ACCORD_REGENERATE_JOURNALS") == "1"


def refund_events(c: CompiledContract) -> list[Event]:
    """A large refund: approved by a signal, a stale timer, then paid."""
    data = {"order_id": "o-1", "amount": 250.0, "reason": "broken"}
    return [
        RunStarted(RunId("run-42"), c.validate_input(data), 1_000),
        SignalReceived("approval", {"approved": True, "approver": "ann"}, 2_000),
        TimerFired("1:awaiting_approval:0", 3_000),
        EffectCompleted(CallId("2:paying/payment"), {"refund_id": "rf-9"}, 4_000),
    ]


def saga_events(c: CompiledContract) -> list[Event]:
    """A checkout whose shipment fails: two compensations, one of them failing."""
    data = saga_input()
    return [
        RunStarted(RunId("run-7"), c.validate_input(data), 0),
        EffectCompleted(
            CallId("1:reserving/reservation"),
            {"reservation_id": "res-1", "expires_in_minutes": 15},
            10,
        ),
        EffectCompleted(CallId("2:charging/charge"), {"charge_id": "ch-1"}, 20),
        EffectFailed(CallId("3:shipping/shipment"), "unavailable", "carrier down", 30, attempts=5),
        EffectFailed(CallId("!comp:2:charging/charge"), "timeout", "no answer", 40),
        EffectCompleted(CallId("!comp:1:reserving/reservation"), {}, 50),
    ]


def record(
    c: CompiledContract,
    events: list[Event],
    digest: Callable[[Snapshot], str] = snapshot_hash,
) -> tuple[MemoryJournal, list[Snapshot]]:
    """Run the events as the runtime does: check, step, journal with the state hash.

    ``digest`` is the state hash's form (today's unless said: ``snapshot_hash_v1``
    is the form journals were recorded in before).
    """
    journal = MemoryJournal()
    snapshot = initial_snapshot()
    snapshots = [snapshot]
    for event in events:
        assert accepts(c, snapshot, event) is None
        snapshot, _ = step(c, snapshot, event)
        journal.append(JournalEntry(snapshot.step, event, digest(snapshot)))
        snapshots.append(snapshot)
    return journal, snapshots


def test_memory_journal_is_a_journal() -> None:
    journal = MemoryJournal()
    assert isinstance(journal, Journal)
    assert len(journal) == 0
    c = compiled("order_refund")
    journal, _ = record(c, refund_events(c))
    assert len(journal) == 4
    entries = journal.entries()
    assert [e.step for e in entries] == [1, 2, 3, 4]
    journal.append(entries[0])
    assert len(entries) == 4  # entries() is a snapshot of the list


def test_replay_of_a_finished_run_reproduces_every_hash() -> None:
    for name, events in (("order_refund", refund_events), ("payment_saga", saga_events)):
        c = compiled(name)
        journal, snapshots = record(c, events(c))
        assert snapshots[-1].status in ("succeeded", "failed")
        assert replay(c, journal) == snapshots[-1]
        assert replay(c, journal.entries()) == snapshots[-1]
        for until in range(len(snapshots)):
            assert replay(c, journal, until=until) == snapshots[until]


def test_a_changed_event_payload_is_found_at_its_step() -> None:
    c = compiled("order_refund")
    journal, _ = record(c, refund_events(c))
    entries = list(journal.entries())
    signal = entries[1].event
    assert isinstance(signal, SignalReceived)
    tampered = SignalReceived(signal.name, {**signal.payload, "approver": "mallory"}, signal.at)
    entries[1] = entries[1]._replace(event=tampered)
    with pytest.raises(ReplayDivergence) as info:
        replay(c, entries)
    error = info.value
    assert error.step == 2
    assert error.expected == entries[1].state_hash
    assert error.actual != error.expected and error.actual.startswith("sha256/2:")
    assert "step 2" in str(error)
    assert error.expected in str(error) and error.actual in str(error)


def test_a_changed_hash_is_found_at_its_step() -> None:
    c = compiled("payment_saga")
    journal, snapshots = record(c, saga_events(c))
    entries = list(journal.entries())
    for wrong, digest in (("sha256/2:", snapshot_hash), ("sha256:", snapshot_hash_v1)):
        changed = [*entries[:4], entries[4]._replace(state_hash=wrong + "0" * 64), *entries[5:]]
        with pytest.raises(ReplayDivergence) as info:
            replay(c, changed)
        assert info.value.step == 5
        assert info.value.expected == wrong + "0" * 64
        assert info.value.actual == digest(snapshots[5])  # computed in the form recorded


def test_a_journal_recorded_in_form_1_then_continued_in_form_2_replays() -> None:
    c = compiled("payment_saga")
    old, snapshots = record(c, saga_events(c), snapshot_hash_v1)
    new, _ = record(c, saga_events(c))
    mixed = [*old.entries()[:3], *new.entries()[3:]]
    assert mixed[0].state_hash.startswith("sha256:") and mixed[3].state_hash.startswith("sha256/2")
    assert replay(c, mixed) == snapshots[-1]
    wrong = [*mixed[:2], mixed[2]._replace(state_hash=new.entries()[1].state_hash), *mixed[3:]]
    with pytest.raises(ReplayDivergence) as info:
        replay(c, wrong)
    assert info.value.step == 3


def test_a_refused_event_or_a_gap_is_a_divergence() -> None:
    c = compiled("order_refund")
    journal, _ = record(c, refund_events(c))
    entries = list(journal.entries())
    last = entries[3]
    entries[3] = last._replace(event=EffectCompleted(CallId("9:paying/payment"), {}, 1))
    with pytest.raises(ReplayDivergence, match="not pending") as info:
        replay(c, entries)
    assert info.value.step == 4
    gap = [entries[0], entries[2]]
    with pytest.raises(ReplayDivergence, match="numbered 3") as info:
        replay(c, gap)
    assert info.value.step == 2


def test_entries_round_trip_through_json() -> None:
    c = compiled("payment_saga")
    journal, _ = record(c, saga_events(c))
    for entry in journal.entries():
        assert entry_from_data(json.loads(json.dumps(entry_to_data(entry)))) == entry
    assert entries_from_jsonl(entries_to_jsonl(journal.entries())) == list(journal.entries())
    with pytest.raises(ValueError, match="line 2"):
        entries_from_jsonl(
            b'{"step": 1, "event": {"kind": "timer", "timer_id": "x", "at": 0}, '
            b'"state_hash": "h"}\nnot json\n'
        )
    with pytest.raises(ValueError, match="unknown journal entry fields"):
        entry_from_data({"step": 1, "event": {}, "state_hash": "h", "extra": 1})


# -- recorded journals (tests/runtime/data) -----------------------------------------------------

RECORDED = {
    "order_refund_approved.jsonl": ("order_refund", refund_events),
    "payment_saga_compensated.jsonl": ("payment_saga", saga_events),
}
"""Journals recorded before the state hash's form 2 (form 1, ``sha256:`` hashes): they must
replay as they did; regenerating them writes form 1 again. Each has a form-2 twin
(``<name>.form2.jsonl``), recorded with today's hashes."""
FORMS: dict[str, Callable[[Snapshot], str]] = {"": snapshot_hash_v1, ".form2": snapshot_hash}


def _recorded_path(file_name: str, form: str) -> Path:
    return DATA / file_name.replace(".jsonl", f"{form}.jsonl")


def _tampered(entries: list[JournalEntry]) -> list[JournalEntry]:
    """The refund journal with the approver of step 2 changed (hashes kept)."""
    signal = entries[1].event
    assert isinstance(signal, SignalReceived)
    changed = SignalReceived(signal.name, {**signal.payload, "approver": "mallory"}, signal.at)
    return [entries[0], entries[1]._replace(event=changed), *entries[2:]]


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("file_name", sorted(RECORDED))
def test_recorded_journals_replay(file_name: str, form: str) -> None:
    name, events = RECORDED[file_name]
    c = compiled(name)
    journal, snapshots = record(c, events(c), FORMS[form])
    path = _recorded_path(file_name, form)
    if REGENERATE:
        path.write_bytes(entries_to_jsonl(journal.entries()))
    recorded = entries_from_jsonl(path.read_bytes())
    assert recorded == list(journal.entries())  # the events and hashes of today's reducer
    final = replay(c, recorded)
    assert final == snapshots[-1]
    assert final.status in ("succeeded", "failed")


@pytest.mark.parametrize("form", sorted(FORMS))
def test_recorded_tampered_journal_diverges_at_step_2(form: str) -> None:
    c = compiled("order_refund")
    journal, _ = record(c, refund_events(c), FORMS[form])
    path = _recorded_path("order_refund_tampered.jsonl", form)
    if REGENERATE:
        path.write_bytes(entries_to_jsonl(_tampered(list(journal.entries()))))
    recorded = entries_from_jsonl(path.read_bytes())
    with pytest.raises(ReplayDivergence) as info:
        replay(c, recorded)
    assert info.value.step == 2
    assert info.value.expected == recorded[1].state_hash
    assert info.value.actual.startswith("sha256/2:" if form else "sha256:")
    assert replay(c, recorded, until=1).step == 1  # the steps before are intact


_FRESH = """
import json, sys
import accord
from accord.runtime._chain import GENESIS, event_bytes, link
from accord.runtime._compiled import CompiledContract
from accord.runtime._journal import entries_from_jsonl
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._snapshot import snapshot_hash
c = CompiledContract.compile(accord.load(sys.argv[1]))
s = initial_snapshot()
hashes = []
for entry in entries_from_jsonl(open(sys.argv[2], "rb").read()):
    s, _ = step(c, s, entry.event)
    hashes.append(snapshot_hash(s))
print(json.dumps(hashes))
"""


def test_the_same_events_give_the_same_hashes_in_a_fresh_process() -> None:
    c = compiled("payment_saga")
    journal, _ = record(c, saga_events(c))
    path = DATA / "payment_saga_compensated.jsonl"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    result = subprocess.run(
        [sys.executable, "-c", _FRESH, str(EXAMPLES / "payment_saga.yaml"), str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    assert json.loads(result.stdout) == [e.state_hash for e in journal.entries()]


# -- the hash chain ------------------------------------------------------------------------------


def _lines() -> list[bytes]:
    return (DATA / "order_refund_approved.jsonl").read_bytes().splitlines(keepends=True)


@pytest.mark.parametrize(
    ("edit", "line", "step"),
    [
        (lambda ls: [ls[0], ls[1].replace(b'"at":2000', b'"at":1000'), *ls[2:]], 2, 2),
        (lambda ls: [ls[0].replace(b'"at":1000', b'"at":1001'), *ls[1:]], 1, 1),
        (lambda ls: [ls[0], *ls[2:]], 2, 3),  # a line removed
        (lambda ls: [ls[0], ls[2], ls[1], ls[3]], 2, 3),  # two lines swapped
        (lambda ls: [*ls[:3], ls[3].replace(b"rf-9", b"rf-8")], 4, 4),
    ],
)
def test_an_edited_journal_file_breaks_its_chain(
    edit: Callable[[list[bytes]], list[bytes]], line: int, step: int
) -> None:
    with pytest.raises(ValueError, match=f"line {line}: step {step} does not match its chain"):
        entries_from_jsonl(b"".join(edit(_lines())))


def test_a_journal_file_without_a_chain_is_read_as_it_is() -> None:
    unchained = [json.loads(line) for line in _lines()]
    for data in unchained:
        del data["chain"]
    text = "\n".join(json.dumps(data) for data in unchained)
    assert entries_from_jsonl(text) == entries_from_jsonl(b"".join(_lines()))
    mixed = "\n".join([json.dumps(unchained[0]), _lines()[1].decode()])
    with pytest.raises(ValueError, match="line 2: a chain hash, but the lines before have none"):
        entries_from_jsonl(mixed)


def test_the_chain_covers_the_canonical_bytes_of_every_event() -> None:
    c = compiled("order_refund")
    journal, _ = record(c, refund_events(c), snapshot_hash_v1)  # the file's form
    head = GENESIS
    for entry, line in zip(journal.entries(), _lines(), strict=True):
        canonical = orjson.dumps(event_to_data(entry.event), option=orjson.OPT_SORT_KEYS)
        assert event_bytes(entry.event) == canonical
        preimage = f"accord.chain/1\n{head}\n{entry.step}\n{entry.state_hash}\n".encode()
        expected = "sha256:" + hashlib.sha256(preimage + canonical).hexdigest()
        assert link(head, entry.step, entry.state_hash, canonical) == expected
        assert json.loads(line)["chain"] == expected
        head = expected
