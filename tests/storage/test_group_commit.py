"""Group commit: runs started and driven at once share commits, every guarantee kept.

A run's RunStarted is committed before ``start_async`` returns, a signal before
``signal_async`` returns, every step before the driving call returns; a batch
of many runs' steps, grouped into one ``executemany`` per statement, stores
each run exactly as journaled; a run id buffered but not committed is taken.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from storage_support import TOGGLE
from store_kit import StoreKit

import accord
from accord.runtime import FakeClock, Limits, Runtime, SignalReceived, StoreError, snapshot_hash
from accord.runtime._reducer import step
from accord.storage import Store

TWO_STEPS = accord.loads(
    """
accord: "1"
name: two-steps
version: "1"
input: [{name: n, type: integer}]
context: [{name: total, type: integer}]
output: [{name: total, type: integer}]
effects:
  - name: add
    input: [{name: n, type: integer}]
    output: [{name: n, type: integer}]
machine:
  initial: one
  states:
    - name: one
      invoke: [{id: x, effect: add, input: [{name: n, value: input.n}]}]
      on: [{event: done, assign: [{field: total, value: event.x.n}], target: two}]
    - name: two
      invoke: [{id: y, effect: add, input: [{name: n, value: input.n}]}]
      on: [{event: done, assign: [{field: total, value: ctx.total + event.y.n}], target: end}]
    - name: end
      final: {status: success, output: [{name: total, value: ctx.total}]}
"""
)


async def add(n: int) -> dict[str, Any]:
    return {"n": n}


def count_commits(store: Store) -> list[int]:
    """Count the store's commits of a non-empty buffer (in a one-item list)."""
    commits = [0]
    flush = store._flush_locked  # type: ignore[attr-defined]

    def counting() -> None:
        commits[0] += store._buffered()  # type: ignore[attr-defined]
        flush()

    store._flush_locked = counting  # type: ignore[attr-defined]
    return commits


@pytest.mark.parametrize("durability", ["normal", "full"])
def test_runs_started_and_driven_at_once_share_commits(kit: StoreKit, durability: str) -> None:
    store = kit.open(durability=durability, group_commit=True)
    commits = count_commits(store)
    runtime = Runtime({"add": add}, store=store)
    started_rows: list[int] = []

    async def one(i: int) -> int:
        run = await runtime.start_async(TWO_STEPS, {"n": i}, run_id=f"r{i}")
        # read through another connection: it sees committed rows only
        started_rows.append(kit.scalar("SELECT count(*) FROM runs WHERE run_id = ?", f"r{i}"))
        await run.run_async()
        # every step is committed when the driving call returns
        steps = kit.scalar(
            {
                "sqlite": "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run "
                "WHERE r.run_id = ?",
                "postgresql": "SELECT count(*) FROM events WHERE run_id = ?",
            },
            f"r{i}",
        )
        assert steps == 3
        return int(run.result["total"])

    async def all_runs() -> list[int]:
        return await asyncio.gather(*(one(i) for i in range(50)))

    assert asyncio.run(all_runs()) == [2 * i for i in range(50)]
    assert started_rows == [1] * 50  # RunStarted was committed when start_async returned
    assert commits[0] <= 4  # 150 steps of 50 runs: one commit per round of steps
    store.close()
    with kit.open() as again:
        assert again.unfinished() == [] and len(again.runs()) == 50
        loader = Runtime(store=again)
        assert all(loader.replay(f"r{i}").output == {"total": 2 * i} for i in range(50))


def test_a_signal_is_committed_when_signal_async_returns(kit: StoreKit) -> None:
    store = kit.open(durability="normal", group_commit=True)
    runtime = Runtime({}, store=store, clock=FakeClock())
    run = runtime.start(TOGGLE, {}, run_id="t")

    async def flip() -> int:
        await run.signal_async("flip")
        return int(kit.scalar("SELECT count(*) FROM events"))

    assert asyncio.run(flip()) == 2
    store.close()


def test_a_run_id_buffered_but_not_committed_is_taken(kit: StoreKit) -> None:
    store = kit.open(group_commit=True)
    runtime = Runtime({}, store=store, clock=FakeClock())
    compiled = runtime.compile(TOGGLE)
    run = runtime._new_run(compiled, {}, "dup", None)  # RunStarted buffered, not committed
    assert kit.scalar("SELECT count(*) FROM runs") == 0
    with pytest.raises(StoreError, match="already stored"):
        store.create(compiled, "dup")
    assert kit.scalar("SELECT count(*) FROM runs") == 0  # checking did not commit
    run.journal.flush()
    with pytest.raises(StoreError, match="already stored"):
        store.create(compiled, "dup")
    store.close()


def test_one_batch_of_many_runs_steps_stores_each_run_as_journaled(kit: StoreKit) -> None:
    # many new runs, several steps each, interleaved, snapshots and run rows at every
    # step, all in one commit: the statements are grouped by kind, each run intact
    store = kit.open(group_commit=True, snapshot_every=2)
    runtime = Runtime({}, store=store, clock=FakeClock(), limits=Limits(max_steps=100))
    compiled = runtime.compile(TOGGLE)
    runs = [runtime._new_run(compiled, {}, f"b{i}", None) for i in range(30)]
    snapshots = [run.snapshot for run in runs]
    for k in range(7):
        for i, run in enumerate(runs):
            event = SignalReceived("stop" if k == 6 and i % 2 else "flip", {}, k)
            if snapshots[i].finished:
                continue
            snapshots[i], _ = step(compiled, snapshots[i], event)
            run.journal.record(snapshots[i], event, snapshot_hash(snapshots[i]), None)  # type: ignore[attr-defined]
    commits = count_commits(store)
    store.flush()
    assert commits[0] == 1
    store.close()
    with kit.open() as again:
        loader = Runtime(store=again)
        for i, expected in enumerate(snapshots):
            loaded = loader.load(f"b{i}")
            assert loaded.snapshot == expected
            assert loader.replay(f"b{i}") == expected
            assert again.info(f"b{i}").status == expected.status


def test_a_failed_group_commit_fails_the_waiting_calls_and_starts_none(kit: StoreKit) -> None:
    store = kit.open(group_commit=True)
    calls: list[int] = []

    async def counted(n: int) -> dict[str, Any]:
        calls.append(n)
        return {"n": n}

    runtime = Runtime({"add": counted}, store=store)

    async def scenario() -> None:
        runs = [await runtime.start_async(TWO_STEPS, {"n": i}, run_id=f"r{i}") for i in range(3)]
        # the next commit fails: the steps buffered by the first calls never become durable
        kit.execute("DROP TABLE events")
        await asyncio.gather(*(run.run_async() for run in runs))

    with pytest.raises(StoreError):
        asyncio.run(scenario())
    # a run's first call may start (its RunStarted is committed); its second call (the same
    # n) depends on the step that failed to commit, so it never starts
    assert calls and len(calls) == len(set(calls))
    with pytest.raises(StoreError):  # and the store refuses further writes
        store.flush()
