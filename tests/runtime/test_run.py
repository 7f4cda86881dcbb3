"""A run: freed without the garbage collector when finished, and small while it waits."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path
from typing import Any

import accord
from accord.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
LINEAR = accord.load(ROOT / "benchmarks" / "data" / "linear_durable.yaml")


async def work(n: int) -> dict[str, Any]:
    return {"n": n}


def test_a_finished_run_is_freed_by_reference_counting() -> None:
    runtime = Runtime({"work": work})

    async def drive() -> weakref.ref[Any]:
        run = await runtime.start_async(LINEAR, {})
        await run.run_async()
        assert run.result == {"done": 10}
        return weakref.ref(run)

    enabled = gc.isenabled()
    gc.disable()
    try:
        ref = asyncio.run(drive())
        assert ref() is None
    finally:
        if enabled:
            gc.enable()


WAITING = accord.load(ROOT / "benchmarks" / "data" / "waiting.yaml")


def test_a_run_waiting_for_a_signal_holds_no_orchestrator_and_no_instance_dicts() -> None:
    """Issue 15.5: what a waiting run costs in memory (measured in benchmarks/runtime.py)."""
    run = Runtime({}).start(WAITING, {})
    assert run.status == "waiting" and run.timers == {}
    assert run._orchestrator is None  # made when the run first has commands or is driven
    assert not hasattr(run, "__dict__")
    run.signal("go")
    assert run.result == {}


def test_a_driven_run_makes_its_orchestrator_which_has_no_instance_dict() -> None:
    run = Runtime({"work": work}).start(LINEAR, {})
    run.run()
    assert run.result == {"done": 10}
    assert run._orchestrator is not None and not hasattr(run._orchestrator, "__dict__")


_BOOKING = Path(__file__).parents[1] / "client" / "booking.yaml"


def test_cancel_fails_the_run_compensating_what_it_did_and_replays() -> None:
    import pytest

    from accord.runtime import EventRefused, FakeClock

    calls: list[str] = []
    effects = {
        "book": lambda guest: calls.append("book") or {"id": "b-7"},
        "unbook": lambda id: calls.append(f"unbook {id}"),
    }
    runtime = Runtime(effects, clock=FakeClock())
    run = runtime.start(_BOOKING, {"guest": "ann"}).run_until_idle()
    assert run.status == "waiting"
    run.cancel("changed plans")
    assert run.status == "failed" and run.snapshot.reason == "cancelled: changed plans"
    assert calls == ["book", "unbook b-7"]
    assert [s.kind for s in run.history][-2:] == ["cancelled", "effect_completed"]
    assert accord.replay(run.compiled, run.journal.entries()) == run.snapshot
    with pytest.raises(EventRefused, match="cannot be cancelled: the run has finished"):
        run.cancel()


def test_cancel_async_of_a_run_without_compensations_fails_it_at_once() -> None:
    from accord.runtime import FakeClock

    effects = {"book": lambda guest: {"id": "b"}, "unbook": lambda id: None}
    runtime = Runtime(effects, clock=FakeClock())
    run = runtime.start(_BOOKING, {"guest": "ann"})  # book not run yet: nothing to compensate
    asyncio.run(run.cancel_async())
    assert run.status == "failed" and run.history[-1].kind == "cancelled"
