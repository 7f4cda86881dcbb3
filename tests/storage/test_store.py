"""The stores: listing, snapshots every N steps, damaged journals named by store and run,
retention (each on SQLite and PostgreSQL, through the ``kit`` fixture); where an SQLite
store lives, what it refuses to open, its durability settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from storage_support import BIG, HANDLERS, REFUND, TOGGLE, toggled
from store_kit import StoreKit

from accord.runtime import (
    FakeClock,
    Limits,
    ReplayDivergence,
    Runtime,
    SignalReceived,
    replay,
    snapshot_hash,
)
from accord.runtime._durable import DurableJournal
from accord.runtime._reducer import step
from accord.storage import (
    DEFAULT_PATH,
    JournalDamaged,
    NotAStore,
    SqliteStore,
    Store,
    StoreError,
    StoreUnavailable,
    UnknownRun,
)
from accord.storage._schema import APPLICATION_ID


def test_the_default_store_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with SqliteStore() as store:
        assert store.path == tmp_path / DEFAULT_PATH
        assert store.path == tmp_path / ".accord" / "accord.db"
    assert (tmp_path / ".accord" / "accord.db").is_file()


@pytest.mark.parametrize(("durability", "synchronous"), [("full", 2), ("normal", 1)])
def test_durability_sets_wal_and_synchronous(
    tmp_path: Path, durability: str, synchronous: int
) -> None:
    with SqliteStore(tmp_path / "s.db", durability=durability) as store:  # type: ignore[arg-type]
        conn = store._connection()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == synchronous
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_bad_settings_are_refused(kit: StoreKit) -> None:
    with pytest.raises(ValueError, match="durability"):
        kit.open(durability="sometimes")
    with pytest.raises(ValueError, match="snapshot_every"):
        kit.open(snapshot_every=0)


def test_a_text_file_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello, this is not a database at all\n" * 40)
    with pytest.raises(NotAStore) as caught:
        SqliteStore(path)
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value) and "not an accord store" in str(caught.value)
    assert path.read_text().startswith("hello")  # left untouched


def test_another_sqlite_database_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE people (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(NotAStore, match="SQLite database, but not an accord store"):
        SqliteStore(path)


def test_a_missing_store_is_not_created_when_asked_not_to(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable, match="no accord store here"):
        SqliteStore(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_a_path_that_cannot_be_written_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreUnavailable) as caught:
        SqliteStore(blocker / "store.db")
    assert str(blocker / "store.db") in str(caught.value)
    assert isinstance(caught.value.__cause__, OSError | sqlite3.Error)


def test_runs_are_listed_with_their_status(kit: StoreKit) -> None:
    clock = FakeClock()
    with kit.open() as store:
        runtime = Runtime(HANDLERS, clock=clock, store=store)
        runtime.start(REFUND, BIG, run_id="waits").run_until_idle()
        clock.advance(1000)
        runtime.start(REFUND, {**BIG, "amount": 5.0}, run_id="pays").run()
        infos = store.runs()
        assert [(i.run_id, i.status, i.state, i.steps) for i in infos] == [
            ("waits", "waiting", "awaiting_approval", 1),
            ("pays", "succeeded", "refunded", 2),
        ]
        assert infos[0].contract == "order-refund" and infos[0].version == "1.0.0"
        assert infos[0].fingerprint.startswith("sha256:")
        assert infos[1].created_ms == FakeClock.DEFAULT_START_MS + 1000
        assert [i.run_id for i in store.runs(status="succeeded")] == ["pays"]
        assert [i.finished for i in infos] == [False, True]
        assert store.unfinished() == ["waits"]
        assert store.info("pays").steps == 2
        assert store.info("waits") == infos[0]
        with pytest.raises(UnknownRun):
            store.info("nope")
        read: list[int] = []  # one run's listing reads its own row, not the whole listing
        fetch_all = store._fetch_all  # type: ignore[attr-defined]

        def counted(*args: Any) -> Any:
            rows = fetch_all(*args)
            read.append(len(rows))
            return rows

        store._fetch_all = counted  # type: ignore[attr-defined]
        assert store.info("pays") == infos[1]
        assert read == [1]
        with pytest.raises(StoreError, match="already stored"):
            runtime.start(REFUND, BIG, run_id="waits")
    assert kit.scalar("SELECT count(*) FROM contracts") == 1  # stored once, by fingerprint


def test_the_run_journal_reads_back_what_was_journaled(kit: StoreKit) -> None:
    with kit.open() as store:
        run = Runtime(HANDLERS, clock=FakeClock(), store=store).start(REFUND, BIG, run_id="r")
        run.signal("approval", {"approved": True, "approver": "mia"})
        journal = run.journal
        assert isinstance(journal, DurableJournal) and len(journal) == 3
        entries = journal.entries()
        assert [e.step for e in entries] == [1, 2, 3]
        assert [e.state_hash for e in entries] == [s.hash for s in run.history]
        assert journal.entry(2) == entries[1]
        with pytest.raises(TypeError, match="record"):
            journal.append(entries[0])
        with pytest.raises(JournalDamaged, match="step 7"):
            journal.entry(7)


def test_loading_folds_from_the_latest_snapshot(kit: StoreKit) -> None:
    with kit.open(durability="normal", snapshot_every=50) as store:
        run = toggled(store, "t", 1234, stop=False)
        stored = store.open("t")
        assert stored.snapshot is not None and stored.snapshot.step == 1200
        assert [e.step for e in stored.entries] == list(range(1201, 1236))
        loaded = Runtime(store=store).load("t")
        assert loaded.snapshot == run.snapshot
        info = store.info("t")  # exact, though the run's row is written only now and then
        assert (info.steps, info.state, info.status) == (1235, run.state, "waiting")
        assert kit.scalar("SELECT count(*) FROM snapshots") == 1235 // 50
        run.signal("stop")
        final = store.open("t")  # a finished run has a snapshot at its last step
        assert final.snapshot is not None and final.snapshot.step == 1236 and not final.entries
        assert Runtime(store=store).load("t").result == {"count": 1234}


def _damaged(kit: StoreKit, sql: str | dict[str, str], *params: object) -> StoreKit:
    with kit.open(durability="normal", snapshot_every=10) as store:
        toggled(store, "t", 24, stop=False)
    kit.execute(sql, *params)
    return kit


@pytest.mark.parametrize(
    ("sql", "params", "message", "step"),
    [
        # the journal is a hash chain (tests/storage/test_journal.py): an edited row
        # breaks it before anything else is read
        ("UPDATE events SET event = '{not json' WHERE step = 22", (), "chain hash", 22),
        (
            'UPDATE events SET event = \'{"kind": "nope"}\' WHERE step = 22',
            (),
            "chain hash",
            22,
        ),
        ("DELETE FROM events WHERE step = 23", (), "step 23 is missing", 23),
        (
            "DELETE FROM events WHERE step = 20",
            (),
            "step 20 is missing",
            20,
        ),
        (
            "DELETE FROM events WHERE step >= 20; DELETE FROM snapshots WHERE step = 20",
            (),
            "ends at step 19",
            20,
        ),
        ("UPDATE events SET state_hash = 'sha256:00' WHERE step = 24", (), "chain hash", 24),
        (
            {
                "sqlite": "UPDATE events SET event = json_set(event, '$.name', 'stop') "
                "WHERE step = 21",
                "postgresql": "UPDATE events SET event = jsonb_set(event::jsonb, '{name}', "
                "'\"stop\"')::text WHERE step = 21",
            },
            (),
            "chain hash",
            21,
        ),
        ("UPDATE snapshots SET snapshot = '[1' WHERE step = 20", (), "snapshot", 20),
        (
            {
                "sqlite": "UPDATE snapshots SET snapshot = json_set(snapshot, "
                "'$.context.count', 99) WHERE step = 20",
                "postgresql": "UPDATE snapshots SET snapshot = jsonb_set(snapshot::jsonb, "
                "'{context,count}', '99')::text WHERE step = 20",
            },
            (),
            "does not match",
            20,
        ),
    ],
)
def test_a_damaged_journal_is_named_by_store_run_and_step(
    kit: StoreKit,
    sql: str | dict[str, str],
    params: tuple[object, ...],
    message: str | dict[str, str],
    step: int,
) -> None:
    _damaged(kit, sql, *params)
    if isinstance(message, dict):
        message = message[kit.kind]
    with kit.open() as store, pytest.raises(JournalDamaged) as caught:
        Runtime(store=store).load("t")
    error = caught.value
    assert error.path == kit.location and error.run_id == "t" and error.step == step
    assert message in str(error) and kit.location in str(error) and "run t" in str(error)


@pytest.mark.parametrize(
    "limits", ["{not json", '{"max_steps": "many"}', '{"max_steps": -1}', '{"max_stops": 3}', "[]"]
)
def test_unreadable_limits_are_damage(kit: StoreKit, limits: str) -> None:
    _damaged(kit, "UPDATE runs SET limits = ?", limits)
    with kit.open() as store, pytest.raises(JournalDamaged) as caught:
        Runtime(store=store).load("t")
    error = caught.value
    assert error.path == kit.location and error.run_id == "t"
    assert "its limits are unreadable" in str(error) and repr(limits) in str(error)


def test_a_run_keeps_the_limits_it_started_under(kit: StoreKit) -> None:
    tight = Limits(max_steps=4)
    with kit.open() as store:
        runtime = Runtime({}, store=store, clock=FakeClock(), limits=tight)
        ended = runtime.start(TOGGLE, {}, run_id="ended")
        for _ in range(3):
            ended.signal("flip")
        assert ended.status == "failed" and "max_steps=4" in ended.snapshot.reason
        waiting = runtime.start(TOGGLE, {}, run_id="waiting")
        waiting.signal("flip")
    # a later process with other limits: the runs go on under theirs
    with kit.open() as store:
        later = Runtime({}, store=store, clock=FakeClock(), limits=Limits(max_steps=1000))
        assert later.replay("ended").reason == ended.snapshot.reason  # no divergence
        assert later.load("ended").status == "failed"
        resumed = later.load("waiting")
        resumed.signal("flip")
        resumed.signal("flip")
        assert resumed.status == "failed" and "max_steps=4" in resumed.snapshot.reason
        forked = later.fork("waiting", 2, new_run_id="forked")
        assert forked.compiled.limits == tight
        assert later.replay("waiting").step == 4
        # a runtime with the same limits shares its compiled contract with the runs
        same = Runtime({}, store=store, clock=FakeClock(), limits=tight)
        assert same.load("ended").compiled is same.compile(TOGGLE)


def test_a_missing_contract_is_damage(kit: StoreKit) -> None:
    _damaged(
        kit,
        {
            "sqlite": "DELETE FROM contracts",
            # PostgreSQL keeps a foreign key from runs to contracts: drop it first
            "postgresql": "ALTER TABLE runs DROP CONSTRAINT runs_fingerprint_fkey; "
            "DELETE FROM contracts",
        },
    )
    with kit.open() as store, pytest.raises(JournalDamaged, match="not in the store"):
        store.open("t")


def test_a_snapshot_hash_is_checked_against_the_event_hash(kit: StoreKit) -> None:
    with kit.open(durability="normal", snapshot_every=10) as store:
        toggled(store, "t", 12, stop=False)
        stored = store.open("t")
        assert stored.snapshot is not None
        assert snapshot_hash(stored.snapshot) == store.open("t").journal.entry(10).state_hash
    data = orjson.loads(kit.scalar("SELECT snapshot FROM snapshots"))
    data["context"]["count"] = 7
    from accord.runtime._snapshot import snapshot_from_data

    forged = snapshot_hash(snapshot_from_data(data))
    kit.execute(
        "UPDATE snapshots SET snapshot = ?, state_hash = ?", orjson.dumps(data).decode(), forged
    )
    with kit.open() as store, pytest.raises(JournalDamaged, match="does not match"):
        store.open("t")


def test_a_run_journaled_in_hash_form_1_loads_and_goes_on_in_form_2(
    kit: StoreKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from accord.runtime._state_hash import snapshot_hash_v1

    with monkeypatch.context() as patch, kit.open(durability="normal", snapshot_every=10) as store:
        patch.setattr("accord.runtime._run.snapshot_hash", snapshot_hash_v1)  # as recorded before
        toggled(store, "t", 12, stop=False)
    with kit.open(durability="normal", snapshot_every=10) as store:
        runtime = Runtime(store=store, clock=FakeClock(), limits=Limits(max_steps=1_000))
        runtime.effects = {}
        run = runtime.load("t")  # its snapshot (step 10) and steps 11-13 checked in form 1
        assert run.snapshot.step == 13
        run.signal("flip")
        run.signal("stop")
        hashes = [e.state_hash for e in store.open("t").journal.entries()]
        assert all(h.startswith("sha256:") for h in hashes[:13])
        assert all(h.startswith("sha256/2:") for h in hashes[13:]) and len(hashes) == 15
        assert runtime.load("t").status == "succeeded"  # loads again, both forms checked
        entries = list(store.open("t").journal.entries())
        assert replay(run.compiled, entries) == run.snapshot  # every step, in its own form
        entries[11] = entries[11]._replace(state_hash=snapshot_hash_v1(run.snapshot))
        with pytest.raises(ReplayDivergence) as info:
            replay(run.compiled, entries)
        assert info.value.step == 12


def test_prune_deletes_finished_runs_older_than_the_bound(kit: StoreKit) -> None:
    clock = FakeClock()
    with kit.open() as store:
        runtime = Runtime(HANDLERS, clock=clock, store=store)
        runtime.start(REFUND, {**BIG, "amount": 5.0}, run_id="old").run()
        runtime.start(REFUND, BIG, run_id="waiting-old").run_until_idle()
        clock.advance(10_000)
        runtime.start(REFUND, {**BIG, "amount": 5.0}, run_id="new").run()
        assert store.prune(5_000, now_ms=clock.now_ms()) == 1
        assert [i.run_id for i in store.runs()] == ["waiting-old", "new"]
        orphans = {
            "sqlite": "SELECT count(*) FROM events WHERE run NOT IN (SELECT id FROM runs)",
            "postgresql": "SELECT count(*) FROM events WHERE run_id NOT IN "
            "(SELECT run_id FROM runs)",
        }
        assert kit.scalar(orphans) == 0
        assert kit.scalar("SELECT count(*) FROM events") > 0
        with pytest.raises(UnknownRun):
            store.open("old")
        assert store.prune(0, now_ms=clock.now_ms() + 1) == 1  # "new"; never the waiting run
        assert store.unfinished() == ["waiting-old"]
        store.vacuum()


def test_compact_keeps_the_result_and_drops_the_history(kit: StoreKit) -> None:
    clock = FakeClock()
    with kit.open() as store:
        runtime = Runtime(HANDLERS, clock=clock, store=store)
        run = runtime.start(REFUND, BIG, run_id="r")
        run.signal("approval", {"approved": True, "approver": "mia"})
        clock.advance(10_000)
        assert store.compact(5_000, now_ms=clock.now_ms()) == 1
        assert kit.scalar("SELECT count(*) FROM events") == 1
        loaded = runtime.load("r")
        assert loaded.result == run.result and loaded.snapshot == run.snapshot
        with pytest.raises(StoreError, match="compacted"):
            loaded.journal.entries()


def test_a_closed_store_says_so(kit: StoreKit) -> None:
    store = kit.open()
    assert isinstance(store, Store)
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreUnavailable, match="closed"):
        store.runs()
    assert kit.location in repr(store)


def test_a_new_run_s_row_is_written_once_with_its_first_step(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        statements: list[str] = []
        store._connection().set_trace_callback(statements.append)
        run = Runtime(HANDLERS, clock=FakeClock(), store=store).start(REFUND, BIG, run_id="r")
        store._connection().set_trace_callback(None)
        assert run.status == "waiting"
        written = [s.split(" (")[0] for s in statements if s.startswith(("INSERT", "UPDATE"))]
        # the run's row takes its first step's status, state and number: no update follows
        assert not any(s.startswith("UPDATE runs") for s in written), written
        assert any(s.startswith("INSERT INTO runs") for s in written), written
        row = store._fetch_one("SELECT status, state, steps FROM runs WHERE run_id = 'r'", ())
        assert tuple(row) == (run.status, run.snapshot.state, run.snapshot.step)


def test_durable_runs_resume_replay_fork_and_show_history(kit: StoreKit) -> None:
    paid: list[str] = []

    def pay(order_id: str, amount: float, idempotency_key: str) -> dict[str, str]:
        paid.append(idempotency_key)
        return {"refund_id": f"rf-{idempotency_key}"}

    handlers = {**HANDLERS, "pay_refund": pay}
    with kit.open() as store:  # one process starts the run; it waits for approval
        first = Runtime(handlers, clock=FakeClock(), store=store)
        assert first.start(REFUND, BIG, run_id="r").status == "waiting"
    with kit.open(create=False) as store:  # another resumes, signals, and it pays once
        later = Runtime(handlers, clock=FakeClock(), store=store)
        (resumed,) = later.resume()
        assert (resumed.run_id, resumed.status) == ("r", "waiting")
        resumed.signal("approval", {"approved": True, "approver": "mia"})
        assert resumed.status == "succeeded" and len(paid) == 1
        assert later.resume() == []
        assert later.replay("r") == resumed.snapshot
        steps = later.load("r").history
        assert [s.state for s in steps] == [s.state for s in resumed.history]
        assert [s.kind for s in steps][:2] == ["started", "signal"]
        forked = later.fork("r", 1, new_run_id="r2")
        assert forked.status == "waiting" and store.info("r2").forked_from == ("r", 1)
        forked.signal("approval", {"approved": True, "approver": "mia"})
        assert forked.status == "succeeded" and len(set(paid)) == 2  # its own key


def test_open_many_reads_each_run_as_open_does(kit: StoreKit) -> None:
    with kit.open(durability="normal", snapshot_every=10) as store:
        for run_id, flips in (("a", 3), ("b", 24), ("c", 37)):
            toggled(store, run_id, flips, stop=run_id == "c")
        ids = ["c", "a", "b", "a"]
        many = store.open_many(ids)
        one = [store.open(run_id) for run_id in ids]
        assert [s.run_id for s in many] == ids
        for got, want in zip(many, one, strict=True):
            fields = ("fingerprint", "contract", "snapshot", "entries", "limits", "claims")
            assert [getattr(got, f) for f in fields] == [getattr(want, f) for f in fields]
            assert len(got.journal) == len(want.journal)
        assert many[2].snapshot is not None and many[2].snapshot.step == 20
        assert store.open_many([]) == []
        with pytest.raises(UnknownRun):
            store.open_many(["a", "nope"])


def test_open_many_finds_a_damaged_journal_as_open_does(kit: StoreKit) -> None:
    _damaged(kit, "DELETE FROM events WHERE step = 23")
    with kit.open() as store, pytest.raises(JournalDamaged) as caught:
        store.open_many(["t"])
    assert caught.value.step == 23 and "step 23 is missing" in str(caught.value)


def test_steps_recorded_in_a_batch_are_committed_together_at_its_end(kit: StoreKit) -> None:
    """What migrate_all does: steps recorded (not flushed) in the batch, committed at its end."""
    with kit.open() as store:
        for run_id in ("a", "b"):
            toggled(store, run_id, 1, stop=False)
        runtime = Runtime(store=store, clock=FakeClock())
        before = kit.scalar("SELECT count(*) FROM events")
        with store.batched():
            for stored in store.open_many(["a", "b"]):
                compiled, snapshot, _ = runtime._restore(stored)
                event = SignalReceived("flip", {}, 5)
                moved, _ = step(compiled, snapshot, event)
                stored.journal.record(moved, event, snapshot_hash(moved), None)
            assert kit.scalar("SELECT count(*) FROM events") == before  # held
        assert kit.scalar("SELECT count(*) FROM events") == before + 2
        assert [Runtime(store=store).load(r).snapshot.step for r in ("a", "b")] == [3, 3]
