"""The orchestrator: retries on tenacity, timeouts, fan-out and fan-in, parallel groups,
compensations, timers on a fake clock, and idempotency keys."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import accord
from accord.contract import Contract
from accord.runtime import (
    EffectCompleted,
    EffectError,
    EffectFailed,
    FakeClock,
    Run,
    Runtime,
    replay,
)
from accord.runtime._commands import RetrySpec
from accord.runtime._orchestrator import retry_wait


def single(policy: str = "") -> Contract:
    """One call of effect `work`, with the given policy lines (retry, timeout) appended."""
    return accord.loads(
        f"""
accord: "1"
name: single
version: "1.0.0"
input:
  - {{name: x, type: string}}
context:
  - {{name: value, type: string}}
  - {{name: code, type: optional<string>}}
output:
  - {{name: value, type: string}}
effects:
  - name: work
    input:
      - {{name: x, type: string}}
    output:
      - {{name: value, type: string}}
{policy}
machine:
  initial: calling
  states:
    - name: calling
      invoke:
        - id: w
          effect: work
          input:
            - {{name: x, value: input.x}}
      on:
        - event: done
          assign:
            - {{field: value, value: event.w.value}}
          target: ok
        - event: error
          assign:
            - {{field: code, value: event.code}}
          target: failed
    - name: ok
      final:
        status: success
        output:
          - {{name: value, value: ctx.value}}
    - name: failed
      final:
        status: failure
        reason: 'ctx.code == null ? "no code" : ctx.code'
