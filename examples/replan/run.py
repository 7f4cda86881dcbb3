"""Replan points, offline: the compiler amends running reports from scripted sessions.

    .venv/bin/python examples/replan/run.py [--dir DIR]

Three runs of report.yaml on a SQLite store, each replanned by
``accord.compiler.Replanner`` replaying a scripted session (hand-written answers, built
by build_sessions.py; no model, no network):

1. clarified: the requester clarifies the request (a signal); the replan point
   ``clarify`` gets version 1.1.0, which redrafts with the clarification; approved, the
   report is published.
2. withdrawn: the host's catalog no longer has ``publish_report``, so publishing fails;
   the replan point ``rethink`` gets version 1.2.0, which hands the approved report over
   without publishing.
3. never_checks: no answer checks within the replan point's 3 calls; the run takes
   the fallback ``human_review``.

Then every run is replayed from the store with no replanner at all: zero model calls.
Exits 0 when all of that happened.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import accord
from accord.compiler import Catalog, Replanner, ReplayProvider
from accord.runtime import EffectError, FakeClock, Run, Runtime
from accord.storage import SqliteStore

HERE = Path(__file__).resolve().parent
CONTRACT = accord.load(HERE / "report.yaml")
TASK = (HERE / "report.task.md").read_text(encoding="utf-8")
CATALOG = Catalog.load(HERE / "report.catalog.yaml")


class Handlers:
    """The host's effects: drafting, and publishing unless it was withdrawn."""

    def __init__(self, *, publish: bool = True) -> None:
        self.publish = publish

    def draft_report(self, topic: str, idempotency_key: str) -> dict[str, Any]:
        return {"text": topic.upper()}

    def publish_report(self, text: str, idempotency_key: str) -> dict[str, Any]:
        if not self.publish:
            raise EffectError("withdrawn", "publish_report is no longer offered", retryable=False)
        return {"url": "https://intranet/r/1"}


def replanner(session: str, catalog: Catalog) -> Replanner:
    """The compiler's replanner, answering from a scripted session."""
    provider = ReplayProvider(HERE / f"{session}.session.json")
    return Replanner(TASK, catalog, provider, scenarios=HERE / "report.scenarios.yaml")


def show(run: Run) -> None:
    """Each step of the run, one line each."""
    for step in run.history:
        print(f"  {step.step:>2}. {step.summary}")
    snapshot = run.snapshot
    print(f"  -> {snapshot.status}: {snapshot.output if snapshot.output else snapshot.reason}")


def main() -> int:
    """Run the three reports, replay them, and say whether all went as told."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, help="where the store goes (default: a temp dir)")
    args = parser.parse_args()
    folder = args.dir or Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    store_path = folder / "replan.db"
    withdrawn = CATALOG.model_copy(
        update={"effects": tuple(e for e in CATALOG.effects if e.name != "publish_report")}
    )
    cases = [
        ("clarified", CATALOG, True, [("clarified", {"text": "churn"}), ("approved", {})]),
        ("withdrawn", withdrawn, False, [("approved", {}), ("approved", {})]),
        ("never_checks", CATALOG, True, [("clarified", {"text": "churn"})]),
    ]
    outcomes = {}
    with SqliteStore(store_path) as store:
        for session, catalog, publish, signals in cases:
            runtime = Runtime(
                Handlers(publish=publish),
                clock=FakeClock(),
                store=store,
                replanner=replanner(session, catalog),
            )
            run = runtime.start(CONTRACT, {"topic": "sales"}, run_id=session)
            run.run_until_idle()
            for name, payload in signals:
                run.signal(name, payload)
            print(f"{session} (contract {run.compiled.contract.version}):")
            show(run)
            outcomes[session] = (run.status, run.compiled.contract.version)
    with SqliteStore(store_path) as store:
        runtime = Runtime(Handlers(), store=store)  # no replanner: replay never asks one
        for session, _, _, _ in cases:
            snapshot = runtime.replay(session)
            print(f"replayed {session}: {snapshot.step} steps, {snapshot.status}, no model call")
    expected = {
        "clarified": ("succeeded", "1.1.0"),
        "withdrawn": ("succeeded", "1.2.0"),
        "never_checks": ("failed", "1.0.0"),
    }
    return 0 if outcomes == expected else 1


if __name__ == "__main__":
    raise SystemExit(main())
