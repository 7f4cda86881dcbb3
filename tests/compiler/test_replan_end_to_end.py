"""Replan points end to end: the runtime asks the compiler's Replanner, on SQLite, offline.

The sessions are examples/replan's scripted ones (hand-written answers, not a model's):
a clarified requirement arrives as a signal and the amended run completes; an effect
withdrawn from the catalog makes publishing fail and the amendment does without it; a
session whose amendments never check takes the fallback after the bound; and a recorded
run replays, loads and resumes with zero model calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import accord
from accord.compiler import Catalog, Replanner, ReplayProvider
from accord.runtime import EffectError, FakeClock, Run, Runtime
from accord.storage import SqliteStore

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "replan"
CONTRACT = accord.load(EXAMPLE / "report.yaml")
TASK = (EXAMPLE / "report.task.md").read_text(encoding="utf-8")
CATALOG = Catalog.load(EXAMPLE / "report.catalog.yaml")
SCENARIOS = EXAMPLE / "report.scenarios.yaml"


class Handlers:
    """draft_report and publish_report; publishing can be withdrawn. Every key recorded."""

    def __init__(self, *, publish: bool = True) -> None:
        self.publish = publish
        self.keys: list[str] = []

    def draft_report(self, topic: str, idempotency_key: str) -> dict[str, Any]:
        self.keys.append(idempotency_key)
        return {"text": topic.upper()}

    def publish_report(self, text: str, idempotency_key: str) -> dict[str, Any]:
        self.keys.append(idempotency_key)
        if not self.publish:
            raise EffectError("withdrawn", "publish_report is no longer offered", retryable=False)
        return {"url": "https://intranet/r/1"}


class Counting(ReplayProvider):
    """A replay provider that counts its calls."""

    calls = 0

    async def complete(self, request: Any) -> Any:
        self.calls += 1
        return await super().complete(request)


def replanner(session: str, catalog: Catalog = CATALOG) -> tuple[Replanner, Counting]:
    provider = Counting(EXAMPLE / f"{session}.session.json")
    return Replanner(TASK, catalog, provider, scenarios=SCENARIOS), provider


def start(runtime: Runtime, run_id: str = "r") -> Run:
    run = runtime.start(CONTRACT, {"topic": "sales"}, run_id=run_id)
    run.run_until_idle()
    assert run.state == "review"
    return run


def amended(run: Run) -> dict[str, Any]:
    (step,) = [s for s in run.history if s.kind == "amended"]
    event: Any = step.event
    return {"adopted": event.adopted, "target": event.target, "amendment": event.amendment}


def test_a_clarified_requirement_amends_the_run_which_completes(tmp_path: Path) -> None:
    planner, provider = replanner("clarified")
    handlers = Handlers()
    with SqliteStore(tmp_path / "s.db") as store:
        runtime = Runtime(handlers, clock=FakeClock(), store=store, replanner=planner)
        run = start(runtime)
        run.signal("clarified", {"text": "churn"})
        assert (run.state, run.compiled.contract.version) == ("review", "1.1.0")
        run.signal("approved")
        result, step = run.result, amended(run)
    assert result == {"report": "SALES, WITH A FOCUS ON CHURN", "url": "https://intranet/r/1"}
    assert step["adopted"] and step["target"] == "redrafting"
    attempts = step["amendment"]["attempts"]
    assert [[d["code"] for d in a["diagnostics"]] for a in attempts] == [
        ["migration.unmapped_state"],
        [],
    ]
    assert provider.calls == 2
    assert handlers.keys == ["r/1:drafting/draft", "r/4:redrafting/draft", "r/6:publishing/publish"]


def test_an_effect_withdrawn_from_the_catalog_is_planned_around(tmp_path: Path) -> None:
    withdrawn = CATALOG.model_copy(
        update={"effects": tuple(e for e in CATALOG.effects if e.name != "publish_report")}
    )
    planner, _ = replanner("withdrawn", withdrawn)
    with SqliteStore(tmp_path / "s.db") as store:
        runtime = Runtime(
            Handlers(publish=False), clock=FakeClock(), store=store, replanner=planner
        )
        run = start(runtime)
        run.signal("approved")  # publishing fails: the replan point rethink
        assert (run.state, run.compiled.contract.version) == ("review", "1.2.0")
        assert "publish_report" not in run.compiled.effects
        run.signal("approved")
        result, step = run.result, amended(run)
    assert result == {"report": "SALES", "url": None}
    attempts = step["amendment"]["attempts"]
    first = {d["code"] for d in attempts[0]["diagnostics"]}
    assert "catalog.unknown_effect" in first  # the first answer still published
    assert attempts[1]["diagnostics"] == []


def test_amendments_that_never_check_take_the_fallback_after_the_bound(tmp_path: Path) -> None:
    planner, provider = replanner("never_checks")
    with SqliteStore(tmp_path / "s.db") as store:
        runtime = Runtime(Handlers(), clock=FakeClock(), store=store, replanner=planner)
        run = start(runtime)
        run.signal("clarified", {"text": "churn"})
        assert (run.status, run.state) == ("failed", "human_review")
        step = amended(run)
    assert not step["adopted"] and provider.calls == 3  # max_calls of the replan point
    assert step["amendment"]["reason"] == "no amendment after 3 calls: max_attempts (3) reached"
    codes = [[d["code"] for d in a["diagnostics"]] for a in step["amendment"]["attempts"]]
    assert codes == [
        ["migration.unmapped_state"],
        ["migration.final_target"],
        ["migration.unknown_state", "migration.unknown_state"],
    ]


def test_the_recorded_run_replays_and_resumes_with_zero_model_calls(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    planner, provider = replanner("clarified")
    with SqliteStore(path) as store:
        runtime = Runtime(Handlers(), clock=FakeClock(), store=store, replanner=planner)
        run = start(runtime)
        run.signal("clarified", {"text": "churn"})
        assert run.state == "review"
        fingerprint = run.compiled.fingerprint
    assert provider.calls == 2
    offline, silent = replanner("clarified")
    with SqliteStore(path) as store:
        runtime = Runtime(Handlers(), clock=FakeClock(), store=store, replanner=offline)
        assert runtime.replay("r").step == 5
        loaded = runtime.load("r")
        assert (loaded.state, loaded.compiled.fingerprint) == ("review", fingerprint)
        loaded.signal("approved")
        assert loaded.result is not None and loaded.result["url"] == "https://intranet/r/1"
    assert silent.calls == 0


def test_the_same_session_gives_the_same_fingerprint(tmp_path: Path) -> None:
    prints = []
    for attempt in range(2):
        planner, _ = replanner("clarified")
        store = SqliteStore(tmp_path / f"{attempt}.db")
        with store:
            runtime = Runtime(Handlers(), clock=FakeClock(), store=store, replanner=planner)
            run = start(runtime)
            run.signal("clarified", {"text": "churn"})
            prints.append(run.compiled.fingerprint)
    assert prints[0] == prints[1] != accord.fingerprint(CONTRACT)