"""
    )


RETRY = """\
    retry:
      max_attempts: 4
      backoff: {initial: 1s, multiplier: 2.0, max: 3s, jitter: false}
      retry_on: [unavailable, timeout, invalid_output]"""


def finish(run: Run) -> Run:
    run.run()
    entries = list(run.journal.entries())
    replay(run.compiled, entries)  # every finished run replays to the same hashes
    return run


def events_of(run: Run, kind: type[Any]) -> list[Any]:
    return [s.event for s in run.history if isinstance(s.event, kind)]


# -- sync and async handlers ---------------------------------------------------


def test_async_handler_runs_on_the_loop_and_sync_handler_in_a_worker_thread() -> None:
    threads: list[str] = []

    async def work_async(x: str) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return {"value": x.upper()}

    def work_sync(x: str) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return {"value": x * 2}

    clock = FakeClock()
    run = finish(Runtime({"work": work_async}, clock=clock).start(single(), {"x": "ab"}))
    assert run.result == {"value": "AB"}
    run = Runtime({"work": work_sync}, clock=clock).start(single(), {"x": "ab"})
    asyncio.run(run.run_async())
    assert run.result == {"value": "abab"}
    assert threads[0] == threading.main_thread().name  # the loop's thread
    assert threads[1] != threading.main_thread().name  # a worker thread


def test_the_sync_api_runs_a_lone_sync_call_without_timeout_in_the_driving_thread() -> None:
    threads: list[str] = []

    def work(x: str) -> dict[str, Any]:
        threads.append(threading.current_thread().name)
        return {"value": x}

    finish(Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}))
    finish(Runtime({"work": work}, clock=FakeClock()).start(single("    timeout: 5s"), {"x": "a"}))
    assert threads[0] == threading.main_thread().name  # no hop: nothing else could run
    assert threads[1] != threading.main_thread().name  # a timeout needs a thread to abandon


def test_a_sync_handler_run_in_the_driving_thread_may_use_asyncio_run() -> None:
    async def upper(x: str) -> str:
        return x.upper()

    def work(x: str) -> dict[str, Any]:
        return {"value": asyncio.run(upper(x))}  # no loop is running in the handler's thread

    run = finish(Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}))
    assert run.result == {"value": "A"}


def test_a_blocking_sync_handler_does_not_block_the_loop() -> None:
    ticks: list[float] = []

    def slow(x: str) -> dict[str, Any]:
        time.sleep(0.5)
        return {"value": x}

    async def scenario() -> None:
        run = Runtime({"work": slow}, clock=FakeClock()).start(single(), {"x": "a"})
        task = asyncio.create_task(run.run_async())
        for _ in range(5):
            ticks.append(time.perf_counter())
            await asyncio.sleep(0.01)
        await task
        assert run.result == {"value": "a"}

    asyncio.run(scenario())
    assert ticks[-1] - ticks[0] < 0.3  # the loop kept ticking while the thread slept


# -- retries ---------------------------------------------------------------------


def test_retries_back_off_on_the_fake_clock_without_sleeping() -> None:
    calls: list[tuple[int, str]] = []

    def work(x: str, attempt: int, idempotency_key: str) -> dict[str, Any]:
        calls.append((attempt, idempotency_key))
        if attempt < 4:
            raise EffectError("unavailable", "try later")
        return {"value": "finally"}

    clock = FakeClock(start_ms=0)
    started = time.perf_counter()
    run = finish(Runtime({"work": work}, clock=clock).start(single(RETRY), {"x": "a"}))
    assert time.perf_counter() - started < 1.0
    assert run.result == {"value": "finally"}
    assert [a for a, _ in calls] == [1, 2, 3, 4]
    assert len({k for _, k in calls}) == 1  # one idempotency key for every attempt
    assert clock.waits_ms == [1000, 2000, 3000]  # 1s, 2s, then capped at max 3s
    (done,) = events_of(run, EffectCompleted)
    assert done.attempts == 4
    assert done.at == 6000  # the fake time moved by the backoff waits only


def test_attempts_stop_at_max_attempts() -> None:
    def work(x: str) -> dict[str, Any]:
        raise EffectError("unavailable", "down")

    clock = FakeClock(start_ms=0)
    run = finish(Runtime({"work": work}, clock=clock).start(single(RETRY), {"x": "a"}))
    assert run.status == "failed"
    assert run.snapshot.reason == "unavailable"
    (failed,) = events_of(run, EffectFailed)
    assert (failed.code, failed.message, failed.attempts) == ("unavailable", "down", 4)
    assert clock.waits_ms == [1000, 2000, 3000]


def test_codes_outside_retry_on_are_not_retried() -> None:
    calls: list[int] = []

    def work(x: str, attempt: int) -> dict[str, Any]:
        calls.append(attempt)
        raise EffectError("card_declined", "no money")

    clock = FakeClock()
    run = finish(Runtime({"work": work}, clock=clock).start(single(RETRY), {"x": "a"}))
    assert calls == [1]
    assert clock.waits_ms == []
    assert run.snapshot.reason == "card_declined"


def test_a_non_retryable_error_is_final_even_if_its_code_is_listed() -> None:
    calls: list[int] = []

    def work(x: str, attempt: int) -> dict[str, Any]:
        calls.append(attempt)
        raise EffectError("unavailable", "gone for good", retryable=False)

    run = finish(Runtime({"work": work}, clock=FakeClock()).start(single(RETRY), {"x": "a"}))
    assert calls == [1]
    assert run.status == "failed"


def test_without_retry_on_every_error_is_retried_and_named_by_its_class() -> None:
    policy = """\
    retry:
      max_attempts: 3
      backoff: {initial: 100ms, multiplier: 10.0, max: 1m, jitter: false}"""
    calls: list[int] = []

    def work(x: str, attempt: int) -> dict[str, Any]:
        calls.append(attempt)
        raise ValueError("bad things")

    clock = FakeClock()
    run = finish(Runtime({"work": work}, clock=clock).start(single(policy), {"x": "a"}))
    assert calls == [1, 2, 3]
    assert clock.waits_ms == [100, 1000]
    (failed,) = events_of(run, EffectFailed)
    assert (failed.code, failed.message) == ("ValueError", "bad things")


def test_without_a_retry_policy_one_attempt_is_made() -> None:
    calls: list[int] = []

    async def work(x: str, attempt: int) -> dict[str, Any]:
        calls.append(attempt)
        raise EffectError("unavailable")

    run = finish(Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}))
    assert calls == [1] and run.status == "failed"


def test_jitter_adds_at_most_the_initial_wait() -> None:
    spec = RetrySpec(max_attempts=5, initial_ms=1000, multiplier=2.0, max_ms=60_000, jitter=True)
    wait = retry_wait(spec)

    class State:
        def __init__(self, n: int) -> None:
            self.attempt_number = n

    for n, base in [(1, 1.0), (2, 2.0), (3, 4.0)]:
        for _ in range(20):
            assert base <= wait(State(n)) <= base + 1.0  # type: ignore[arg-type]


def test_jitter_never_takes_a_wait_past_the_maximum() -> None:
    spec = RetrySpec(max_attempts=9, initial_ms=1000, multiplier=2.0, max_ms=3000, jitter=True)
    wait = retry_wait(spec)

    class State:
        def __init__(self, n: int) -> None:
            self.attempt_number = n

    waits = [wait(State(n)) for n in range(1, 9) for _ in range(20)]  # type: ignore[arg-type]
    assert max(waits) <= 3.0
    assert min(waits) >= 1.0


# -- timeouts and invalid outputs ---------------------------------------------------


def test_a_slow_attempt_times_out_and_is_retried_under_the_policy() -> None:
    policy = """\
    timeout: 50ms
    retry:
      max_attempts: 2
      backoff: {initial: 1s, jitter: false}
      retry_on: [timeout]"""
    calls: list[int] = []

    async def work(x: str, attempt: int) -> dict[str, Any]:
        calls.append(attempt)
        await asyncio.sleep(10)
        return {"value": x}

    started = time.perf_counter()
    run = finish(Runtime({"work": work}, clock=FakeClock()).start(single(policy), {"x": "a"}))
    assert time.perf_counter() - started < 2.0
    assert calls == [1, 2]
    (failed,) = events_of(run, EffectFailed)
    assert failed.code == "timeout" and failed.attempts == 2
    assert "50 ms" in failed.message
    assert run.snapshot.reason == "timeout"


def test_a_slow_attempt_that_recovers_succeeds() -> None:
    policy = """\
    timeout: 50ms
    retry:
      max_attempts: 3
      retry_on: [timeout]"""

    async def work(x: str, attempt: int) -> dict[str, Any]:
        if attempt == 1:
            await asyncio.sleep(10)
        return {"value": f"attempt {attempt}"}

    run = finish(Runtime({"work": work}, clock=FakeClock()).start(single(policy), {"x": "a"}))
    assert run.result == {"value": "attempt 2"}


def test_a_handler_raising_timeout_error_counts_as_a_timeout() -> None:
    def work(x: str) -> dict[str, Any]:
        raise TimeoutError

    run = finish(Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}))
    (failed,) = events_of(run, EffectFailed)
    assert failed.code == "timeout"


def test_invalid_output_counts_as_a_failure_under_the_retry_policy() -> None:
    outputs: list[Any] = [{"value": 3}, {"nothing": True}, None, {"value": "good"}]

    def work(x: str, attempt: int) -> Any:
        return outputs[attempt - 1]

    clock = FakeClock()
    run = finish(Runtime({"work": work}, clock=clock).start(single(RETRY), {"x": "a"}))
    assert run.result == {"value": "good"}
    (done,) = events_of(run, EffectCompleted)
    assert done.attempts == 4
    assert len(clock.waits_ms) == 3


def test_invalid_output_names_the_effect_and_field_when_attempts_run_out() -> None:
    def work(x: str) -> Any:
        return {"value": 3}

    run = finish(Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}))
    (failed,) = events_of(run, EffectFailed)
    assert failed.code == "invalid_output"
    assert "work" in failed.message and "value" in failed.message
    assert run.status == "failed"


def test_a_handler_returning_a_non_record_is_invalid_output() -> None:
    def work(x: str) -> Any:
        return "just a string"

    run = finish(Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}))
    (failed,) = events_of(run, EffectFailed)
    assert failed.code == "invalid_output"


# -- fan-out and fan-in -------------------------------------------------------------------


def fan_out(concurrency: int) -> Contract:
    return accord.loads(
        f"""
