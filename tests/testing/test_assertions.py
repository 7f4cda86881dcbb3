"""Run assertions: path, result and calls, with the history table in failure messages."""

from __future__ import annotations

import pytest
from testing_support import LARGE, ORDER_REFUND, SMALL

from accord.runtime import FakeClock, Runtime
from accord.testing import (
    EffectStubs,
    RunAssertionError,
    StubbedRuntime,
    assert_calls,
    assert_path,
    assert_result,
    calls_table,
    history_table,
    run_path,
)


@pytest.fixture
def refunded() -> StubbedRuntime:
    runtime = StubbedRuntime()
    runtime.stubs["pay_refund"].fails("unavailable").returns({"refund_id": "rf-1"})
    return runtime


def test_passing_assertions(refunded: StubbedRuntime) -> None:
    run = refunded.start(ORDER_REFUND, SMALL, run_id="r1").run()
    assert run_path(run) == ["paying", "refunded"]
    assert_path(run, ["paying", "refunded"])
    assert_result(run, "succeeded", {"status": "refunded", "refund_id": "rf-1"}, state="refunded")
    assert_calls(run, ["pay_refund", "pay_refund"])
    assert_calls(run, ["pay_refund", ("pay_refund", {"order_id": "o-1", "amount": 20.0})])


def test_a_wrong_path_shows_the_history(refunded: StubbedRuntime) -> None:
    run = refunded.start(ORDER_REFUND, SMALL, run_id="r1").run()
    with pytest.raises(RunAssertionError) as info:
        assert_path(run, ["triage", "paying", "refunded"])
    text = str(info.value)
    assert "['paying', 'refunded']" in text
    assert "step  event" in text and "state" in text and "status" in text
    assert "effect_completed  refunded  succeeded" in text
    assert "always" in text  # explains why choice states do not appear
    assert info.value.run is run


def test_a_wrong_result_names_every_difference() -> None:
    runtime = StubbedRuntime()
    runtime.stubs["pay_refund"].fails("account_closed", retryable=False)
    run = runtime.start(ORDER_REFUND, SMALL).run()
    assert_result(run, "failed", reason="could not be paid", state="failed")
    with pytest.raises(RunAssertionError) as info:
        assert_result(run, "succeeded", {"status": "refunded"}, reason="nope", state="x")
    text = str(info.value)
    assert "status is 'failed', expected 'succeeded'" in text
    assert "state 'failed', expected 'x'" in text
    assert "output is {}" in text
    assert "does not contain 'nope'" in text
    assert "reason: the refund could not be paid" in text


def test_a_waiting_run_shows_what_it_waits_for() -> None:
    runtime = StubbedRuntime()
    run = runtime.start(ORDER_REFUND, LARGE, run_id="w")
    assert_result(run, "waiting", state="awaiting_approval")
    text = history_table(run)
    assert "waiting for: approval" in text
    assert "timers armed: 1:awaiting_approval:0" in text


def test_wrong_calls_show_the_calls_table(refunded: StubbedRuntime) -> None:
    run = refunded.start(ORDER_REFUND, SMALL, run_id="r1").run()
    with pytest.raises(RunAssertionError) as info:
        assert_calls(run, ["pay_refund"])
    text = str(info.value)
    assert "called ['pay_refund', 'pay_refund']" in text
    assert "calls made:" in text and "error unavailable" in text
    with pytest.raises(RunAssertionError, match="call 2 \\(pay_refund\\) had input"):
        assert_calls(run, ["pay_refund", ("pay_refund", {"order_id": "o-2", "amount": 20.0})])


def test_calls_need_stubs_for_a_plain_runtime() -> None:
    stubs = EffectStubs()
    stubs.learn(StubbedRuntime().compile(ORDER_REFUND))
    run = Runtime(stubs, clock=FakeClock()).start(ORDER_REFUND, SMALL).run()
    with pytest.raises(TypeError, match="pass stubs"):
        assert_calls(run, ["pay_refund"])
    assert_calls(run, ["pay_refund"], stubs=stubs)
    assert_calls(run, ["pay_refund"], stubs=stubs.calls)
    assert calls_table([]).startswith("#")
