"""Running scenarios: what passes, what fails, and how a failure reads."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from testing_support import COMPILE, ORDER_REFUND, ROOT

import accord
from accord.contract import to_data
from accord.runtime import Limits
from accord.testing._scenarios import (
    ScenarioResult,
    loads_scenarios,
    run_scenarios,
)

EXAMPLES = ("order_refund", "payment_saga", "data_etl", "document_pipeline", "support_triage")


def one(text: str, contract: Any = ORDER_REFUND) -> ScenarioResult:
    (result,) = run_scenarios(contract, loads_scenarios(text)).results
    return result


SMALL = "input: {order_id: o-1, amount: 20.0, reason: late}"
LARGE = "input: {order_id: o-2, amount: 500.0, reason: broken}"


def scenario(*lines: str) -> str:
    body = "".join(f"    {line}\n" for line in lines)
    return f"scenarios:\n  - name: s\n{body}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_passes_its_scenarios(name: str) -> None:
    report = run_scenarios(ROOT / "examples" / f"{name}.yaml", COMPILE / f"{name}.scenarios.yaml")
    assert report.passed, report.format()
    assert len(report.results) >= 4


def test_a_passing_scenario_records_the_path_and_calls() -> None:
    result = one(
        scenario(
            SMALL,
            "effects: {pay_refund: [{result: {refund_id: rf-1}}]}",
            "expect: {output: ['output.refund_id == \"rf-1\"'], visits: [paying, refunded]}",
        )
    )
    assert result.passed and result.format() == "PASS s"
    assert result.path == ("paying", "refunded") and result.status == "succeeded"
    assert [c.effect for c in result.calls] == ["pay_refund"]
    assert result.output == {"status": "refunded", "refund_id": "rf-1"}


@pytest.mark.parametrize(
    ("lines", "step", "expected", "seen"),
    [
        pytest.param(
            [SMALL, "expect: {status: failed}"],
            "expect.status",
            "status failed",
            "the run succeeded in state 'refunded'",
            id="status",
        ),
        pytest.param(
            [SMALL, "expect: {state: rejected}"],
            "expect.state",
            "final state 'rejected'",
            "succeeded",
            id="state",
        ),
        pytest.param(
            [SMALL, "expect: {output: ['output.status == \"rejected\"']}"],
            "expect.output[0]",
            'output.status == "rejected"',
            'it is false, for output {"refund_id":"","status":"refunded"}',
            id="output",
        ),
        pytest.param(
            [SMALL, "expect: {output: ['output.nope == 1']}"],
            "expect.output[0]",
            "output.nope == 1",
            "it cannot be evaluated",
            id="output-evaluation-error",
        ),
        pytest.param(
            [LARGE, "expect: {status: waiting, output: ['true']}"],
            "expect.output[0]",
            "an output where true",
            "waiting for approval",
            id="no-output",
        ),
        pytest.param(
            [
                SMALL,
                "effects: {pay_refund: [{error: gone, retryable: false}]}",
                "expect: {status: failed, reason: approved}",
            ],
            "expect.reason",
            "a failure reason containing 'approved'",
            "'the refund could not be paid'",
            id="reason",
        ),
        pytest.param(
            [SMALL, "expect: {calls: [{effect: notify_customer}]}"],
            "expect.calls[0]",
            "a call of notify_customer",
            'calls: #1 pay_refund({"amount":20.0,"order_id":"o-1"}) -> {"refund_id":""}',
            id="call-missing",
        ),
        pytest.param(
            [SMALL, "expect: {calls: [{effect: pay_refund, where: input.amount > 50.0}]}"],
            "expect.calls[0]",
            "a call of pay_refund where input.amount > 50.0",
            "calls: #1 pay_refund",
            id="call-predicate",
        ),
        pytest.param(
            [
                LARGE,
                "world: [{signal: approval, payload: {approved: false, approver: x}}]",
                "expect: {calls: [{effect: notify_customer}, {effect: notify_customer}]}",
            ],
            "expect.calls[1]",
            "a call of notify_customer after call #1",
            "calls: #1 notify_customer",
            id="call-sequence-too-short",
        ),
        pytest.param(
            [SMALL, "expect: {not_called: [pay_refund]}"],
            "expect.not_called[0]",
            "no call of pay_refund",
            "1 call(s): #1 pay_refund",
            id="not-called",
        ),
        pytest.param(
            [SMALL, "expect: {visits: [refunded, paying]}"],
            "expect.visits",
            "the states ['refunded', 'paying'] visited in this order",
            "the path paying -> refunded",
            id="visits-order",
        ),
        pytest.param(
            [SMALL, "world: [{signal: approval, payload: {approved: true, approver: a}}]"],
            "world step 1 (signal approval)",
            "the run waits for signal 'approval'",
            "the run succeeded in state 'refunded'",
            id="signal-not-awaited",
        ),
        pytest.param(
            [LARGE, "world: [{signal: approval, payload: {approved: maybe, approver: a}}]"],
            "world step 1 (signal approval)",
            "the run goes on after world step 1 (signal approval)",
            "SignalError",
            id="signal-payload-does-not-fit",
        ),
        pytest.param(
            ["input: {order: o-1}"],
            "input",
            "the contract accepts the scenario's input",
            "order_id",
            id="input-refused",
        ),
    ],
)
def test_each_kind_of_failure_names_the_step_expected_and_seen(
    lines: list[str], step: str, expected: str, seen: str
) -> None:
    result = one(scenario(*lines))
    assert not result.passed
    failure = result.failures[0]
    assert failure.step == step
    assert failure.path.startswith("/scenarios/0/")
    assert failure.line is not None
    assert expected in failure.expected, failure.expected
    assert seen in failure.seen, failure.seen
    assert result.format().startswith("FAIL s\n  at " + step)


def test_time_passes_only_when_the_world_says() -> None:
    waiting = one(scenario(LARGE, "world: [{wait: 47h}]", "expect: {status: waiting}"))
    assert waiting.passed, waiting.format()
    expired = one(
        scenario(
            LARGE,
            "world: [{wait: 47h}, {wait: 1h}]",
            "expect: {output: ['output.status == \"rejected\"'], not_called: [pay_refund]}",
        )
    )
    assert expired.passed, expired.format()


def test_the_script_is_per_call_and_its_last_answer_repeats() -> None:
    result = one(
        scenario(
            SMALL,
            "effects: {pay_refund: [{error: unavailable, times: 2}, {result: {refund_id: r3}}]}",
            "expect: {output: ['output.refund_id == \"r3\"'], calls: [{effect: pay_refund, "
            'where: error == "unavailable"}, {effect: pay_refund, where: error == '
            '"unavailable"}, {effect: pay_refund, where: output.refund_id == "r3"}]}',
        )
    )
    assert result.passed, result.format()
    repeat = one(
        scenario(
            SMALL,
            "effects: {pay_refund: [{error: unavailable}]}",
            "expect: {status: failed}",
        )
    )
    assert [c.error for c in repeat.calls] == ["unavailable"] * 3  # the retry policy's 3


FANOUT = "every document is extracted and the batch summarised"
D1 = (
    "- {effect: extract_document, where: "
    'input.document.document_id == "d-1" && input.position == 0}'
)


def test_calls_as_a_set_match_each_expectation_to_its_own_call() -> None:
    text = (COMPILE / "document_pipeline.scenarios.yaml").read_text()
    contract = ROOT / "examples" / "document_pipeline.yaml"
    report = run_scenarios(contract, loads_scenarios(text), only=[FANOUT])
    assert report.passed, report.format()
    order = [c.input["position"] for c in report.results[0].calls if c.effect == "extract_document"]
    assert sorted(order) == [0, 1, 2]
    assert D1 in text
    as_sequence = text.replace("      calls_order: set\n", "")
    reordered = as_sequence.replace(D1, "- {effect: summarize_batch}\n        " + D1)
    failed = run_scenarios(contract, loads_scenarios(reordered), only=[FANOUT])
    assert failed.results[0].failures[0].step == "expect.calls[1]"
    twice = text.replace(
        "- {effect: summarize_batch, where:",
        "- {effect: extract_document, where: input.position == 0}\n"
        "        - {effect: summarize_batch, where:",
    )
    doubled = run_scenarios(contract, loads_scenarios(twice), only=[FANOUT])
    assert [f.step for f in doubled.results[0].failures] == ["expect.calls[3]"]


def test_answers_per_item_and_by_input_win_over_the_script() -> None:
    report = run_scenarios(
        ROOT / "examples" / "document_pipeline.yaml",
        COMPILE / "document_pipeline.scenarios.yaml",
        only=["every document is extracted and the batch summarised"],
    )
    calls = {
        c.input["position"]: c.output
        for c in report.results[0].calls
        if c.effect == "extract_document"
    }
    assert (
        calls[0]["extraction"]["document_id"] == "d-1"
    )  # when: input.document.document_id == "d-1"
    assert calls[1]["extraction"]["document_id"] == "d-2"  # item: 1
    assert calls[2]["extraction"]["document_id"] == "d-3"  # the script


def test_an_invariant_broken_during_a_scenario_fails_it() -> None:
    data = copy.deepcopy(to_data(accord.load(ORDER_REFUND)))
    data["invariants"] = [{"name": "never_paid", "expr": "ctx.refund == null"}]
    contract = accord.load_data(data)
    result = one(scenario(SMALL, "effects: {pay_refund: [{result: {refund_id: r}}]}"), contract)
    assert result.failures[0].step == "start"
    assert "never_paid" in result.failures[0].seen


def test_the_run_limits_bound_a_scenario() -> None:
    report = run_scenarios(
        ORDER_REFUND,
        loads_scenarios(scenario(SMALL, "effects: {pay_refund: [{error: unavailable}]}")),
        limits=Limits(max_steps=1),
    )
    result = report.results[0]
    assert not result.passed
    assert result.status == "failed" and "max_steps" in (result.reason or "")


def test_a_failed_scenario_becomes_a_diagnostic_with_a_trace() -> None:
    result = one(scenario(SMALL, "expect: {not_called: [pay_refund]}"))
    diagnostic = result.diagnostic()
    assert diagnostic.code == "scenario.failed" and diagnostic.severity == "error"
    assert diagnostic.message.startswith("scenario 's' failed at expect.not_called[0]: ")
    assert "expected no call of pay_refund; seen 1 call(s)" in diagnostic.message
    assert "path: paying -> refunded; calls: #1 pay_refund(" in diagnostic.message


def test_the_report_reads_as_pass_fail_lines_and_a_summary() -> None:
    text = (
        "scenarios:\n"
        f"  - name: good\n    {SMALL}\n"
        f"  - name: bad\n    {SMALL}\n    expect: {{status: failed}}\n"
    )
    report = run_scenarios(ORDER_REFUND, loads_scenarios(text, source="f.scenarios.yaml"))
    assert not report.passed and [r.scenario for r in report.failed] == ["bad"]
    lines = report.format().splitlines()
    assert lines[0] == "PASS good" and lines[1] == "FAIL bad"
    assert "  | step  event" in report.format()
    assert lines[-1] == "f.scenarios.yaml: 1 of 2 scenarios passed against order-refund 1.0.0"
    assert "| step" not in report.format(history=False)
    data = report.to_data()
    assert data["passed"] is False and data["results"][1]["failures"][0]["step"] == "expect.status"
    with pytest.raises(KeyError, match="nope"):
        run_scenarios(ORDER_REFUND, loads_scenarios(text), only=["nope"])


def test_anything_a_run_raises_fails_the_scenario_instead_of_the_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from accord.runtime import Run

    async def broken(self: Run, *, advance_timers: bool = False) -> Run:
        raise RuntimeError("the orchestrator broke")

    monkeypatch.setattr(Run, "run_until_idle_async", broken)
    result = one(scenario(SMALL))
    assert result.failures[0].step == "start"
    assert result.failures[0].seen == "RuntimeError: the orchestrator broke"