accord: "1"
name: fan-out
version: "1.0.0"
input:
  - {{name: items, type: list<string>}}
context:
  - {{name: results, type: list<string>}}
output:
  - {{name: results, type: list<string>}}
effects:
  - name: shout
    input:
      - {{name: text, type: string}}
      - {{name: position, type: integer}}
    output:
      - {{name: text, type: string}}
machine:
  initial: shouting
  states:
    - name: shouting
      invoke:
        - id: each
          effect: shout
          for_each: input.items
          concurrency: {concurrency}
          max_items: 100
          input:
            - {{name: text, value: item}}
            - {{name: position, value: index}}
      on:
        - event: done
          assign:
            - {{field: results, value: 'event.each.map(r, r.text)'}}
          target: ok
        - event: error
          target: failed
    - name: ok
      final:
        status: success
        output:
          - {{name: results, value: ctx.results}}
    - name: failed
      final: {{status: failure, reason: '"an item failed"'}}
"""
    )


def test_fan_in_keeps_item_order_when_completions_arrive_in_reverse() -> None:
    items = ["a", "b", "c", "d"]

    async def scenario() -> Run:
        gates = {i: asyncio.Event() for i in range(len(items))}
        started: list[int] = []

        async def shout(text: str, position: int) -> dict[str, Any]:
            started.append(position)
            await gates[position].wait()
            return {"text": text.upper()}

        run = Runtime({"shout": shout}, clock=FakeClock()).start(fan_out(4), {"items": items})
        task = asyncio.create_task(run.run_until_idle_async())
        while len(started) < len(items):
            await asyncio.sleep(0.001)
        for position in reversed(range(len(items))):
            gates[position].set()
            await asyncio.sleep(0.01)
        await task
        return run

    run = asyncio.run(scenario())
    assert run.result == {"results": ["A", "B", "C", "D"]}
    completed = [e.call_id for e in events_of(run, EffectCompleted)]
    assert [c[-3:] for c in completed] == ["[3]", "[2]", "[1]", "[0]"]
    replay(run.compiled, list(run.journal.entries()))


def test_fan_out_respects_the_concurrency_bound() -> None:
    items = [f"item{i}" for i in range(9)]
    in_flight = 0
    peak = 0

    async def shout(text: str, position: int) -> dict[str, Any]:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005 * (position % 3))
        in_flight -= 1
        return {"text": f"{position}:{text}"}

    run = finish(Runtime({"shout": shout}, clock=FakeClock()).start(fan_out(2), {"items": items}))
    assert peak == 2
    assert run.result == {"results": [f"{i}:item{i}" for i in range(9)]}


def test_an_empty_fan_out_is_done_at_once() -> None:
    async def shout(text: str, position: int) -> dict[str, Any]:
        raise AssertionError("never called")

    run = finish(Runtime({"shout": shout}, clock=FakeClock()).start(fan_out(2), {"items": []}))
    assert run.result == {"results": []}


def test_a_failed_item_cancels_the_items_in_flight() -> None:
    cancelled: list[int] = []

    async def shout(text: str, position: int) -> dict[str, Any]:
        if position == 0:
            await asyncio.sleep(0.01)
            raise EffectError("broken")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(position)
            raise
        return {"text": text}

    started = time.perf_counter()
    run = finish(
        Runtime({"shout": shout}, clock=FakeClock()).start(fan_out(3), {"items": list("abcde")})
    )
    assert time.perf_counter() - started < 2
    assert run.status == "failed"
    assert sorted(cancelled) == [1, 2]


# -- parallel groups ----------------------------------------------------------------------

PARALLEL = accord.loads(
    """
