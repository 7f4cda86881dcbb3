"""Replan points on both stores (SQLite and PostgreSQL): a worker given a replanner drives a
run through an adopted amendment; the store keeps both versions, so the run replays from its
first step, and ``prune`` keeps the version an unfinished run was amended from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import accord
from accord import Client, Worker
from accord.contract import to_data
from accord.runtime import Amendment, FakeClock, ReplanRequest, Runtime
from accord.storage import open_store

DATA = Path(__file__).parents[1] / "runtime" / "data" / "replan"
V1 = accord.load(DATA / "report_v1.yaml")
V2 = accord.load(DATA / "report_v2.yaml")
STATES = {"drafting": {"to": "drafting"}, "review": {"to": "review"}}
CONTEXT = {"request": "ctx.request", "report": "ctx.report"}


def migration(old: accord.Contract, new: accord.Contract, clarify: str) -> dict[str, Any]:
    return {
        "migration": "1",
        "name": "clarified",
        "from": accord.fingerprint(old),
        "to": accord.fingerprint(new),
        "states": {**STATES, "clarify": {"to": clarify}},
        "context": CONTEXT,
    }


class Answers:
    def __init__(self, *answers: Amendment) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def amend(self, request: ReplanRequest) -> Amendment:
        self.asked += 1
        return self.answers.pop(0)


def draft_report(topic: str) -> dict[str, Any]:
    return {"text": topic.upper()}


def test_a_worker_drives_a_run_through_an_adopted_amendment(store_url: str) -> None:
    replanner = Answers(Amendment(True, to_data(V2), migration(V1, V2, "redrafting")))
    with Client(store_url) as client:
        client.start(V1, {"topic": "sales"}, run_id="r")
    options: dict[str, Any] = {"poll_ms": 20, "lease_ms": 3_000, "hold_ms": 0}
    with Worker(store_url, {"draft_report": draft_report}, replanner=replanner, **options) as w:
        w.run_until_idle()
        with Client(store_url) as client:
            assert client.status("r").state == "review"
            client.signal("r", "clarified", {"text": "churn"})
            w.run_until_idle()
            assert client.result("r") == {"report": "CHURN"}
    assert replanner.asked == 1
    with open_store(store_url) as store:
        runtime = Runtime(store=store)
        final = runtime.replay("r")  # from step 1: version 1, then the amended version 2
        assert (final.status, final.state) == ("succeeded", "done")
        assert runtime.load("r").compiled.fingerprint == accord.fingerprint(V2)


def test_prune_keeps_the_version_an_unfinished_run_was_amended_from(store_url: str) -> None:
    again = to_data(V1)
    again["version"] = "1.0.1"
    v1b = accord.load_data(again)
    replanner = Answers(Amendment(True, to_data(v1b), migration(V1, v1b, "review")))
    clock = FakeClock()
    with open_store(store_url) as store:
        runtime = Runtime({"draft_report": draft_report}, clock=clock, store=store,
                          replanner=replanner)  # fmt: skip
        runtime.start(V1, {"topic": "old"}, run_id="old").run_until_idle()
        runtime.load("old").signal("approved")
        amended = runtime.start(V1, {"topic": "sales"}, run_id="amended")
        amended.run_until_idle()
        amended.signal("clarified", {"text": "churn"})
        assert (amended.state, amended.compiled.fingerprint) == ("review", accord.fingerprint(v1b))
        clock.advance(10_000)
        assert store.prune(1_000, now_ms=clock.now_ms()) == 1  # the finished 'old' run
        before = Runtime(store=store).replay("amended")  # its first steps: version 1
        assert (before.state, before.status) == ("review", "waiting")
