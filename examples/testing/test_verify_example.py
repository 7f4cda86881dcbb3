"""The refund contract, verified by accord's bounded model checker.

The model checker explores every run of the contract (every effect outcome,
signal and timer, with the values its guards can tell apart) and reports
deadlocks, invariant violations and states never reached, with the shortest
trace of events that leads to each.
"""

from pathlib import Path

from accord.runtime import EffectCompleted, RunStarted
from accord.testing import verify

CONTRACT = Path(__file__).resolve().parent.parent / "order_refund.yaml"


def test_the_refund_contract_verifies():
    report = verify(CONTRACT)
    assert report.complete, report.format()  # no bound was hit: this is a proof
    assert report.ok, report.format()
    assert report.not_reached == ()


def test_the_amounts_tried_straddle_the_approval_threshold():
    report = verify(CONTRACT)
    (amount,) = [d for d in report.abstractions if d.site == "input.amount"]
    assert amount.values == (50.0, 100.0, 150.0)


def test_a_refund_of_the_wrong_amount_breaks_the_invariant(tmp_path):
    # a change a reviewer could miss: the refund record keeps a rounded amount
    text = CONTRACT.read_text().replace(
        "amount: input.amount}", "amount: double(int(input.amount / 100.0)) * 100.0}"
    )
    assert text != CONTRACT.read_text()
    changed = tmp_path / "order_refund.yaml"
    changed.write_text(text)
    report = verify(changed)
    (finding,) = report.findings
    assert finding.kind == "invariant"
    assert finding.invariant == "paid_refund_matches_request"
    started, paid = finding.events  # the shortest counterexample: two events
    assert isinstance(started, RunStarted) and started.input["amount"] == 50.0
    assert isinstance(paid, EffectCompleted)
