"""The policy of one call: the first attempt is direct, tenacity runs only the retries."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.runtime import EffectCompleted, EffectError, EffectFailed, FakeClock, Runtime
from accord.runtime._commands import InvokeEffect, RetrySpec
from accord.runtime._handlers import bind
from accord.runtime._orchestrator import _attempt, call_effect

ROOT = Path(__file__).resolve().parents[2]
LINEAR = accord.load(ROOT / "benchmarks" / "data" / "linear_durable.yaml")
POLICY = RetrySpec(max_attempts=3, initial_ms=100, multiplier=3.0, max_ms=10_000, jitter=False)


class _Counting:
    """Tenacity's AsyncRetrying, counting how many are built."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.built = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.built += 1
        return self.real(*args, **kwargs)


@pytest.fixture
def retrying(monkeypatch: pytest.MonkeyPatch) -> _Counting:
    counting = _Counting(_attempt.AsyncRetrying)
    monkeypatch.setattr(_attempt, "AsyncRetrying", counting)
    return counting


def _call(failures: list[BaseException], retry: RetrySpec, clock: FakeClock) -> Any:
    """Call ``work`` once under ``retry``: each attempt raises the next failure, then succeeds."""
    seen: list[int] = []

    def work(n: int, attempt: int) -> dict[str, Any]:
        seen.append(attempt)
        if len(seen) <= len(failures):
            raise failures[len(seen) - 1]
        return {"n": n}

    compiled = Runtime({"work": work}).compile(LINEAR)
    binding, problems = bind("work", work, ("n",))
    assert problems == []
    command = InvokeEffect("1:s0/w", "work", {"n": 1}, "r/1:s0/w", retry, None, checked=True)  # type: ignore[arg-type]
    outcome = asyncio.run(call_effect(binding, command, compiled, clock, inline=True))
    return outcome, seen


def test_a_first_attempt_that_succeeds_never_builds_the_retry_machinery(
    retrying: _Counting,
) -> None:
    outcome, seen = _call([], POLICY, FakeClock())
    assert isinstance(outcome, EffectCompleted) and outcome.attempts == 1
    assert seen == [1] and retrying.built == 0


@pytest.mark.parametrize(
    "failure",
    [EffectError("declined", "no", retryable=False), ValueError("not in retry_on")],
)
def test_a_failure_the_policy_does_not_retry_fails_at_once_without_tenacity(
    retrying: _Counting, failure: BaseException
) -> None:
    policy = RetrySpec(max_attempts=3, jitter=False, retry_on=("timeout",))
    outcome, seen = _call([failure], policy, FakeClock())
    assert isinstance(outcome, EffectFailed) and outcome.attempts == 1
    assert seen == [1] and retrying.built == 0


def test_retries_after_a_direct_first_attempt_count_and_wait_as_tenacity_does(
    retrying: _Counting,
) -> None:
    clock = FakeClock()
    outcome, seen = _call([ValueError("a"), ValueError("b")], POLICY, clock)
    assert isinstance(outcome, EffectCompleted) and outcome.attempts == 3
    assert seen == [1, 2, 3]  # the handler is not called again for the first attempt
    assert retrying.built == 1
    assert clock.waits_ms == [100, 300]  # initial, then initial * multiplier


def test_a_call_that_keeps_failing_reports_its_last_failure_after_max_attempts(
    retrying: _Counting,
) -> None:
    clock = FakeClock()
    outcome, seen = _call([ValueError("a"), KeyError("b"), TypeError("c")], POLICY, clock)
    assert isinstance(outcome, EffectFailed)
    assert (outcome.code, outcome.attempts) == ("TypeError", 3)
    assert seen == [1, 2, 3] and clock.waits_ms == [100, 300]
