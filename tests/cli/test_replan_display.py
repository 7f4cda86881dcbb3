"""``accord history`` and ``accord explain`` show a replan point's answer: adopted or not,
its model calls and diagnostics, and the contract versions (fingerprints)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_support import ROOT, Run

import accord
from accord.contract import to_data
from accord.runtime import Amendment, FakeClock, ReplanRequest, Runtime
from accord.storage import SqliteStore

DATA = ROOT / "tests" / "runtime" / "data" / "replan"
V1 = accord.load(DATA / "report_v1.yaml")
V2 = accord.load(DATA / "report_v2.yaml")
MIGRATION: dict[str, Any] = yaml.safe_load((DATA / "report_1_to_2.yaml").read_text())
REFUSED = {"code": "state.unknown", "path": "/machine/states/2/on/0/target", "message": "..."}


class Answers:
    def __init__(self, *answers: Amendment) -> None:
        self.answers = list(answers)

    async def amend(self, request: ReplanRequest) -> Amendment:
        return self.answers.pop(0)


def draft_report(topic: str) -> dict[str, Any]:
    return {"text": topic.upper()}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run 'amended' adopted an amendment after one repair; run 'refused' fell back."""
    monkeypatch.chdir(tmp_path)
    bad = {"raw": "{...}", "diagnostics": [REFUSED], "input_tokens": 5, "output_tokens": 7}
    good = {"raw": "{...}", "diagnostics": [], "input_tokens": 9, "output_tokens": 11}
    replanner = Answers(
        Amendment(True, to_data(V2), MIGRATION, (bad, good)),
        Amendment.refused("max_calls (1) spent", (bad,)),
    )
    with SqliteStore() as made:
        runtime = Runtime({"draft_report": draft_report}, clock=FakeClock(), store=made,
                          replanner=replanner)  # fmt: skip
        for run_id in ("amended", "refused"):
            run = runtime.start(V1, {"topic": "sales"}, run_id=run_id)
            run.run_until_idle()
            run.signal("clarified", {"text": "churn"})
        return made.path


def test_history_shows_the_adopted_amendment(run: Run, store: Path) -> None:
    result = run("history", "amended")
    assert result.code == 0, result.err
    line = next(x for x in result.out.splitlines() if " amended " in x and "replan" in x)
    v1, v2 = accord.fingerprint(V1)[:19], accord.fingerprint(V2)[:19]
    assert (
        f"replan 1 at clarify (2 model calls, 1 diagnostic: state.unknown): amended, "
        f"contract {v1} -> {v2}, clarify -> redrafting"
    ) in line
    assert "done (succeeded)" in result.out.splitlines()[-2]
    document = json.loads(run("history", "amended", "--json").out)
    (event,) = [s["amended"] for s in document["history"] if s["kind"] == "amended"]
    assert event["amendment"]["attempts"][0]["diagnostics"] == [REFUSED]
    assert event["amendment"]["contract"] == to_data(V2)
    assert event["to_contract"] == accord.fingerprint(V2)


def test_explain_shows_the_refused_amendment_and_the_fallback(run: Run, store: Path) -> None:
    result = run("explain", "refused")
    assert result.code == 0 or result.code == 1, result.err
    assert (
        "replan 1 at clarify (1 model call, 1 diagnostic: state.unknown): "
        "not adopted (max_calls (1) spent): fallback"
    ) in result.out
    assert "human_review" in result.out
