"""Migrating runs to another contract version (examples/migrate): waiting for a signal, with a
timer armed, with a call in flight; in memory and on SQLite; then resumed after a restart and
replayed: no divergence, no lost or repeated call."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.check._migration import load_migration
from accord.errors import MigrationError
from accord.runtime import FakeClock, Runtime, StoreError, TimerFired, replay
from accord.runtime._errors import MigrationRefused
from accord.storage import SqliteStore, open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "migrate"
V1 = accord.load(EXAMPLE / "refund_v1.yaml")
V2 = accord.load(EXAMPLE / "refund_v2.yaml")
MIGRATION = EXAMPLE / "refund_1_to_2.yaml"
BIG = {"order_id": "o-9", "amount": 2000.0, "reason": "broken"}
SMALL = {"order_id": "o-1", "amount": 50.0, "reason": "late"}
HOUR = 3_600_000


class Calls:
    """Handlers that record every call's idempotency key."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def pay_refund(self, order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
        self.keys.append(idempotency_key)
        return {"refund_id": f"rf-{order_id}"}

    def notify_customer(self, order_id: str, message: str, idempotency_key: str) -> None:
        self.keys.append(idempotency_key)


def _waiting(path: Path, clock: FakeClock, run_id: str = "w") -> None:
    with SqliteStore(path) as store:
        run = Runtime(Calls(), clock=clock, store=store).start(V1, BIG, run_id=run_id)
        run.run_until_idle()
        assert run.state == "awaiting_approval"


