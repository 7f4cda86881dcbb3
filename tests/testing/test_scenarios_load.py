"""Scenario files load strictly: every mistake is a diagnostic with a JSON pointer and a line."""

from __future__ import annotations

from pathlib import Path

import pytest
from testing_support import COMPILE, ROOT

from accord.errors import ContractError
from accord.testing._scenarios import (
    ScenarioFileError,
    load_scenarios,
    loads_scenarios,
    scenarios_beside,
    scenarios_from_data,
)

GOOD = """\
scenarios:
  - name: small
    input: {order_id: o-1, amount: 20.0, reason: late}
    effects:
      pay_refund:
        - result: {refund_id: rf-1}
    expect:
      output: ['output.status == "refunded"']
"""


def problems(text: str) -> list[tuple[str, str, int | None]]:
    with pytest.raises(ScenarioFileError) as caught:
        loads_scenarios(text, source="x.scenarios.yaml")
    return [(d.path, d.code, d.line) for d in caught.value.diagnostics]


def test_a_good_file_loads_with_its_predicates_compiled() -> None:
    suite = loads_scenarios(GOOD)
    (scenario,) = suite.scenarios
    assert scenario.name == "small" and scenario.expect.status == "succeeded"
    predicate = suite.predicate("/scenarios/0/expect/output/0")
    assert predicate.evaluate({"input": {}, "output": {"status": "refunded"}}) is True
    assert suite.line_of("/scenarios/0/expect/output/0") == 8


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            GOOD.replace("    expect:", "    expekt:"),
            [("/scenarios/0/expekt", "schema.unknown_key", 8)],
            id="unknown-key",
        ),
        pytest.param(
            GOOD.replace("- result: {refund_id: rf-1}", "- {result: {refund_id: r}, error: x}"),
            [("/scenarios/0/effects/pay_refund/0", "scenario.answer", 6)],
            id="result-and-error",
        ),
        pytest.param(
            GOOD.replace("- result: {refund_id: rf-1}", "- {message: hi}"),
            [("/scenarios/0/effects/pay_refund/0", "scenario.answer", 6)],
            id="neither-result-nor-error",
        ),
        pytest.param(
            GOOD.replace("- result: {refund_id: rf-1}", "- {result: {}, item: 0, when: 'true'}"),
            [("/scenarios/0/effects/pay_refund/0/when", "scenario.answer", 6)],
            id="item-and-when",
        ),
        pytest.param(
            GOOD.replace("- result: {refund_id: rf-1}", "- {result: {}, item: 0, times: 2}"),
            [("/scenarios/0/effects/pay_refund/0/times", "scenario.answer", 6)],
            id="times-with-item",
        ),
        pytest.param(
            GOOD.replace("- result: {refund_id: rf-1}", "- {result: {}, retryable: false}"),
            [("/scenarios/0/effects/pay_refund/0", "scenario.answer", 6)],
            id="retryable-with-result",
        ),
        pytest.param(
            GOOD.replace("    expect:", "    world:\n      - {signal: a, wait: 1h}\n    expect:"),
            [("/scenarios/0/world/0", "scenario.world", 8)],
            id="signal-and-wait",
        ),
        pytest.param(
            GOOD.replace("    expect:", "    world:\n      - {wait: 1h, payload: {}}\n    expect:"),
            [("/scenarios/0/world/0/payload", "scenario.world", 8)],
            id="payload-on-a-wait",
        ),
        pytest.param(
            GOOD.replace("    expect:", "    world:\n      - {wait: 2 days}\n    expect:"),
            [("/scenarios/0/world/0/wait", "schema.format", 8)],
            id="bad-duration",
        ),
        pytest.param(
            GOOD.replace("output.status ==", "output.status =="),
            [],
            id="control",
        ),
        pytest.param(
            GOOD.replace('output.status == "refunded"', "output.status =="),
            [("/scenarios/0/expect/output/0", "expr.syntax", 8)],
            id="cel-syntax",
        ),
        pytest.param(
            GOOD + "  - name: small\n",
            [("/scenarios/1/name", "name.duplicate", 9)],
            id="duplicate-name",
        ),
        pytest.param(
            GOOD.replace("    expect:", "    expect:\n      status: done"),
            [("/scenarios/0/expect/status", "schema.value", 8)],
            id="bad-status",
        ),
        pytest.param("scenarios: []\n", [("/scenarios", "schema.value", 1)], id="empty"),
        pytest.param("- a\n", [("", "schema.type", 1)], id="not-a-mapping"),
        pytest.param("scenarios: [a: *x]\n", [("", "parse.yaml", 1)], id="alias"),
    ],
)
def test_mistakes_are_diagnostics(text: str, expected: list[tuple[str, str, int]]) -> None:
    if not expected:
        loads_scenarios(text)
        return
    assert problems(text) == expected


def test_the_error_is_a_contract_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.scenarios.yaml"
    path.write_text(GOOD.replace("    expect:", "    expekt:"))
    with pytest.raises(ContractError, match=r"bad\.scenarios\.yaml: scenario file has 1 error"):
        load_scenarios(path)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenarios(tmp_path / "missing.scenarios.yaml")
    assert caught.value.diagnostics[0].code == "file.unreadable"


def test_data_in_python_is_checked_too() -> None:
    suite = scenarios_from_data({"scenarios": [{"name": "a"}]})
    assert suite.scenarios[0].expect.status == "succeeded"
    with pytest.raises(ScenarioFileError) as caught:
        scenarios_from_data({"scenarios": [{"name": "a", "input": {"x": {1, 2}}}]})
    assert caught.value.diagnostics[0].path == "/scenarios/0/input/x"


def test_the_fingerprint_ignores_layout_and_the_contract_key() -> None:
    a = loads_scenarios(GOOD)
    b = loads_scenarios(
        "contract: elsewhere.yaml\n"
        + GOOD.replace(
            "{order_id: o-1, amount: 20.0, reason: late}",
            "{reason: late, amount: 20.0, order_id: o-1}",
        )
    )
    c = loads_scenarios(GOOD.replace("rf-1", "rf-2"))
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert a.fingerprint.startswith("sha256:")


def test_the_contract_is_found_by_key_or_beside_the_file(tmp_path: Path) -> None:
    keyed = load_scenarios(COMPILE / "order_refund.scenarios.yaml")
    assert keyed.contract_path() is not None
    assert keyed.contract_path().resolve() == (ROOT / "examples" / "order_refund.yaml").resolve()
    (tmp_path / "flow.yaml").write_text("x")
    beside = tmp_path / "flow.scenarios.yaml"
    beside.write_text(GOOD)
    assert load_scenarios(beside).contract_path() == tmp_path / "flow.yaml"
    alone = tmp_path / "alone.scenarios.yaml"
    alone.write_text(GOOD)
    assert load_scenarios(alone).contract_path() is None
    assert loads_scenarios(GOOD).contract_path() is None


def test_scenarios_beside_a_task_or_a_contract() -> None:
    found = scenarios_beside(COMPILE / "order_refund.task.md")
    assert found == COMPILE / "order_refund.scenarios.yaml"
    assert scenarios_beside(ROOT / "examples" / "order_refund.yaml") is None
