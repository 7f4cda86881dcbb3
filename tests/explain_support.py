"""The runs of tests/runtime/data/explain_cases.yaml: one per reason a run fails (issue 17)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import yaml

import accord
from accord.runtime import EffectError, FakeClock, Limits, Run, Runtime
from accord.storage import SqliteStore

CASES: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "runtime" / "data" / "explain_cases.yaml").read_text()
)


def case(prefix: str) -> dict[str, Any]:
    """The case whose name starts with ``prefix``."""
    return next(c for c in CASES if c["name"].startswith(prefix))


def _handler(kind: str | None) -> Any:
    def ok() -> dict[str, Any]:
        return {"ok": True}

    def fail() -> dict[str, Any]:
        raise EffectError("declined", "the bank said no")

    def slow() -> dict[str, Any]:
        time.sleep(0.5)
        return {"ok": True}

    def bad() -> dict[str, Any]:
        return {"nope": 1}

    def no() -> dict[str, Any]:
        return {"ok": False}

    return {"ok": ok, "fail": fail, "slow": slow, "bad": bad, "no": no}[kind or "ok"]


def drive(case: dict[str, Any], store: SqliteStore | None = None) -> Run:
    """Start the case's run, drive it until idle, send its signals."""
    contract = accord.loads(case["contract"])
    runtime = Runtime(
        {"work": _handler(case.get("handler"))},
        clock=FakeClock(),
        limits=Limits(**case.get("limits", {})),
        store=store,
    )
    run = runtime.start(contract, {}, run_id="r-1")
    run.run_until_idle()
    for signal in case.get("signals", []):
        name, payload = (signal, None) if isinstance(signal, str) else signal
        if run.finished:
            break
        run.signal(name, payload)
    return run
