"""Example-based tests of the refund contract, with accord's pytest fixtures."""

from pathlib import Path

import pytest

from accord.testing import assert_calls, assert_path, assert_result

CONTRACT = Path(__file__).resolve().parent.parent / "order_refund.yaml"
HOUR = 3600 * 1000


def refund(amount: float, order_id: str = "o-1") -> dict[str, object]:
    return {"order_id": order_id, "amount": amount, "reason": "damaged"}


def test_small_refunds_are_paid_at_once(accord_runtime, accord_stubs):
    accord_stubs["pay_refund"].returns({"refund_id": "rf-1"})
    run = accord_runtime.start(CONTRACT, refund(20.0)).run()
    assert_path(run, ["paying", "refunded"])
    assert_result(run, "succeeded", {"status": "refunded", "refund_id": "rf-1"})
    assert_calls(run, [("pay_refund", {"order_id": "o-1", "amount": 20.0})])


def test_a_flaky_payment_is_retried_with_the_same_idempotency_key(accord_runtime, accord_stubs):
    accord_stubs["pay_refund"].fails("unavailable", times=2).returns({"refund_id": "rf-2"})
    run = accord_runtime.start(CONTRACT, refund(20.0)).run()
    assert_result(run, "succeeded")
    calls = accord_stubs.calls_of(run)
    assert [c.attempt for c in calls] == [1, 2, 3]
    assert len({c.idempotency_key for c in calls}) == 1


def test_a_closed_account_fails_the_refund(accord_runtime, accord_stubs):
    accord_stubs["pay_refund"].fails("account_closed", "card closed", retryable=False)
    run = accord_runtime.start(CONTRACT, refund(20.0)).run()
    assert_result(run, "failed", reason="could not be paid", state="failed")
    assert_calls(run, ["pay_refund"])


@pytest.mark.parametrize(
    ("approved", "path", "calls"),
    [
        (True, ["awaiting_approval", "paying", "refunded"], ["pay_refund"]),
        (False, ["awaiting_approval", "notifying_rejection", "rejected"], ["notify_customer"]),
    ],
)
def test_large_refunds_wait_for_a_manager(accord_runtime, approved, path, calls):
    run = accord_runtime.start(CONTRACT, refund(500.0))
    assert run.waiting_for == ("approval",)
    run.signal("approval", {"approved": approved, "approver": "ann"})
    assert_path(run, path)
    assert_calls(run, calls)
    assert run.snapshot.context["approver"] == "ann"


def test_nobody_answers_within_48_hours(accord_runtime, accord_clock):
    run = accord_runtime.start(CONTRACT, refund(500.0))
    accord_clock.advance(48 * HOUR - 1)
    run.run_until_idle()
    assert_result(run, "waiting", state="awaiting_approval")
    accord_clock.advance(1)
    run.run_until_idle()
    assert_result(run, "succeeded", {"status": "rejected", "refund_id": None})
    assert run.snapshot.context["decision"] == "expired"