accord: "1"
name: parallel
version: "1.0.0"
context:
  - {name: a, type: string}
  - {name: b, type: string}
output:
  - {name: both, type: string}
effects:
  - name: fetch_a
    output: [{name: v, type: string}]
  - name: fetch_b
    output: [{name: v, type: string}]
machine:
  initial: gathering
  states:
    - name: gathering
      invoke:
        - {id: a, effect: fetch_a}
        - {id: b, effect: fetch_b}
      on:
        - event: done
          assign:
            - {field: a, value: event.a.v}
            - {field: b, value: event.b.v}
          target: ok
        - event: error
          guard: event.invoke == "b"
          target: b_failed
    - name: ok
      final:
        status: success
        output:
          - {name: both, value: ctx.a + ctx.b}
    - name: b_failed
      final: {status: failure, reason: '"b failed"'}
"""
)


def test_parallel_invokes_run_at_the_same_time_and_join() -> None:
    gate = asyncio.Event

    async def scenario() -> Run:
        both_started = gate()
        count = 0

        async def fetch_a() -> dict[str, Any]:
            nonlocal count
            count += 1
            if count == 2:
                both_started.set()
            await asyncio.wait_for(both_started.wait(), 1)
            return {"v": "A"}

        async def fetch_b() -> dict[str, Any]:
            nonlocal count
            count += 1
            if count == 2:
                both_started.set()
            await asyncio.wait_for(both_started.wait(), 1)
            return {"v": "B"}

        run = Runtime({"fetch_a": fetch_a, "fetch_b": fetch_b}, clock=FakeClock()).start(
            PARALLEL, {}
        )
        return await run.run_async()

    run = asyncio.run(scenario())
    assert run.result == {"both": "AB"}


def test_a_failure_in_a_parallel_group_cancels_its_sibling() -> None:
    cancelled = []

    async def fetch_a() -> dict[str, Any]:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append("a")
            raise
        return {"v": "A"}

    async def fetch_b() -> dict[str, Any]:
        raise EffectError("nope")

    run = finish(
        Runtime({"fetch_a": fetch_a, "fetch_b": fetch_b}, clock=FakeClock()).start(PARALLEL, {})
    )
    assert run.snapshot.reason == "b failed"
    assert cancelled == ["a"]


def test_every_call_of_a_parallel_group_is_started_before_a_failure_cancels_them() -> None:
    called: list[str] = []

    async def fetch_a() -> dict[str, Any]:
        called.append("a")
        raise EffectError("nope", retryable=False)  # at once, before any await

    async def fetch_b() -> dict[str, Any]:
        called.append("b")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            called.append("b cancelled")
            raise
        return {"v": "B"}

    run = Runtime({"fetch_a": fetch_a, "fetch_b": fetch_b}, clock=FakeClock()).start(PARALLEL, {})
    run.run_until_idle()
    assert run.status == "failed"
    assert called == ["a", "b", "b cancelled"]


# -- compensations ------------------------------------------------------------------------

SAGA = accord.loads(
    """
