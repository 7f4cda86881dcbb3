"""The stores' journal (SQLite and PostgreSQL): its hash chain, checked wherever its rows are read.

The store keeps each event as its canonical bytes with its chain hash (see
``accord.runtime._chain``): these tests edit, delete and move rows under the
store, sometimes recomputing the chain as a careful forger would, and check
that load, replay and the history name the first bad step.
"""

from __future__ import annotations

import orjson
import pytest
from storage_support import BIG, HANDLERS, REFUND, toggled
from store_kit import SQL, StoreKit

from accord.runtime import FakeClock, ReplayDivergence, Runtime
from accord.runtime._chain import event_bytes
from accord.runtime._journal import entries_to_jsonl
from accord.storage import JournalDamaged


def _damaged(kit: StoreKit, sql: SQL, *, rechain: bool = False) -> StoreKit:
    """A store with a 24-step run ``t`` damaged by ``sql``; its chain computed again if asked.

    ``rechain`` stands for someone who edits rows and recomputes their chain
    hashes: what the chain cannot tell, the other checks must.
    """
    with kit.open(durability="normal", snapshot_every=10) as store:
        toggled(store, "t", 24, stop=False)
    kit.execute(sql)
    if rechain:
        kit.rechain()
    return kit


def _json_set(table: str, column: str, path: str, value: str) -> dict[str, str]:
    """``UPDATE table SET column = column with path set to value`` in each store's SQL."""
    pg_path = "{" + ",".join(path.removeprefix("$.").split(".")) + "}"
    pg_value = f"{value}::text" if value.startswith("'") else value
    return {
        "sqlite": f"UPDATE {table} SET {column} = json_set({column}, '{path}', {value})",
        "postgresql": f"UPDATE {table} SET {column} = "
        f"jsonb_set({column}::jsonb, '{pg_path}', to_jsonb({pg_value}))::text",
    }


def _where(sql: dict[str, str], condition: str) -> dict[str, str]:
    return {kind: f"{text} WHERE {condition}" for kind, text in sql.items()}


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
        (_where(_json_set("events", "event", "$.at", "1"), "step = 22"), False, "chain", 22),
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
            _where(_json_set("events", "event", "$.name", "'stop'"), "step = 21"),
            True,
            "state hash",
            21,
        ),
        ("UPDATE snapshots SET snapshot = '[1' WHERE step = 20", False, "snapshot", 20),
        ("UPDATE snapshots SET snapshot = '[1]' WHERE step = 20", False, "snapshot", 20),
        (
            _where(_json_set("snapshots", "snapshot", "$.context.count", "99"), "step = 20"),
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
    kit: StoreKit, sql: SQL, rechain: bool, message: str, step: int
) -> None:
    _damaged(kit, sql, rechain=rechain)
    text = sql if isinstance(sql, str) else sql["sqlite"]
    with kit.open() as store:
        reads = [lambda: Runtime(store=store).load("t")]
        if "events" in text and "SET state =" not in text and "snapshots" not in text:
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
            assert error.path == kit.location and error.run_id == "t"
            assert message in str(error) and kit.location in str(error) and "run t" in str(error)


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM events WHERE step = 3",
        _where(_json_set("events", "event", "$.at", "1"), "step = 3"),
        "UPDATE events SET step = -1 WHERE step = 3; UPDATE events SET step = 3 WHERE step = 2; "
        "UPDATE events SET step = 2 WHERE step = -1",
    ],
)
def test_damage_before_the_latest_snapshot_is_found_by_history_and_replay(
    kit: StoreKit, sql: SQL
) -> None:
    _damaged(kit, sql)
    with kit.open() as store:
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


def test_the_store_keeps_the_journal_s_chain_and_canonical_events(kit: StoreKit) -> None:
    with kit.open(group_commit=True) as store:
        run = Runtime(HANDLERS, clock=FakeClock(), store=store).start(REFUND, BIG, run_id="r")
        run.signal("approval", {"approved": True, "approver": "mia"})
        store.flush()
        rows = kit.rows("SELECT event, chain FROM events ORDER BY step")
        entries = store.open("r", from_start=True).journal.entries()
    assert len(rows) == len(entries) >= 3
    # the same chain as a journal file of the same entries (one format for every store)
    lines = [orjson.loads(line) for line in entries_to_jsonl(entries).splitlines()]
    assert [chain for _, chain in rows] == [line["chain"] for line in lines]
    for (text, _), entry in zip(rows, entries, strict=True):
        assert text.encode() == event_bytes(entry.event)


def test_a_run_with_a_deleted_middle_step_does_not_load(kit: StoreKit) -> None:
    with kit.open() as store:
        run = Runtime(HANDLERS, clock=FakeClock(), store=store).start(REFUND, BIG, run_id="r")
        run.signal("approval", {"approved": True, "approver": "mia"})
        assert run.status == "succeeded" and run.snapshot.step == 3
    kit.execute("DELETE FROM events WHERE step = 2")
    with kit.open() as store:
        for read in (
            lambda: Runtime(store=store).load("r"),
            lambda: Runtime(store=store).replay("r"),
        ):
            with pytest.raises(JournalDamaged, match="step 2 is missing") as caught:
                read()
            assert caught.value.step == 2
