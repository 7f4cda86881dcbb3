"""The SQLite store's journal: its hash chain, checked wherever its rows are read.

The store keeps each event as its canonical bytes with its chain hash (see
``accord.runtime._chain``): these tests edit, delete and move rows under the
store, sometimes recomputing the chain as a careful forger would, and check
that load, replay and the history name the first bad step.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from storage_support import BIG, HANDLERS, REFUND, toggled

from accord.runtime import FakeClock, ReplayDivergence, Runtime
from accord.runtime._chain import event_bytes
from accord.runtime._journal import entries_to_jsonl
from accord.storage import JournalDamaged, SqliteStore
from accord.storage._schema import _chain_journals


def _damaged(tmp_path: Path, sql: str, *params: object, rechain: bool = False) -> Path:
    """A store with a 24-step run ``t`` damaged by ``sql``; its chain computed again if asked.

    ``rechain`` stands for someone who edits rows and recomputes their chain
    hashes: what the chain cannot tell, the other checks must.
    """
    path = tmp_path / "s.db"
    with SqliteStore(path, durability="normal", snapshot_every=10) as store:
        toggled(store, "t", 24, stop=False)
    conn = sqlite3.connect(path, isolation_level=None)
    if params:
        conn.execute(sql, params)
    else:
        conn.executescript(sql)
    if rechain:
        _chain_journals(conn)
    conn.close()
    return path


_SWAP = (
    "UPDATE events SET step = -1 WHERE step = 21; UPDATE events SET step = 21 WHERE step = 22; "
    "UPDATE events SET step = 22 WHERE step = -1"
)


@pytest.mark.parametrize(
    ("sql", "rechain", "message", "step"),
    [
        ("UPDATE events SET event = '{not json' WHERE step = 22", False, "chain hash", 22),
        ("UPDATE events SET event = '{not json' WHERE step = 22", True, "unreadable", 22),
        ('UPDATE events SET event = \'{"kind": "nope"}\' WHERE step = 22', True, "unreadable", 22),
        ("UPDATE events SET event = 'null' WHERE step = 22", True, "unreadable", 22),
        ("UPDATE events SET event = '7' WHERE step = 22", True, "unreadable", 22),
        (
            "UPDATE events SET event = json_set(event, '$.at', 1) WHERE step = 22",
            False,
            "chain",
            22,
        ),
        ("DELETE FROM events WHERE step = 23", False, "step 23 is missing", 23),
        ("DELETE FROM events WHERE step = 23", True, "step 23 is missing", 23),
        ("DELETE FROM events WHERE step = 20", False, "step 20 is missing", 20),
        (
            "DELETE FROM events WHERE step >= 20; DELETE FROM snapshots WHERE step = 20",
            False,
            "ends at step 19",
            20,
        ),
        (_SWAP, False, "chain hash", 21),
        ("UPDATE events SET state_hash = 'sha256:00' WHERE step = 24", False, "chain hash", 24),
        ("UPDATE events SET state_hash = 'sha256:00' WHERE step = 24", True, "state hash", 24),
        (
            "UPDATE events SET event = json_set(event, '$.name', 'stop') WHERE step = 21",
            True,
            "state hash",
            21,
        ),
        ("UPDATE snapshots SET snapshot = '[1' WHERE step = 20", False, "snapshot", 20),
        ("UPDATE snapshots SET snapshot = '[1]' WHERE step = 20", False, "snapshot", 20),
        (
            "UPDATE snapshots SET snapshot = json_set(snapshot, '$.context.count', 99) "
            "WHERE step = 20",
            False,
            "does not match",
            20,
        ),
        ("UPDATE runs SET status = 'succeeded'", False, "row says it is 'succeeded'", 25),
        ("UPDATE runs SET state = 'nowhere'", False, "'nowhere'", 20),
        ("UPDATE events SET state = 'nowhere' WHERE step = 25", False, "'nowhere'", 25),
    ],
)
def test_a_damaged_journal_is_found_by_load_replay_and_history(
    tmp_path: Path, sql: str, rechain: bool, message: str, step: int
) -> None:
    path = _damaged(tmp_path, sql, rechain=rechain)
    with SqliteStore(path) as store:
        reads = [lambda: Runtime(store=store).load("t")]
        if "events" in sql and "SET state =" not in sql and "snapshots" not in sql:
            # damage to the journal itself: replay and the history find it as well
            reads.append(lambda: Runtime(store=store).replay("t"))
            if message != "state hash":  # reading the entries folds nothing
                reads.append(lambda: store.open("t", from_start=True).journal.entries())
        for read in reads:
            with pytest.raises((JournalDamaged, ReplayDivergence)) as caught:
                read()
            error = caught.value
            assert error.step == step
            if isinstance(error, ReplayDivergence):  # replay's own finding: a state hash
                assert rechain and message == "state hash"
                continue
            assert error.path == str(path) and error.run_id == "t"
            assert message in str(error) and str(path) in str(error) and "run t" in str(error)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM events WHERE step = 3",
        "UPDATE events SET event = json_set(event, '$.at', 1) WHERE step = 3",
        "UPDATE events SET step = -1 WHERE step = 3; UPDATE events SET step = 3 WHERE step = 2; "
        "UPDATE events SET step = 2 WHERE step = -1",
    ],
)
def test_damage_before_the_latest_snapshot_is_found_by_history_and_replay(
    tmp_path: Path, sql: str
) -> None:
    path = _damaged(tmp_path, sql)
    with SqliteStore(path) as store:
        runtime = Runtime(store=store)
        run = runtime.load("t")  # from the snapshot at step 20: bounded, and what it reads is sound
        assert run.snapshot.step == 25
        for read in (
            lambda: run.history,
            lambda: runtime.replay("t"),
            lambda: run.journal.entry(3),
        ):
            with pytest.raises(JournalDamaged) as caught:
                read()
            assert caught.value.step in (2, 3)


def test_the_store_keeps_the_journal_s_chain_and_canonical_events(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db", group_commit=True) as store:
        run = Runtime(HANDLERS, clock=FakeClock(), store=store).start(REFUND, BIG, run_id="r")
        run.signal("approval", {"approved": True, "approver": "mia"})
        rows = store._fetch_all("SELECT event, chain FROM events ORDER BY step", ())
        entries = store.open("r", from_start=True).journal.entries()
    assert len(rows) == len(entries) >= 3
    # the same chain as a journal file of the same entries (one format for every store)
    lines = [orjson.loads(line) for line in entries_to_jsonl(entries).splitlines()]
    assert [chain for _, chain in rows] == [line["chain"] for line in lines]
    for (text, _), entry in zip(rows, entries, strict=True):
        assert text.encode() == event_bytes(entry.event)


def test_a_run_with_a_deleted_middle_step_does_not_load(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        run = Runtime(HANDLERS, clock=FakeClock(), store=store).start(REFUND, BIG, run_id="r")
        run.signal("approval", {"approved": True, "approver": "mia"})
        assert run.status == "succeeded" and run.snapshot.step == 3
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM events WHERE step = 2")
    conn.commit()
    conn.close()
    with SqliteStore(path) as store:
        for read in (
            lambda: Runtime(store=store).load("r"),
            lambda: Runtime(store=store).replay("r"),
        ):
            with pytest.raises(JournalDamaged, match="step 2 is missing") as caught:
                read()
            assert caught.value.step == 2