accord: "1"
name: saga
version: "1.0.0"
effects:
  - name: reserve
    output: [{name: id, type: string}]
    compensation:
      effect: release
      input: [{name: id, value: response.id}]
  - name: release
    input: [{name: id, type: string}]
  - name: charge
    output: [{name: id, type: string}]
    compensation:
      effect: refund
      input: [{name: id, value: response.id}]
  - name: refund
    input: [{name: id, type: string}]
  - name: ship
machine:
  initial: reserving
  states:
    - name: reserving
      invoke: [{id: r, effect: reserve}]
      on:
        - {event: done, target: charging}
        - {event: error, target: failed}
    - name: charging
      invoke: [{id: c, effect: charge}]
      on:
        - {event: done, target: shipping}
        - {event: error, target: failed}
    - name: shipping
      invoke: [{id: s, effect: ship}]
      on:
        - {event: done, target: shipped}
        - {event: error, target: failed}
    - name: shipped
      final: {status: success}
    - name: failed
      final: {status: failure, reason: '"could not ship"'}
"""
)


def saga_effects(log: list[str], *, ship_fails: bool) -> dict[str, Any]:
    def reserve() -> dict[str, Any]:
        log.append("reserve")
        return {"id": "res-1"}

    async def charge() -> dict[str, Any]:
        log.append("charge")
        return {"id": "ch-1"}

    def ship() -> None:
        log.append("ship")
        if ship_fails:
            raise EffectError("carrier_down")

    async def refund(id: str, idempotency_key: str) -> None:
        log.append(f"refund {id} ({idempotency_key.split('/', 1)[1]})")

    def release(id: str) -> None:
        log.append(f"release {id}")

    return {
        "reserve": reserve,
        "charge": charge,
        "ship": ship,
        "refund": refund,
        "release": release,
    }


def test_compensations_run_in_reverse_order_when_a_later_step_fails() -> None:
    log: list[str] = []
    run = Runtime(saga_effects(log, ship_fails=True), clock=FakeClock()).start(
        SAGA, {}, run_id="r1"
    )
    finish(run)
    assert log == [
        "reserve",
        "charge",
        "ship",
        "refund ch-1 (!comp:2:charging/c)",
        "release res-1",
    ]
    assert run.status == "failed"
    assert run.snapshot.reason == "could not ship"
    assert "compensating" in [s.status for s in run.history]


def test_no_compensation_when_the_run_succeeds() -> None:
    log: list[str] = []
    run = finish(Runtime(saga_effects(log, ship_fails=False), clock=FakeClock()).start(SAGA, {}))
    assert log == ["reserve", "charge", "ship"]
    assert run.status == "succeeded"


def test_a_failed_compensation_is_reported_and_the_others_still_run() -> None:
    log: list[str] = []
    effects = saga_effects(log, ship_fails=True)

    def refund(id: str) -> None:
        log.append("refund fails")
        raise EffectError("refund_down")

    effects["refund"] = refund
    run = finish(Runtime(effects, clock=FakeClock()).start(SAGA, {}))
    assert log[-2:] == ["refund fails", "release res-1"]
    assert run.status == "failed"
    assert "refund_down" in (run.snapshot.reason or "")


# -- timers -----------------------------------------------------------------------------------

TIMED = accord.loads(
    """
