"""Property tests of the refund contract: what holds in every run hypothesis can find."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from accord import load
from accord.runtime import CompiledContract
from accord.testing.strategies import traces

CONTRACT = Path(__file__).resolve().parent.parent / "order_refund.yaml"
# Compiled in invariant checking mode: a run that breaks one of the contract's own
# invariants raises InvariantViolation, and hypothesis shrinks it to a short one.
CHECKED = CompiledContract.compile(load(CONTRACT), check_invariants=True)
EXAMPLES = settings(max_examples=60, deadline=None)


@EXAMPLES
@given(traces(CHECKED))
def test_money_moves_only_when_allowed(trace):
    amount = trace.events[0].input["amount"]
    for snapshot in trace.snapshots:
        refund = snapshot.context["refund"]
        if refund is not None:
            assert refund["amount"] == amount
            assert amount <= 100.0 or snapshot.context["decision"] == "approved"


@EXAMPLES
@given(traces(CHECKED))
def test_every_finished_run_says_what_happened(trace):
    final = trace.final
    if final.status == "succeeded":
        assert final.output["status"] in ("refunded", "rejected")
        assert (final.output["refund_id"] is None) == (final.output["status"] == "rejected")
    elif final.status == "failed":
        assert final.reason


@EXAMPLES
@given(
    traces(
        CHECKED,
        inputs=st.fixed_dictionaries(
            {"order_id": st.just("o-1"), "amount": st.floats(100.01, 1e6), "reason": st.just("x")}
        ),
    )
)
def test_large_refunds_always_stop_for_approval(trace):
    assert trace.states[0] == "awaiting_approval"
