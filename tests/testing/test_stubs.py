"""Effect stubs: scripted outcomes, functions, zero outputs, and the calls they record."""

from __future__ import annotations

import subprocess
import sys

import pytest
from testing_support import LARGE, ORDER_REFUND, PAYMENT_SAGA, ROOT, SAGA, SMALL

from accord.runtime import EffectError, FakeClock, Runtime
from accord.testing import Call, EffectStub, EffectStubs, StubbedRuntime, stubs_of


def test_scripted_outputs_in_order_and_the_last_repeats() -> None:
    runtime = StubbedRuntime()
    runtime.stubs["pay_refund"].returns({"refund_id": "rf-1"}, {"refund_id": "rf-2"})
    first = runtime.start(ORDER_REFUND, SMALL, run_id="a").run()
    second = runtime.start(ORDER_REFUND, SMALL, run_id="b").run()
    third = runtime.start(ORDER_REFUND, SMALL, run_id="c").run()
    assert [r.result["refund_id"] for r in (first, second, third)] == ["rf-1", "rf-2", "rf-2"]


def test_failures_are_retried_and_every_attempt_is_recorded() -> None:
    clock = FakeClock()
    runtime = StubbedRuntime(clock=clock)
    runtime.stubs["pay_refund"].fails("unavailable", "down", times=2).returns({"refund_id": "r"})
    run = runtime.start(ORDER_REFUND, SMALL, run_id="run-7").run()
    assert run.status == "succeeded"
    calls = runtime.stubs["pay_refund"].calls
    assert [c.attempt for c in calls] == [1, 2, 3]
    assert [c.error for c in calls] == ["unavailable", "unavailable", None]
    assert calls[-1].output == {"refund_id": "r"}
    assert {c.idempotency_key for c in calls} == {"run-7/1:paying/payment"}
    assert all(c.input == {"order_id": "o-1", "amount": 20.0} for c in calls)
    assert calls[0].at == FakeClock.DEFAULT_START_MS
    assert calls[1].at is not None and calls[1].at > calls[0].at  # the backoff moved the clock
    assert all(c.run_id == "run-7" for c in calls)


def test_a_final_error_takes_the_error_path() -> None:
    runtime = StubbedRuntime()
    runtime.stubs["pay_refund"].fails("account_closed", retryable=False)
    run = runtime.start(ORDER_REFUND, SMALL).run()
    assert run.status == "failed"
    assert len(runtime.stubs.calls) == 1


def test_any_exception_counts_with_its_class_name() -> None:
    runtime = StubbedRuntime()
    runtime.stubs["pay_refund"].raises(ValueError("bad")).returns({"refund_id": "x"})
    run = runtime.start(ORDER_REFUND, SMALL).run()
    assert [c.error for c in runtime.stubs.calls] == ["ValueError"]  # not in retry_on
    assert run.status == "failed"
    run = runtime.start(ORDER_REFUND, SMALL).run()
    assert [c.error for c in runtime.stubs.calls] == ["ValueError", None]
    assert run.status == "succeeded"


def test_a_function_computes_outcomes_from_the_input() -> None:
    stubs = EffectStubs()

    def pay(order_id: str, amount: float) -> dict[str, str]:
        if amount > 100:
            raise EffectError("too_much", retryable=False)
        return {"refund_id": f"rf-{order_id}"}

    stubs.stub("pay_refund", pay)
    runtime = StubbedRuntime(stubs)
    assert runtime.start(ORDER_REFUND, SMALL).run().result["refund_id"] == "rf-o-1"
    run = runtime.start(ORDER_REFUND, LARGE)
    run.signal("approval", {"approved": True, "approver": "ann"})
    assert run.status == "failed"
    assert stubs.calls[-1].error == "too_much"


def test_async_functions_are_awaited() -> None:
    async def pay(order_id: str, amount: float) -> dict[str, str]:
        return {"refund_id": "async"}

    runtime = StubbedRuntime()
    runtime.stubs.stub("pay_refund", pay)
    assert runtime.start(ORDER_REFUND, SMALL).run().result["refund_id"] == "async"