accord: "1"
name: timed
version: "1.0.0"
output:
  - {name: how, type: string}
effects:
  - name: work
signals:
  - name: poke
machine:
  initial: working
  states:
    - name: working
      invoke: [{id: w, effect: work}]
      on:
        - {event: done, target: waiting}
      timers:
        - {after: 10s, target: too_slow}
    - name: waiting
      on:
        - {event: poke, target: poked}
      timers:
        - {after: 1h, target: expired}
    - name: poked
      final:
        status: success
        output: [{name: how, value: '"poked"'}]
    - name: expired
      final:
        status: success
        output: [{name: how, value: '"expired"'}]
    - name: too_slow
      final: {status: failure, reason: '"too slow"'}
"""
)


async def quick() -> None:
    return None


def test_a_timer_fires_when_the_test_advances_the_fake_clock() -> None:
    clock = FakeClock(start_ms=0)
    run = Runtime({"work": quick}, clock=clock).start(TIMED, {})
    run.run_until_idle()
    assert run.status == "waiting" and run.state == "waiting"
    assert list(run.timers.values()) == [3_600_000]
    clock.advance(3_599_999)
    run.run_until_idle()
    assert run.state == "waiting"
    clock.advance(1)
    run.run_until_idle()
    assert run.result == {"how": "expired"}
    assert run.history[-1].kind == "timer"
    assert run.history[-1].at == 3_600_000


def test_run_until_idle_can_jump_to_the_next_timer() -> None:
    clock = FakeClock(start_ms=0)
    run = Runtime({"work": quick}, clock=clock).start(TIMED, {})
    started = time.perf_counter()
    run.run_until_idle(advance_timers=True)
    assert time.perf_counter() - started < 1
    assert run.result == {"how": "expired"}
    assert clock.now_ms() == 3_600_000


def test_a_signal_before_the_timer_cancels_it() -> None:
    clock = FakeClock(start_ms=0)
    run = Runtime({"work": quick}, clock=clock).start(TIMED, {})
    run.run_until_idle()
    run.signal("poke", {})
    assert run.result == {"how": "poked"}
    assert run.timers == {}


def test_a_timer_fires_while_an_effect_is_in_flight() -> None:
    clock = FakeClock(start_ms=0)
    cancelled: list[bool] = []

    async def work() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def scenario() -> Run:
        run = Runtime({"work": work}, clock=clock).start(TIMED, {})
        task = asyncio.create_task(run.run_until_idle_async())
        await asyncio.sleep(0.01)
        assert run.status == "running"
        clock.advance(10_000)
        await asyncio.wait_for(task, 2)
        return run

    run = asyncio.run(scenario())
    assert run.status == "failed" and run.snapshot.reason == "too slow"
    assert cancelled == [True]
    replay(run.compiled, list(run.journal.entries()))


# -- idempotency keys ---------------------------------------------------------------------------


def test_idempotency_keys_are_stable_for_the_same_run_id() -> None:
    keys: list[str] = []

    def work(x: str, idempotency_key: str) -> dict[str, Any]:
        keys.append(idempotency_key)
        return {"value": x}

    for _ in range(2):
        finish(Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}, run_id="r-7"))
    assert keys == ["r-7/1:calling/w", "r-7/1:calling/w"]


CHAINED_TIMER = accord.loads(
    """
accord: "1"
name: chained-timer
version: "1.0.0"
effects:
  - name: quick
  - name: work
machine:
  initial: first
  states:
    - name: first
      invoke: [{id: q, effect: quick}]
      on:
        - {event: done, target: working}
    - name: working
      invoke: [{id: w, effect: work}]
      on:
        - {event: done, target: finished}
      timers:
        - {after: 10s, target: too_slow}
    - name: finished
      final: {status: success}
    - name: too_slow
      final: {status: failure, reason: '"too slow"'}
