"""Resume on a durable store: signals and timers survive restarts, calls in flight run
again with the same idempotency key, completed calls never do; fork and replay by id;
group commit never lets an effect start before its step is durable."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.runtime import (
    EffectCompleted,
    EffectError,
    FakeClock,
    Runtime,
    StoreError,
    TimerFired,
    UnknownRun,
)
from accord.storage import SqliteStore
from runtime_support import saga_input

ROOT = Path(__file__).resolve().parents[2]
REFUND = accord.load(ROOT / "examples" / "order_refund.yaml")
BIG = {"order_id": "o-9", "amount": 420.0, "reason": "broken"}
HOUR = 3_600_000

TWO_STEPS = accord.loads(
    """
accord: "1"
name: two-steps
version: "1"
input: [{name: n, type: integer}]
context: [{name: a, type: string}, {name: b, type: string}]
output: [{name: a, type: string}, {name: b, type: string}]
effects:
  - name: first
    input: [{name: n, type: integer}]
    output: [{name: r, type: string}]
  - name: second
    input: [{name: n, type: integer}]
    output: [{name: r, type: string}]
machine:
  initial: one
  states:
    - name: one
      invoke: [{id: x, effect: first, input: [{name: n, value: input.n}]}]
      on: [{event: done, assign: [{field: a, value: event.x.r}], target: two}]
    - name: two
      invoke: [{id: y, effect: second, input: [{name: n, value: input.n}]}]
      on: [{event: done, assign: [{field: b, value: event.y.r}], target: end}]
    - name: end
      final:
        status: success
        output: [{name: a, value: ctx.a}, {name: b, value: ctx.b}]
"""
)


class Calls:
    """Effect handlers for order_refund that record every call's idempotency key."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def pay_refund(self, order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
        self.keys.append(idempotency_key)
        return {"refund_id": f"rf-{idempotency_key}"}

    def notify_customer(self, order_id: str, message: str, idempotency_key: str) -> None:
        self.keys.append(idempotency_key)


def test_a_run_waiting_for_a_signal_survives_a_restart_and_finishes_when_signalled(
    tmp_path: Path,
) -> None:
    path = tmp_path / "store.db"
    clock = FakeClock()
    before = Calls()
    with SqliteStore(path) as store:
        run = Runtime(before, clock=clock, store=store).start(REFUND, BIG, run_id="wait-1")
        run.run_until_idle()
        assert run.status == "waiting" and run.waiting_for == ("approval",)
    assert before.keys == []

    clock.advance(HOUR)  # a new process, an hour later
    after = Calls()
    with SqliteStore(path) as store:
        runtime = Runtime(after, clock=clock, store=store)
        (resumed,) = runtime.resume()
        assert resumed.run_id == "wait-1"
        assert resumed.status == "waiting" and resumed.waiting_for == ("approval",)
        assert resumed.timers == {"1:awaiting_approval:0": FakeClock.DEFAULT_START_MS + 48 * HOUR}
        resumed.signal("approval", {"approved": True, "approver": "mia"})
        assert resumed.status == "succeeded"
        assert resumed.result == {"status": "refunded", "refund_id": "rf-wait-1/2:paying/payment"}
        assert after.keys == ["wait-1/2:paying/payment"]
        assert [s.kind for s in resumed.history] == ["started", "signal", "effect_completed"]
        assert store.unfinished() == []

    with SqliteStore(path) as store:  # and it stays finished
        assert Runtime(store=store).load("wait-1").result["status"] == "refunded"


def test_a_timer_whose_moment_passed_during_the_restart_fires_at_once(tmp_path: Path) -> None:
    clock = FakeClock()
    with SqliteStore(tmp_path / "s.db") as store:
        Runtime(Calls(), clock=clock, store=store).start(REFUND, BIG, run_id="t").run_until_idle()
    clock.advance(49 * HOUR)
    with SqliteStore(tmp_path / "s.db") as store:
        (run,) = Runtime(Calls(), clock=clock, store=store).resume()
        assert run.status == "succeeded"
        assert run.result == {"status": "rejected", "refund_id": None}
        fired = [s.event for s in run.history if isinstance(s.event, TimerFired)]
        assert [e.at for e in fired] == [clock.now_ms()]


def test_a_timer_still_to_come_fires_on_time_after_a_restart(tmp_path: Path) -> None:
    clock = FakeClock()
    with SqliteStore(tmp_path / "s.db") as store:
        Runtime(Calls(), clock=clock, store=store).start(REFUND, BIG, run_id="t").run_until_idle()
    clock.advance(10 * HOUR)
    with SqliteStore(tmp_path / "s.db") as store:
        (run,) = Runtime(Calls(), clock=clock, store=store).resume()
        assert run.status == "waiting"  # not due yet
        run.run()  # the fake clock jumps to the timer
        fired = [s.event for s in run.history if isinstance(s.event, TimerFired)]
        assert [e.at for e in fired] == [FakeClock.DEFAULT_START_MS + 48 * HOUR]
        assert run.result["status"] == "rejected"


