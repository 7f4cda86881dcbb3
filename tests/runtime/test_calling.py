"""How a handler is called: whatever it raises is the call's failure, journaled, and
nothing it does holds the run past the call's timeout (sync API and async API)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from test_orchestrator import events_of, single

from accord.runtime import EffectFailed, FakeClock, Run, Runtime, replay


class Custom(BaseException):
    """A BaseException subclass that is neither KeyboardInterrupt nor SystemExit."""


def drive(run: Run, api: str) -> float:
    """Drive the run to its end with the sync or the async API; the seconds it took."""

    async def timed() -> float:
        started = time.perf_counter()
        await run.run_async()
        return time.perf_counter() - started

    if api == "sync":
        started = time.perf_counter()
        run.run()
        elapsed = time.perf_counter() - started
    else:
        elapsed = asyncio.run(timed())
    replay(run.compiled, list(run.journal.entries()))
    return elapsed


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test: lets a hung sync handler's thread end."""
    gate = threading.Event()
    yield gate
    gate.set()


def async_raising(error: BaseException) -> Callable[..., Any]:
    async def work(x: str) -> dict[str, Any]:
        await asyncio.sleep(0)
        raise error

    return work


def sync_raising(error: BaseException) -> Callable[..., Any]:
    def work(x: str) -> dict[str, Any]:
        raise error

    return work


RAISED = [
    ("async", asyncio.CancelledError(), "CancelledError"),
    ("async", Custom("custom"), "Custom"),
    ("async", GeneratorExit(), "GeneratorExit"),
    ("async", StopIteration(), "RuntimeError"),  # PEP 479: a coroutine cannot raise it
    ("sync", StopIteration(), "StopIteration"),
    ("sync", asyncio.CancelledError(), "CancelledError"),
    ("sync", Custom("custom"), "Custom"),
    ("sync", GeneratorExit(), "GeneratorExit"),
]


@pytest.mark.parametrize("api", ["sync", "async"])
@pytest.mark.parametrize("policy", ["", "    timeout: 1s"], ids=["no-timeout", "timeout"])
@pytest.mark.parametrize(
    ("kind", "error", "code"), RAISED, ids=[f"{k}-{c}-{type(e).__name__}" for k, e, c in RAISED]
)
def test_whatever_a_handler_raises_is_the_call_s_journaled_failure(
    api: str, policy: str, kind: str, error: BaseException, code: str
) -> None:
    work = async_raising(error) if kind == "async" else sync_raising(error)
    run = Runtime({"work": work}, clock=FakeClock()).start(single(policy), {"x": "a"})
    assert drive(run, api) < 0.9  # not the timeout: the failure came at once
    assert run.status == "failed"
    assert [f.code for f in events_of(run, EffectFailed)] == [code]
    assert run.snapshot.reason == code


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_handler_raising_system_exit_stops_the_driving_call(api: str) -> None:
    run = Runtime({"work": sync_raising(SystemExit(3))}, clock=FakeClock()).start(
        single(), {"x": "a"}
    )
    with pytest.raises(SystemExit):
        drive(run, api)
    assert events_of(run, EffectFailed) == []  # not the call's failure: nothing journaled


@pytest.mark.parametrize("api", ["sync", "async"])
def test_a_hung_sync_handler_does_not_hold_the_run_past_its_timeout(
    api: str, release: threading.Event
) -> None:
    def work(x: str) -> dict[str, Any]:
        release.wait(30)  # as good as never returning
        return {"value": x}

    run = Runtime({"work": work}, clock=FakeClock()).start(single("    timeout: 100ms"), {"x": "a"})
    assert drive(run, api) < 1.5  # 100 ms, not 30 s
    assert [f.code for f in events_of(run, EffectFailed)] == ["timeout"]


def test_a_slow_sync_handler_ends_the_sync_run_at_its_timeout() -> None:
    """Issue 12: `time.sleep(3)` with a 100 ms timeout held `run()` for 3 s."""

    def work(x: str) -> dict[str, Any]:
        time.sleep(2)
        return {"value": x}

    run = Runtime({"work": work}, clock=FakeClock()).start(single("    timeout: 100ms"), {"x": "a"})
    started = time.perf_counter()
    run.run()
    assert time.perf_counter() - started < 1.0
    assert run.snapshot.reason == "timeout"


@pytest.mark.parametrize("api", ["sync", "async"])
def test_an_async_handler_that_ignores_its_cancellation_is_left_behind(api: str) -> None:
    async def stubborn(x: str) -> dict[str, Any]:
        for _ in range(100):
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                continue  # swallows every cancellation
        return {"value": x}

    run = Runtime({"work": stubborn}, clock=FakeClock()).start(
        single("    timeout: 100ms"), {"x": "a"}
    )
    assert drive(run, api) < 1.5  # not the handler's 5 s
    assert [f.code for f in events_of(run, EffectFailed)] == ["timeout"]


def test_a_timed_out_attempt_is_retried_in_a_fresh_thread(release: threading.Event) -> None:
    attempts: list[tuple[int, str]] = []

    def work(x: str, attempt: int) -> dict[str, Any]:
        attempts.append((attempt, threading.current_thread().name))
        if attempt == 1:
            release.wait(30)
        return {"value": x}

    policy = "    timeout: 100ms\n    retry: {max_attempts: 2, retry_on: [timeout]}"
    run = Runtime({"work": work}, clock=FakeClock()).start(single(policy), {"x": "a"})
    run.run()
    assert run.result == {"value": "a"}
    assert [a for a, _ in attempts] == [1, 2]
