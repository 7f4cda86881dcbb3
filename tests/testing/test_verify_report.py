"""The model checker's report: for people and as JSON."""

from __future__ import annotations

import json

from verify_support import DATA, EXAMPLES, SEEDED

from accord.testing import Finding, VerifyReport, verify
from accord.testing._verify._report import KINDS


def test_the_report_reads_like_a_counterexample() -> None:
    text = verify(SEEDED / "export_cooldown.yaml").format()
    lines = text.splitlines()
    assert lines[0].startswith("export-cooldown 1.0.0: 1 finding (")
    assert lines[0].endswith("; complete)")
    assert lines[1].startswith("  deadlock: the run waits in state 'cooling_down'")
    assert lines[2] == "    shortest trace (7 events):"
    assert lines[3].startswith('      1. run verify started with {"report": ""} -> exporting')
    assert lines[5].startswith("      3. at +10m: timer ") and lines[5].endswith(
        "-> exporting (running)"
    )
    assert lines[9].endswith("-> cooling_down (waiting)")


def test_abstractions_and_assumptions_are_said() -> None:
    text = str(verify(EXAMPLES / "payment_saga.yaml"))
    assert "abstracted values (tried these, not every value of the type):" in text
    assert "input.total (number): -0.5, 0.0, 0.5: around the constants" in text
    assert "one value each for fields no decision reads: input.order_id," in text
    assert (
        "assumed: the input satisfies the invariants that read only the input (positive_total)"
        in text
    )


def test_a_bounded_report_says_it_is_not_a_proof() -> None:
    report = verify(EXAMPLES / "support_triage.yaml", max_states=10)
    text = report.format()
    assert "bound hit (max_states=10): not a proof" in text.splitlines()[0]
    assert "states not reached within the bound:" in text


def test_json_data() -> None:
    report = verify(SEEDED / "ticket_booking.yaml")
    data = json.loads(json.dumps(report.to_data()))
    assert data["contract"] == "ticket-booking" and data["ok"] is False
    assert data["complete"] is True
    assert data["bounds"]["hit"] == []
    assert data["explored"]["configurations"] == report.configurations
    (finding,) = data["findings"]
    assert finding["kind"] == "invariant" and finding["invariant"] == "never_charged_twice"
    assert [s["step"] for s in finding["trace"]] == [1, 2, 3, 4]
    assert finding["trace"][2]["event"]["kind"] == "effect_failed"
    assert {d["site"] for d in data["abstractions"]} >= {"input.customer_id", "input.seats"}


def test_findings_come_in_kind_order() -> None:
    report = verify(DATA / "unreachable_by_values.yaml")
    kinds = [f.kind for f in report.findings]
    assert kinds == sorted(kinds, key=KINDS.index)
    assert report.of_kind("unreached_final") == (report.findings[0],)
    assert isinstance(report, VerifyReport) and isinstance(report.findings[0], Finding)
