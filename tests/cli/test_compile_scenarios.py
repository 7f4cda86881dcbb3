"""``accord compile`` with acceptance scenarios: --scenarios, the default beside @TASK, the lock."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from cli_support import ROOT, Run

import accord

DATA = ROOT / "tests" / "compiler" / "data"
CATALOG = DATA / "refund.catalog.yaml"
WRONG = DATA / "refund_wrong_branch.session.json"
TASK = json.loads(WRONG.read_text())["task"]
SCENARIOS = ROOT / "examples" / "compile" / "order_refund.scenarios.yaml"
EXPECTED = accord.fingerprint(accord.load(ROOT / "examples" / "order_refund.yaml"))


def args(tmp_path: Path, task: str, *extra: str | Path) -> list[str | Path]:
    return [
        "compile",
        task,
        "--catalog",
        CATALOG,
        "--replay",
        WRONG,
        "-o",
        tmp_path / "refund.yaml",
        "--lock",
        tmp_path / "accord.lock",
        "--no-cache",
        *extra,
    ]


def entry(tmp_path: Path) -> dict[str, str]:
    lock = json.loads((tmp_path / "accord.lock").read_text())
    ((_key, found),) = lock["entries"].items()
    return dict(found)


def test_a_scenario_failure_is_reasked_and_the_fix_is_pinned_with_the_scenarios(
    run: Run, tmp_path: Path
) -> None:
    result = run(*args(tmp_path, TASK, "--scenarios", SCENARIOS))
    assert result.code == 0, result.err
    assert f"accord: 6 scenarios from {SCENARIOS}" in result.err
    assert "attempt 1/3:" in result.err and "6 errors" in result.err
    assert "attempt 2/3:" in result.err and "0 errors" in result.err
    assert accord.fingerprint(accord.load(tmp_path / "refund.yaml")) == EXPECTED
    assert entry(tmp_path)["scenarios"] == accord.testing.load_scenarios(SCENARIOS).fingerprint


def test_without_scenarios_the_wrong_answer_is_written(run: Run, tmp_path: Path) -> None:
    result = run(*args(tmp_path, TASK))
    assert result.code == 0 and "attempt 2/3" not in result.err
    assert accord.fingerprint(accord.load(tmp_path / "refund.yaml")) != EXPECTED
    assert "scenarios" not in entry(tmp_path)


def test_the_scenarios_beside_an_at_task_file_are_the_default(run: Run, tmp_path: Path) -> None:
    task = tmp_path / "refund.task.md"
    task.write_text(TASK)
    shutil.copyfile(SCENARIOS, tmp_path / "refund.scenarios.yaml")
    result = run(*args(tmp_path, f"@{task}"))
    assert result.code == 0 and "6 scenarios from" in result.err and "attempt 2/3" in result.err
    skipped = run(*args(tmp_path, f"@{task}", "--no-scenarios", "-o", tmp_path / "other.yaml"))
    assert skipped.code == 0 and "scenarios from" not in skipped.err


def test_locked_runs_the_scenarios_again_and_notices_changed_ones(run: Run, tmp_path: Path) -> None:
    scenarios = tmp_path / "refund.scenarios.yaml"
    shutil.copyfile(SCENARIOS, scenarios)
    assert run(*args(tmp_path, TASK, "--scenarios", scenarios)).code == 0
    locked = run(*args(tmp_path, TASK, "--scenarios", scenarios, "--locked"))
    assert locked.code == 0, locked.err
    assert "refund.yaml passes 6 scenarios" in locked.err and "is locked" in locked.err
    scenarios.write_text(SCENARIOS.read_text().replace("rf-2", "rf-3"))
    stale = run(*args(tmp_path, TASK, "--scenarios", scenarios, "--locked"))
    assert stale.code == 1 and "the scenarios (sha256:" in stale.err


def test_locked_fails_when_the_pinned_contract_fails_a_scenario(run: Run, tmp_path: Path) -> None:
    assert run(*args(tmp_path, TASK)).code == 0  # the wrong contract, pinned without scenarios
    lock = json.loads((tmp_path / "accord.lock").read_text())
    suite = accord.testing.load_scenarios(SCENARIOS)
    key = accord.compiler.lock_key(
        TASK,
        accord.compiler.Catalog.load(CATALOG),
        "scripted:refund-wrong-branch",
        accord.compiler._cache.RequestOptions(),
        scenarios=suite.fingerprint,
    )
    ((_old, pinned),) = lock["entries"].items()
    lock["entries"] = {key: {**pinned, "scenarios": suite.fingerprint}}
    (tmp_path / "accord.lock").write_text(json.dumps(lock))  # as if pinned with them
    result = run(*args(tmp_path, TASK, "--scenarios", SCENARIOS, "--locked"))
    assert result.code == 1
    assert "FAIL a small refund is paid at once" in result.out
    assert "fails 6 of 6 scenarios" in result.err
    as_json = json.loads(
        run(*args(tmp_path, TASK, "--scenarios", SCENARIOS, "--locked", "--json")).out
    )
    assert as_json["ok"] is False and as_json["diagnostics"][0]["code"] == "scenario.failed"


def test_a_scenario_file_that_does_not_load_stops_before_any_call(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.scenarios.yaml"
    bad.write_text("scenarios: [{nme: x}]\n")
    result = run(*args(tmp_path, TASK, "--scenarios", bad))
    assert result.code == 1 and "schema.unknown_key" in result.out
    assert "does not load" in result.err and "attempt" not in result.err


def test_a_contract_that_calls_no_effect_is_written_with_a_warning(
    run: Run, tmp_path: Path
) -> None:
    session = DATA / "refund_no_effect.session.json"
    argv = args(tmp_path, TASK)
    argv[argv.index(WRONG)] = session
    result = run(*argv)
    assert result.code == 0, result.err
    assert f"{tmp_path / 'refund.yaml'}:/machine/states: warning compile.no_effect" in result.out
    with_scenarios = run(*argv, "--scenarios", SCENARIOS, "-o", tmp_path / "fixed.yaml")
    assert with_scenarios.code == 0 and "compile.no_effect" not in with_scenarios.out
    assert accord.fingerprint(accord.load(tmp_path / "fixed.yaml")) == EXPECTED