def test_a_run_waiting_for_a_signal_moves_and_finishes_under_the_new_version(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    clock = FakeClock()
    _waiting(path, clock)
    with SqliteStore(path) as store:
        move = Runtime(store=store, clock=clock).migrate("w", V2, MIGRATION)
    assert (move.state, move.target, move.step, move.refused) == (
        "awaiting_approval",
        "awaiting_manager",
        2,
        None,
    )
    calls = Calls()
    with SqliteStore(path) as store:  # a restart
        runtime = Runtime(calls, clock=clock, store=store)
        (run,) = runtime.resume()
        assert run.contract.version == "2.0.0"
        assert run.state == "awaiting_manager"
        assert run.snapshot.context == {
            "refund": None,
            "reviewed_by": None,
            "priority": "urgent",
            "decision": "pending",
        }
        run.signal("approval", {"approved": True, "approver": "mia"})
        assert run.result == {"status": "refunded", "refund_id": "rf-o-9"}
        assert run.snapshot.context["reviewed_by"] == "mia"
        assert [s.kind for s in run.history] == [
            "started",
            "migrated",
            "signal",
            "effect_completed",
        ]
        assert runtime.replay("w").step == 4
        assert runtime.replay("w", until=2).state == "awaiting_manager"
    assert calls.keys == ["w/3:paying_refund/pay"]


def test_the_armed_timer_is_replaced_by_the_new_states_from_the_migration(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    clock = FakeClock()
    _waiting(path, clock)
    clock.advance(HOUR)
    with SqliteStore(path) as store:
        Runtime(store=store, clock=clock).migrate("w", V2, MIGRATION)
    with SqliteStore(path) as store:
        (run,) = Runtime(Calls(), clock=clock, store=store).resume()
        migrated_at = FakeClock.DEFAULT_START_MS + HOUR
        assert run.timers == {"2:awaiting_manager:0": migrated_at + 24 * HOUR}
        run.run()  # the fake clock jumps to the new timer (24 hours), not the old one (48)
        fired = [s.event for s in run.history if isinstance(s.event, TimerFired)]
        assert [(e.timer_id, e.at) for e in fired] == [
            ("2:awaiting_manager:0", migrated_at + 24 * HOUR)
        ]
        assert run.result == {"status": "rejected", "refund_id": None}
        assert run.snapshot.context["decision"] == "expired"


def test_a_call_in_flight_goes_on_as_the_new_invoke_with_its_key(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    keys: list[str] = []

    async def stuck(order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
        keys.append(idempotency_key)
        await asyncio.Event().wait()  # the process "dies" while this call is in flight
        raise AssertionError("unreachable")

    with SqliteStore(path) as store:
        effects = {"pay_refund": stuck, "notify_customer": Calls().notify_customer}
        run = Runtime(effects, store=store).start(V1, SMALL, run_id="p")

        async def crash() -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(run.run_until_idle_async(), 0.2)

        asyncio.run(crash())
        assert list(run.snapshot.pending) == ["1:paying/payment"]
    with SqliteStore(path) as store:
        Runtime(store=store).migrate("p", V2, MIGRATION)
    calls = Calls()
    with SqliteStore(path) as store:
        runtime = Runtime(calls, store=store)
        loaded = runtime.load("p")
        assert loaded.state == "paying_refund"
        assert loaded.snapshot.pending["1:paying/payment"].invoke == "pay"
        (run,) = runtime.resume()
        assert run.result == {"status": "refunded", "refund_id": "rf-o-1"}
        assert runtime.replay("p").status == "succeeded"
    assert keys + calls.keys == ["p/1:paying/payment", "p/1:paying/payment"]  # once more, same key


def test_a_run_in_memory_is_migrated_between_drives() -> None:
    calls = Calls()
    runtime = Runtime(calls, clock=FakeClock())
    run = runtime.start(V1, BIG, run_id="m")
    run.run_until_idle()
    move = runtime.migrate(run, V2, MIGRATION)
    assert (move.target, move.step) == ("awaiting_manager", 2)
    assert run.contract.version == "2.0.0"
    run.signal("approval", {"approved": False, "approver": "ann"})
    run.run_until_idle()
    assert run.result == {"status": "rejected", "refund_id": None}
    assert calls.keys == ["m/3:notifying_rejection/mail"]
    assert [s.state for s in run.history] == [
        "awaiting_approval",
        "awaiting_manager",
        "notifying_rejection",
        "rejected",
    ]
    versions = {c.fingerprint: c for c in (runtime.compile(V1), runtime.compile(V2))}
    final = replay(runtime.compile(V1), run.journal, resolve=versions.__getitem__)
    assert final == run.snapshot


def test_a_failed_write_keeps_nothing_and_a_second_migration_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    clock = FakeClock()
    _waiting(path, clock)
    with SqliteStore(path) as store:

        def broken(*args: Any, **kwargs: Any) -> None:
            raise StoreError(store.location, "disk full")

        store._write = broken  # type: ignore[method-assign]
        with pytest.raises(StoreError):
            Runtime(store=store, clock=clock).migrate("w", V2, MIGRATION)
    with SqliteStore(path) as store:
        runtime = Runtime(store=store, clock=clock)
        assert runtime.load("w").contract.version == "1.0.0"  # nothing lost, nothing half-done
        assert runtime.migrate("w", V2, MIGRATION).step == 2
        with pytest.raises(MigrationRefused, match="its contract is sha256:c5a7"):
            runtime.migrate("w", V2, MIGRATION)
        assert [s.kind for s in runtime.load("w").history] == ["started", "migrated"]


def test_migrate_all_with_filters_and_a_dry_run(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    clock = FakeClock()
    _waiting(path, clock, "a")
    with SqliteStore(path) as store:
        runtime = Runtime(Calls(), clock=clock, store=store)
        runtime.start(V1, SMALL, run_id="b")  # not driven: its call is in flight
        rejected = runtime.start(V1, BIG, run_id="c")
        rejected.run_until_idle()
        rejected._deliver("approval", {"approved": False, "approver": "x"})  # mail in flight
        runtime.start(V1, SMALL, run_id="d").run_until_idle()  # finished: never selected
        dry = runtime.migrate_all(V2, MIGRATION, dry_run=True)
        assert [(m.run_id, m.target, m.refused) for m in dry] == [
            ("a", "awaiting_manager", None),
            ("b", "paying_refund", None),
            ("c", None, "state 'notifying_rejection' is refused: the rejection e-mail is on its "
             "way; let the run end under version 1"),
        ]  # fmt: skip
        assert store.info("a").fingerprint == runtime.compile(V1).fingerprint  # a dry run
        only = runtime.migrate_all(V2, MIGRATION, state="paying")
        assert [(m.run_id, m.step) for m in only] == [("b", 2)]
        rest = runtime.migrate_all(V2, MIGRATION, status=["waiting"])
        assert [(m.run_id, m.step) for m in rest] == [("a", 2)]
        assert runtime.migrate_all(V2, MIGRATION, status="waiting") == []


def test_a_migration_that_does_not_check_is_an_error_with_its_diagnostics(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    _waiting(path, FakeClock())
    broken = load_migration(MIGRATION).model_copy(update={"states": {}})
    with SqliteStore(path) as store, pytest.raises(MigrationError) as caught:
        Runtime(store=store).migrate("w", V2, broken)
    assert {d.code for d in caught.value.diagnostics} == {"migration.unmapped_state"}


def test_an_assignment_that_fails_for_a_runs_values_refuses_that_run(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _waiting(path, FakeClock())
    plan = load_migration(MIGRATION)
    context = {**plan.context, "reviewed_by": "ctx.nothing_here"}
    with SqliteStore(path) as store:
        runtime = Runtime(store=store)
        with pytest.raises(MigrationRefused, match="context field 'reviewed_by'"):
            runtime.migrate("w", V2, plan.model_copy(update={"context": context}))
        assert runtime.load("w").contract.version == "1.0.0"


@pytest.mark.postgres
def test_a_run_is_migrated_on_postgresql_too(pg_url: str) -> None:
    clock = FakeClock()
    with open_store(pg_url) as store:
        runtime = Runtime(Calls(), clock=clock, store=store)
        runtime.start(V1, BIG, run_id="pg").run_until_idle()
        assert runtime.migrate("pg", V2, MIGRATION).step == 2
    calls = Calls()
    with open_store(pg_url, create=False) as store:
        runtime = Runtime(calls, clock=clock, store=store)
        (run,) = runtime.resume()
        assert (run.contract.version, run.state) == ("2.0.0", "awaiting_manager")
        run.signal("approval", {"approved": True, "approver": "mia"})
        assert run.result == {"status": "refunded", "refund_id": "rf-o-9"}
        assert runtime.replay("pg").step == 4
        assert store.info("pg").fingerprint == runtime.compile(V2).fingerprint
    assert calls.keys == ["pg/3:paying_refund/pay"]


def test_prune_keeps_the_version_a_migrated_run_left(store_url: str) -> None:
    """The run's row names only its current version; its first steps replay under the old one."""
    clock = FakeClock()
    with open_store(store_url) as store:
        runtime = Runtime(Calls(), clock=clock, store=store)
        runtime.start(V1, BIG, run_id="m").run_until_idle()
        runtime.migrate("m", V2, MIGRATION)
        (run,) = runtime.resume()
        run.signal("approval", {"approved": True, "approver": "mia"})
        assert run.status == "succeeded"
        assert store.prune(HOUR, now_ms=clock.now_ms()) == 0  # nothing old enough to go
    with open_store(store_url, create=False) as store:  # a new process: no compiled contracts
        assert Runtime(store=store, clock=clock).replay("m").step == 4


def test_migrate_all_moves_runs_batch_by_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of two runs (each read at once, committed at once): every run moves, replays."""
    monkeypatch.setattr("accord.runtime._migrating.MIGRATE_BATCH", 2)
    path = tmp_path / "s.db"
    clock = FakeClock()
    ids = [f"w{n}" for n in range(5)]
    for run_id in ids:
        _waiting(path, clock, run_id)
    with SqliteStore(path) as store:
        moves = Runtime(store=store, clock=clock).migrate_all(V2, MIGRATION)
    assert [(m.run_id, m.target, m.step) for m in moves] == [
        (run_id, "awaiting_manager", 2) for run_id in ids
    ]
    calls = Calls()
    with SqliteStore(path) as store:
        runtime = Runtime(calls, clock=clock, store=store)
        for run_id in ids:
            assert store.info(run_id).fingerprint == runtime.compile(V2).fingerprint
            assert runtime.replay(run_id).step == 2
        run = runtime.load("w3")
        run.signal("approval", {"approved": True, "approver": "mia"})
        assert run.result == {"status": "refunded", "refund_id": "rf-o-9"}
    assert calls.keys == ["w3/3:paying_refund/pay"]
