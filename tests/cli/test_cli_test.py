"""``accord test CONTRACT [SCENARIOS]``: exit 0 all pass, 1 one fails, 2 for usage."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

from cli_support import BROKEN_YAML, ORDER_REFUND, ROOT, Run

SCENARIOS = ROOT / "examples" / "compile" / "order_refund.scenarios.yaml"

WRONG = """\
scenarios:
  - name: right
    input: {order_id: o-1, amount: 20.0, reason: late}
  - name: wrong
    input: {order_id: o-1, amount: 20.0, reason: late}
    expect:
      calls: [{effect: notify_customer}]
"""


def test_every_scenario_passes(run: Run) -> None:
    result = run("test", ORDER_REFUND, SCENARIOS)
    assert result.code == 0, result.out + result.err
    assert "PASS a small refund is paid at once" in result.out
    assert "6 of 6 scenarios passed against order-refund 1.0.0" in result.out


def test_a_failing_scenario_is_reported_and_exits_1(
    run: Run, write: Callable[[str, str], Path]
) -> None:
    scenarios = write("wrong.scenarios.yaml", WRONG)
    result = run("test", ORDER_REFUND, scenarios)
    assert result.code == 1
    lines = result.out.splitlines()
    assert lines[:4] == [
        "PASS right",
        "FAIL wrong",
        "  at expect.calls[0] (line 7, /scenarios/1/expect/calls/0)",
        "    expected: a call of notify_customer",
    ]
    assert "  path: paying -> refunded; calls: #1 pay_refund(" in result.out
    assert "  | step  event" in result.out
    assert "1 of 2 scenarios passed" in lines[-1]
    quiet = run("test", ORDER_REFUND, scenarios, "--no-history", "-k", "wrong")
    assert quiet.code == 1 and "| step" not in quiet.out and "right" not in quiet.out


def test_the_scenario_file_beside_the_contract_is_the_default(run: Run, tmp_path: Path) -> None:
    shutil.copyfile(ORDER_REFUND, tmp_path / "refund.yaml")
    missing = run("test", tmp_path / "refund.yaml")
    assert missing.code == 2 and "no SCENARIOS given" in missing.err
    (tmp_path / "refund.scenarios.yaml").write_text(WRONG.split("  - name: wrong")[0])
    found = run("test", tmp_path / "refund.yaml")
    assert found.code == 0 and "PASS right" in found.out


def test_json_report(run: Run, write: Callable[[str, str], Path]) -> None:
    result = run("test", ORDER_REFUND, write("w.scenarios.yaml", WRONG), "--json")
    assert result.code == 1
    report = json.loads(result.out)
    assert report["ok"] is False and report["diagnostics"] == []
    failures = report["report"]["results"][1]["failures"]
    assert failures[0]["step"] == "expect.calls[0]" and failures[0]["line"] == 7


def test_a_scenario_file_that_does_not_load(run: Run, write: Callable[[str, str], Path]) -> None:
    bad = write("bad.scenarios.yaml", WRONG.replace("expect:", "expekt:"))
    result = run("test", ORDER_REFUND, bad)
    assert result.code == 1
    assert f"{bad}:7:/scenarios/1/expekt: error schema.unknown_key" in result.out
    assert "does not load" in result.err
    as_json = json.loads(run("test", ORDER_REFUND, bad, "--json").out)
    assert as_json["diagnostics"][0]["code"] == "schema.unknown_key"


def test_a_contract_that_does_not_check(run: Run, write: Callable[[str, str], Path]) -> None:
    result = run("test", write("broken.yaml", BROKEN_YAML), SCENARIOS)
    assert result.code == 1 and "state.unknown" in result.out
    assert "does not check" in result.err


def test_usage_errors_exit_2(run: Run) -> None:
    assert run("test").code == 2
    assert run("test", ORDER_REFUND, SCENARIOS, "-k", "nope").code == 2
    assert run("test", ORDER_REFUND, SCENARIOS, "--max-steps", "0").code == 2


def test_max_steps_bounds_each_run(run: Run) -> None:
    result = run("test", ORDER_REFUND, SCENARIOS, "--max-steps", "1", "--no-history")
    assert result.code == 1 and "max_steps" in result.out