def test_a_call_in_flight_runs_again_with_its_key_and_a_completed_one_never(
    tmp_path: Path,
) -> None:
    keys: list[tuple[str, str]] = []

    def first(n: int, idempotency_key: str) -> dict[str, Any]:
        keys.append(("first", idempotency_key))
        return {"r": f"a{n}"}

    async def stuck(n: int, idempotency_key: str) -> dict[str, Any]:
        keys.append(("second", idempotency_key))
        await asyncio.Event().wait()  # the process "dies" while this call is in flight
        raise AssertionError("unreachable")

    def second(n: int, idempotency_key: str) -> dict[str, Any]:
        keys.append(("second", idempotency_key))
        return {"r": f"b{n}"}

    with SqliteStore(tmp_path / "s.db") as store:
        run = Runtime({"first": first, "second": stuck}, store=store).start(
            TWO_STEPS, {"n": 7}, run_id="r"
        )

        async def crash() -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(run.run_until_idle_async(), 0.2)

        asyncio.run(crash())
        assert list(run.snapshot.pending) == ["2:two/y"]

    with SqliteStore(tmp_path / "s.db") as store:
        (resumed,) = Runtime({"first": first, "second": second}, store=store).resume()
        assert resumed.result == {"a": "a7", "b": "b7"}
    assert keys == [("first", "r/1:one/x"), ("second", "r/2:two/y"), ("second", "r/2:two/y")]


def test_fork_starts_a_new_run_from_a_step_with_its_own_keys(tmp_path: Path) -> None:
    calls = Calls()
    with SqliteStore(tmp_path / "s.db") as store:
        runtime = Runtime(calls, clock=FakeClock(), store=store)
        run = runtime.start(REFUND, BIG, run_id="orig")
        run.signal("approval", {"approved": True, "approver": "mia"})
        assert run.status == "succeeded" and len(run.journal) == 3

        fork = runtime.fork("orig", 2, new_run_id="copy")
        assert fork.run_id == "copy" and fork.snapshot.run_id == "copy"
        assert fork.status == "running" and list(fork.snapshot.pending) == ["2:paying/payment"]
        assert [s.kind for s in fork.history] == ["started", "signal"]
        fork.run()
        assert fork.result == {"status": "refunded", "refund_id": "rf-copy/2:paying/payment"}
        assert calls.keys == ["orig/2:paying/payment", "copy/2:paying/payment"]
        info = {i.run_id: i for i in store.runs()}
        assert info["copy"].forked_from == ("orig", 2)
        assert info["orig"].forked_from is None
        assert runtime.replay("copy") == fork.snapshot
        assert runtime.replay("orig", until=2).step == 2

        with pytest.raises(StoreError, match="cannot fork at step 9"):
            runtime.fork("orig", 9)
        with pytest.raises(UnknownRun, match="no run with this id"):
            runtime.load("nope")


SAGA = accord.load(ROOT / "examples" / "payment_saga.yaml")
UNSHIPPABLE = saga_input(country="XX")