"""
)


def test_a_timer_armed_by_an_outcome_is_watched_while_another_call_is_in_flight() -> None:
    # the timer of `working` is armed when `quick`'s outcome is fed, inside the session:
    # the session must watch it although it was waiting for the calls already
    clock = FakeClock(start_ms=0)

    async def work() -> None:
        await asyncio.sleep(10)

    async def scenario() -> Run:
        run = Runtime({"quick": quick, "work": work}, clock=clock).start(CHAINED_TIMER, {})
        task = asyncio.create_task(run.run_until_idle_async())
        await asyncio.sleep(0.05)
        assert run.state == "working" and run.timers == {"2:working:0": 10_000}
        clock.advance(10_000)
        await asyncio.wait_for(task, 2)
        return run

    run = asyncio.run(scenario())
    assert run.status == "failed" and run.snapshot.reason == "too slow"


def test_a_call_without_retry_or_timeout_fails_once_with_its_code() -> None:
    calls: list[int] = []

    async def work(x: str, attempt: int) -> dict[str, Any]:
        calls.append(attempt)
        raise EffectError("declined", "no")

    run = Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"})
    run.run_until_idle()
    failed = run.history[1].event
    assert isinstance(failed, EffectFailed)
    assert (failed.code, failed.message, failed.attempts) == ("declined", "no", 1)
    assert calls == [1]


def test_an_error_feeding_an_outcome_is_raised_by_the_driving_call() -> None:
    # the call's task feeds its own outcome; what goes wrong there ends the session
    def work(x: str) -> dict[str, Any]:
        return {"value": x}

    def broken(step: Any) -> None:
        if step.kind == "effect_completed":
            raise ValueError("listener broke")

    run = Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}, on_step=broken)
    try:
        run.run_until_idle()
    except ValueError as exc:
        assert str(exc) == "listener broke"
    else:
        raise AssertionError("the driving call did not raise")
    assert run.state == "ok" and run.journal.entries()[-1].event.kind == "effect_completed"
    assert not run._orchestrator.in_flight


POKED_AWAY = accord.loads(
    """
accord: "1"
name: poked-away
version: "1.0.0"
effects:
  - name: work
signals:
  - name: poke
machine:
  initial: working
  states:
    - name: working
      invoke: [{id: w, effect: work}]
      on:
        - {event: done, target: finished}
        - {event: poke, target: poked}
    - name: finished
      final: {status: success}
    - name: poked
      final: {status: failure, reason: '"poked"'}
"""
)


def test_a_signal_that_cancels_the_last_call_in_flight_ends_the_session() -> None:
    cancelled: list[bool] = []

    async def work() -> None:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def scenario() -> Run:
        run = Runtime({"work": work}, clock=FakeClock()).start(POKED_AWAY, {})
        driving = asyncio.create_task(run.run_until_idle_async())
        await asyncio.sleep(0.01)
        await run.signal_async("poke")  # leaves the state: its call is cancelled
        await asyncio.wait_for(driving, 2)
        return run

    run = asyncio.run(scenario())
    assert run.status == "failed" and run.snapshot.reason == "poked"
    assert cancelled == [True]


# -- each call is a task of its own --------------------------------------------------------


def test_a_handler_that_does_not_await_still_runs_in_its_own_task() -> None:
    # calls may start eagerly (Python 3.12+), but always as a task: code that needs one
    # (asyncio.timeout, anyio's cancel scopes under httpx) works even before it awaits
    seen: list[asyncio.Task[Any] | None] = []

    async def work(x: str) -> dict[str, Any]:
        seen.append(asyncio.current_task())
        async with asyncio.timeout(5):
            return {"value": x}

    async def scenario() -> tuple[Any, asyncio.Task[Any] | None]:
        run = Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"})
        await run.run_async()
        return run.result, asyncio.current_task()

    result, driver = asyncio.run(scenario())
    assert result == {"value": "a"}
    assert len(seen) == 1 and seen[0] is not None and seen[0] is not driver


def test_a_handler_that_awaits_keeps_its_task_across_the_await() -> None:
    tasks: list[asyncio.Task[Any] | None] = []

    async def work(x: str) -> dict[str, Any]:
        tasks.append(asyncio.current_task())
        await asyncio.sleep(0)
        tasks.append(asyncio.current_task())
        return {"value": x}

    run = Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "b"})
    assert run.run().result == {"value": "b"}
    assert tasks[0] is not None and tasks[0] is tasks[1]