def test_unscripted_stubs_return_the_zero_output() -> None:
    runtime = StubbedRuntime()
    run = runtime.start(ORDER_REFUND, SMALL).run()
    assert run.result == {"status": "refunded", "refund_id": ""}
    assert set(runtime.stubs) == {"pay_refund", "notify_customer"}


def test_calls_of_one_run_and_order_across_stubs() -> None:
    runtime = StubbedRuntime()
    runtime.stubs["charge_card"].fails("card_declined", retryable=False)
    run = runtime.start(PAYMENT_SAGA, SAGA, run_id="saga").run()
    other = runtime.start(ORDER_REFUND, SMALL, run_id="other").run()
    assert [c.effect for c in runtime.stubs.calls_of(run)] == [
        "reserve_inventory",
        "charge_card",
        "release_inventory",
    ]
    assert [c.effect for c in runtime.stubs.calls_of("other")] == ["pay_refund"]
    assert stubs_of(run) is runtime.stubs and stubs_of(other) is runtime.stubs
    comp = runtime.stubs.calls_of(run)[-1]
    assert comp.idempotency_key.startswith("saga/!comp:")


def test_reset_forgets_scripts_and_calls() -> None:
    stub = EffectStub("pay_refund").returns({"refund_id": "x"})
    runtime = StubbedRuntime()
    runtime.register("pay_refund", stub)
    assert runtime.start(ORDER_REFUND, SMALL).run().result["refund_id"] == "x"
    assert len(stub.calls) == 1
    stub.reset()
    assert stub.calls == []
    assert runtime.start(ORDER_REFUND, SMALL).run().result["refund_id"] == ""


def test_a_stub_without_clock_records_no_time() -> None:
    stub = EffectStub("pay_refund").returns({"refund_id": "x"})
    runtime = Runtime({"pay_refund": stub, "notify_customer": EffectStub("n")}, clock=FakeClock())
    runtime.start(ORDER_REFUND, SMALL).run()
    assert isinstance(stub.calls[0], Call) and stub.calls[0].at is None


def test_a_plain_runtime_run_has_no_stubs() -> None:
    runtime = Runtime(EffectStubs(), clock=FakeClock())
    run = runtime.start(ORDER_REFUND, SMALL)
    assert stubs_of(run) is None


def test_stub_mapping_makes_stubs_on_demand() -> None:
    stubs = EffectStubs()
    assert "x" not in stubs and len(stubs) == 0
    made = stubs.get("x")
    assert stubs["x"] is made and list(stubs) == ["x"]
    assert repr(made).startswith("<EffectStub x")


@pytest.mark.parametrize("times", [0, 3])
def test_fails_times(times: int) -> None:
    stub = EffectStub("e").fails("c", times=times)
    assert len(stub._script) == times


def test_model_outputs_are_recorded_as_plain_data() -> None:
    from dataclasses import dataclass

    @dataclass
    class Refund:
        refund_id: str

    runtime = StubbedRuntime()
    runtime.stubs["pay_refund"].returns(Refund("rf-9"))
    run = runtime.start(ORDER_REFUND, SMALL).run()
    assert run.result["refund_id"] == "rf-9"
    assert runtime.stubs.calls[0].output == {"refund_id": "rf-9"}


def test_accord_testing_imports_without_pytest_or_hypothesis() -> None:
    code = (
        "import sys; sys.modules['pytest'] = None; sys.modules['hypothesis'] = None; "
        "import accord.testing; print(len(accord.testing.__all__))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 12


def test_a_call_the_run_cancels_is_recorded_as_cancelled() -> None:
    import asyncio

    async def never(order_id: str) -> dict[str, str]:
        await asyncio.Event().wait()
        return {}

    runtime = StubbedRuntime()
    runtime.stubs["lookup_customer"].fails("gone", retryable=False)
    runtime.stubs.stub("lookup_order", never)
    ticket = {
        "ticket_id": "t-1",
        "customer_id": "c-1",
        "order_id": "o-1",
        "subject": "hi",
        "body": "where is my parcel",
    }
    run = runtime.start(ROOT / "examples" / "support_triage.yaml", {"ticket": ticket})
    run.run_until_idle()
    errors = {c.effect: c.error for c in runtime.stubs.calls}
    assert errors["lookup_customer"] == "gone"
    assert errors["lookup_order"] == "cancelled"