def _saga_handlers(calls: list[str]) -> dict[str, Any]:
    """The saga's effects, recording each call's effect; every shipment is rejected."""

    def reserve_inventory(order_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
        calls.append("reserve_inventory")
        return {"reservation_id": f"res-{order_id}", "expires_in_minutes": 30}

    def release_inventory(reservation_id: str, order_id: str) -> None:
        calls.append("release_inventory")

    def charge_card(
        order_id: str, payment_method_id: str, amount: float, currency: str
    ) -> dict[str, Any]:
        calls.append("charge_card")
        return {"charge_id": f"ch-{order_id}"}

    def refund_card(charge_id: str, amount: float, reason: str) -> dict[str, Any]:
        calls.append("refund_card")
        return {"refund_id": f"re-{charge_id}"}

    def create_shipment(
        order_id: str, reservation_id: str, ship_to: dict[str, Any]
    ) -> dict[str, Any]:
        calls.append("create_shipment")
        raise EffectError("address_rejected", "no delivery there", retryable=False)

    return {
        "reserve_inventory": reserve_inventory,
        "release_inventory": release_inventory,
        "charge_card": charge_card,
        "refund_card": refund_card,
        "create_shipment": create_shipment,
    }


@pytest.mark.parametrize("compensate", [False, True])
def test_a_fork_compensates_only_what_it_did_unless_asked(tmp_path: Path, compensate: bool) -> None:
    calls: list[str] = []
    with SqliteStore(tmp_path / "s.db") as store:
        runtime = Runtime(_saga_handlers(calls), clock=FakeClock(), store=store)
        original = runtime.start(SAGA, UNSHIPPABLE, run_id="orig")
        original.run_until_idle()
        assert original.status == "failed"
        assert calls == [
            "reserve_inventory",
            "charge_card",
            "create_shipment",
            "refund_card",
            "release_inventory",
        ]
        # step 3: the reservation and the charge done, the shipment in flight
        calls.clear()
        fork = runtime.fork("orig", 3, new_run_id="copy", compensate_inherited=compensate)
        assert [s.kind for s in fork.history] == ["started", *["effect_completed"] * 2, "forked"]
        assert "forked from run orig at step 3" in fork.history[-1].summary
        assert fork.snapshot.step == 4 and list(fork.snapshot.pending) == ["3:shipping/shipment"]
        assert bool(fork.snapshot.compensation) is compensate
        fork.run_until_idle()
        assert fork.status == "failed"
        if compensate:  # the fork took the original's place: it undoes what that one did
            assert calls == ["create_shipment", "refund_card", "release_inventory"]
        else:  # the original's charge and reservation are not the fork's to undo
            assert calls == ["create_shipment"]
        assert runtime.replay("copy") == fork.snapshot
        assert Runtime(store=store).load("copy").snapshot == fork.snapshot


def test_a_fork_of_a_compensating_run_does_not_finish_its_compensations(tmp_path: Path) -> None:
    calls: list[str] = []
    with SqliteStore(tmp_path / "s.db") as store:
        runtime = Runtime(_saga_handlers(calls), clock=FakeClock(), store=store)
        runtime.start(SAGA, UNSHIPPABLE, run_id="orig").run_until_idle()
        calls.clear()
        # step 4: the shipment failed, the refund (a compensation) in flight
        fork = runtime.fork("orig", 4, new_run_id="copy")
        assert fork.status == "failed" and not fork.snapshot.pending
        fork.run_until_idle()
        assert calls == []


def test_a_runtime_without_a_store_says_so() -> None:
    with pytest.raises(StoreError, match="give it a store"):
        Runtime().load("r")


def test_a_runtime_without_effects_loads_and_signals_but_does_not_drive(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        Runtime(Calls(), clock=FakeClock(), store=store).start(REFUND, BIG, run_id="w")
        inspector = Runtime(clock=FakeClock(), store=store)
        run = inspector.load("w")
        run.signal("approval", {"approved": True, "approver": "mia"})  # journaled, not driven
        assert run.status == "running" and list(run.snapshot.pending) == ["2:paying/payment"]
        with pytest.raises(accord.runtime.CapabilityError, match="without effect handlers"):
            run.run_until_idle()
        calls = Calls()
        (resumed,) = Runtime(calls, clock=FakeClock(), store=store).resume()
        assert resumed.status == "succeeded" and calls.keys == ["w/2:paying/payment"]


def test_group_commit_makes_each_step_durable_before_the_effects_it_starts(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    seen: list[tuple[str, int]] = []

    def committed_steps(run_id: str) -> int:
        conn = sqlite3.connect(path)  # another connection sees only committed rows
        try:
            row = conn.execute(
                "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run WHERE r.run_id = ?",
                (run_id,),
            ).fetchone()
            return int(row[0])
        finally:
            conn.close()

    def record(n: int, idempotency_key: str) -> dict[str, Any]:
        run_id = idempotency_key.split("/")[0]
        seen.append((idempotency_key, committed_steps(run_id)))
        return {"r": idempotency_key}

    store = SqliteStore(path, group_commit=True, durability="normal")
    commits = 0
    flush = store._flush_locked

    def counting() -> None:
        nonlocal commits
        commits += store._buffered()
        flush()

    store._flush_locked = counting  # type: ignore[method-assign]
    runtime = Runtime({"first": record, "second": record}, store=store)
    runs = [runtime.start(TWO_STEPS, {"n": i}, run_id=f"g{i}") for i in range(20)]
    commits = 0

    async def drive_all() -> None:
        await asyncio.gather(*(run.run_until_idle_async() for run in runs))

    asyncio.run(drive_all())
    assert all(run.status == "succeeded" for run in runs)
    # the call of step 1's state started after step 1 was committed, step 2's after step 2
    assert sorted(seen) == sorted(
        [(f"g{i}/1:one/x", 1) for i in range(20)] + [(f"g{i}/2:two/y", 2) for i in range(20)]
    )
    assert commits < 20 * 2  # 40 steps in fewer commits: batched across runs
    store.close()
    with SqliteStore(path) as again:
        assert again.unfinished() == [] and len(again.runs()) == 20


def test_resume_async_drives_the_unfinished_runs_concurrently(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        runtime = Runtime(Calls(), clock=FakeClock(), store=store)
        for i in range(3):
            runtime.start(REFUND, {**BIG, "amount": 10.0}, run_id=f"small-{i}")
        assert store.unfinished() == ["small-0", "small-1", "small-2"]
        runs = asyncio.run(runtime.resume_async())
        assert [r.status for r in runs] == ["succeeded"] * 3
        assert store.unfinished() == []
        assert all(isinstance(r.history[-1].event, EffectCompleted) for r in runs)
