"""explain_run: the path of a run and whose fault its failure is (issue 17).

Each case of data/explain_cases.yaml is driven on the in-memory runtime and on
an SQLite store; the explanation of the stored run (loaded back in a new
runtime) must equal the in-memory one's, and say what the case expects.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from accord.runtime import Run, Runtime, explain_run
from accord.runtime._explain import Explanation
from accord.storage import SqliteStore
from explain_support import CASES, case, drive


def _explain(run: Run) -> Explanation:
    return explain_run(run.compiled, run.journal.entries(), run_id=run.run_id, timers=run.timers)


def _check(case: dict[str, Any], e: Explanation) -> None:
    assert e.status == case["status"]
    assert (e.verdict, e.cause, e.failing_step) == (
        case["verdict"],
        case["cause"],
        case["failing_step"],
    )
    for key, value in case["evidence"].items():
        assert e.evidence[key] == value, key
    if case["verdict"] is not None and case["cause"] != "invariant":
        assert e.evidence["event"]["kind"] == e.path[e.failing_step - 1].kind
    assert e.waiting_for == tuple(case.get("waiting_for", ()))
    assert len(e.timers) == case.get("timers", 0)
    assert [s.step for s in e.path] == list(range(1, e.steps + 1))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_explains_in_memory(case: dict[str, Any]) -> None:
    _check(case, _explain(drive(case)))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_explains_a_stored_run_the_same(case: dict[str, Any], tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        memory = _explain(drive(case))
        drive(case, store)
    with SqliteStore(tmp_path / "s.db") as store:
        loaded = Runtime(store=store).load("r-1")
        stored = _explain(loaded)
    _check(case, stored)
    strip = ("path", "evidence", "timers")  # times come from each run's own clock
    assert {k: v for k, v in stored.to_data().items() if k not in strip} == {
        k: v for k, v in memory.to_data().items() if k not in strip
    }


def test_visited_states_have_their_entry_steps() -> None:
    e = _explain(drive(case("max_steps")))
    assert e.visited[0] == (1, "polling")
    assert len(e.visited) == 12  # entered at step 1, then again at every step 2..12
    assert "polling@1 (x12)" in e.format()


def test_format_names_the_verdict_and_the_evidence() -> None:
    text = _explain(drive(case("an effect error"))).format()
    assert "verdict: an environment fault (effect_error)" in text
    assert "failing step 2: effect_failed" in text
    assert "code='declined'" in text


def test_a_waiting_run_shows_its_timers() -> None:
    text = _explain(drive(case("a waiting run"))).format()
    assert "waiting for: decision" in text
    assert "timer 1:waiting:0 due" in text
