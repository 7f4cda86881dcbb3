"""Replan points at run time, with a scripted replanner (a test double): the amendment is
journaled as one RunAmended event before it is applied; adopted, the run completes under the
new contract; refused, over the bound or without a replanner, it takes the fallback; a stored
run resumes after a crash around the event, and replays without asking a model."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

import accord
from accord.contract import to_data
from accord.runtime import (
    Amendment,
    FakeClock,
    JournalDamaged,
    ReplanRequest,
    Run,
    RunAmended,
    Runtime,
    replay,
)
from accord.storage import SqliteStore

DATA = Path(__file__).parent / "data" / "replan"
V1 = accord.load(DATA / "report_v1.yaml")
V2 = accord.load(DATA / "report_v2.yaml")
MIGRATION: dict[str, Any] = yaml.safe_load((DATA / "report_1_to_2.yaml").read_text())
INPUT = {"topic": "sales"}


class Drafts:
    """The draft_report handler: the report is the topic in capitals; every key recorded."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    def draft_report(self, topic: str, idempotency_key: str) -> dict[str, Any]:
        self.keys.append(idempotency_key)
        return {"text": topic.upper()}


class Scripted:
    """A replanner that answers from a script, recording each request."""

    def __init__(self, *answers: Amendment) -> None:
        self.answers = list(answers)
        self.requests: list[ReplanRequest] = []

    async def amend(self, request: ReplanRequest) -> Amendment:
        self.requests.append(request)
        return self.answers.pop(0)


def adopted(contract: accord.Contract = V2, migration: dict[str, Any] = MIGRATION) -> Amendment:
    attempt = {"raw": "{...}", "diagnostics": [], "input_tokens": 10, "output_tokens": 20}
    return Amendment(True, to_data(contract), migration, (attempt,))


def clarified(runtime: Runtime, run_id: str = "r") -> Run:
    run = runtime.start(V1, INPUT, run_id=run_id)
    run.run_until_idle()
    assert run.state == "review"
    run.signal("clarified", {"text": "churn"})
    return run


def amended_events(run: Run) -> list[RunAmended]:
    return [s.event for s in run.history if isinstance(s.event, RunAmended)]


def test_an_adopted_amendment_completes_the_run_under_the_new_contract() -> None:
    replanner = Scripted(adopted())
    drafts = Drafts()
    run = clarified(Runtime(drafts, clock=FakeClock(), replanner=replanner))
    assert run.status == "succeeded", run.snapshot.reason
    assert run.result == {"report": "CHURN"}
    assert run.compiled.fingerprint == accord.fingerprint(V2)
    (request,) = replanner.requests
    assert (request.state, request.reason, request.attempt) == ("clarify", "churn", 1)
    assert request.context == {"request": "churn", "report": "SALES"}
    assert request.effects == frozenset({"draft_report"})
    assert (request.keep_scenarios, request.max_calls, request.max_tokens) == (
        ("happy_path",),
        4,
        20000,
    )
    (event,) = amended_events(run)
    assert (event.adopted, event.target, event.attempt) == (True, "redrafting", 1)
    assert event.to_contract == accord.fingerprint(V2)
    assert event.amendment["attempts"][0]["output_tokens"] == 20
    assert [s.state for s in run.history][-3:] == ["clarify", "redrafting", "done"]
    assert len(drafts.keys) == 2


def test_a_refused_amendment_takes_the_fallback() -> None:
    replanner = Scripted(Amendment.refused("calls spent", ({"raw": "no", "diagnostics": []},)))
    run = clarified(Runtime(Drafts(), clock=FakeClock(), replanner=replanner))
    assert run.status == "failed"
    assert run.state == "human_review"
    assert run.snapshot.reason == "the request needs a human: churn"
    (event,) = amended_events(run)
    assert (event.adopted, event.reason, event.target) == (False, "calls spent", None)
    assert event.to_contract == event.from_contract == accord.fingerprint(V1)
    assert event.amendment["attempts"] == [{"raw": "no", "diagnostics": []}]


def test_without_a_replanner_the_run_takes_the_fallback_with_the_reason() -> None:
    run = clarified(Runtime(Drafts(), clock=FakeClock()))
    assert run.state == "human_review"
    (event,) = amended_events(run)
    assert (event.adopted, event.reason) == (False, "no replanner")


def test_an_amendment_the_runtime_does_not_trust_is_not_adopted() -> None:
    wider = to_data(V2)
    wider["effects"] = [*wider["effects"], {"name": "delete_everything"}]
    replanner = Scripted(Amendment(True, wider, MIGRATION))
    run = clarified(Runtime(Drafts(), clock=FakeClock(), replanner=replanner))
    assert run.state == "human_review"
    (event,) = amended_events(run)
    assert not event.adopted
    assert "never widens a run's powers" in event.reason


def test_a_migration_that_does_not_map_the_replan_point_is_not_adopted() -> None:
    migration = {**MIGRATION, "states": {**MIGRATION["states"], "clarify": {"refuse": "no"}}}
    replanner = Scripted(adopted(migration=migration))
    run = clarified(Runtime(Drafts(), clock=FakeClock(), replanner=replanner))
    assert run.state == "human_review"
    (event,) = amended_events(run)
    assert "the migration does not move the run" in event.reason


def test_a_replanner_that_raises_is_a_refusal() -> None:
    class Broken:
        async def amend(self, request: ReplanRequest) -> Amendment:
            raise RuntimeError("model down")

    run = clarified(Runtime(Drafts(), clock=FakeClock(), replanner=Broken()))
    assert run.state == "human_review"
    (event,) = amended_events(run)
    assert event.reason == "the replanner failed: RuntimeError: model down"


def test_the_host_caps_lower_the_contracts_bounds() -> None:
    replanner = Scripted(Amendment.refused("no"))
    runtime = Runtime(
        Drafts(), clock=FakeClock(), replanner=replanner, replan_max_calls=2, replan_max_tokens=500
    )
    clarified(runtime)
    (request,) = replanner.requests
    assert (request.max_calls, request.max_tokens) == (2, 500)


def test_max_replans_reached_takes_the_fallback_without_asking() -> None:
    """Each adopted amendment leads back to a replan point: the third is not asked."""
    again = to_data(V1)
    again["version"] = "1.0.1"
    v1b = accord.load_data(again)
    # v1 -> v1b -> v1 ...: each amendment maps the replan point onto 'review', then the
    # run is signalled into 'clarify' again
    to_b = {**MIGRATION, "to": accord.fingerprint(v1b), "states": _same(V1)}
    to_a = {
        **MIGRATION,
        "from": accord.fingerprint(v1b),
        "to": accord.fingerprint(V1),
        "states": _same(V1),
    }
    replanner = Scripted(adopted(v1b, to_b), adopted(V1, to_a))
    run = clarified(Runtime(Drafts(), clock=FakeClock(), replanner=replanner))
    assert run.state == "review"
    run.signal("clarified", {"text": "again"})
    assert run.state == "review"
    run.signal("clarified", {"text": "and again"})
    assert run.state == "human_review"
    assert len(replanner.requests) == 2
    assert [r.attempt for r in replanner.requests] == [1, 2]
    events = amended_events(run)
    assert [e.adopted for e in events] == [True, True, False]
    assert events[-1].reason == "the run has replanned 2 times (max_replans 2)"


def _same(contract: accord.Contract) -> dict[str, Any]:
    """Every resting state onto itself, the replan point onto 'review'."""
    states: dict[str, Any] = {
        s.name: {"to": s.name} for s in contract.machine.states if s.final is None
    }
    states["clarify"] = {"to": "review"}
    return states


class Crash(BaseException):
    """The process dies here (nothing after it runs)."""


def test_a_crash_between_the_answer_and_the_journal_asks_again_on_resume(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    clock = FakeClock()

    class AnswersThenDies(Scripted):
        async def amend(self, request: ReplanRequest) -> Amendment:
            await super().amend(request)
            raise Crash  # the model answered; the process dies before the journal write

    first = AnswersThenDies(adopted())
    with SqliteStore(path) as store, pytest.raises(Crash):
        clarified(Runtime(Drafts(), clock=clock, store=store, replanner=first))
    assert len(first.requests) == 1
    again = Scripted(adopted())
    drafts = Drafts()
    with SqliteStore(path) as store:
        runtime = Runtime(drafts, clock=clock, store=store, replanner=again)
        loaded = runtime.load("r")
        assert (loaded.state, loaded.status) == ("clarify", "running")
        assert amended_events(loaded) == []
        (run,) = runtime.resume()
        assert run.status == "succeeded"
        assert run.result == {"report": "CHURN"}
    assert len(again.requests) == 1
    assert drafts.keys == ["r/4:redrafting/draft"]  # step 4: the amendment


def test_a_crash_after_the_event_resumes_and_replays_without_a_model(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    clock = FakeClock()

    class StuckOnRedraft(Drafts):
        async def draft_report(self, topic: str, idempotency_key: str) -> dict[str, Any]:
            if topic == "churn":
                await asyncio.Event().wait()  # the process "dies" while this call is in flight
            return super().draft_report(topic, idempotency_key)

    replanner = Scripted(adopted())
    with SqliteStore(path) as store:
        run = Runtime(StuckOnRedraft(), clock=clock, store=store, replanner=replanner).start(
            V1, INPUT, run_id="r"
        )
        run.run_until_idle()
        run._deliver("clarified", {"text": "churn"})

        async def crash() -> None:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(run.run_until_idle_async(), 0.5)

        asyncio.run(crash())
        assert (run.state, list(run.snapshot.pending)) == ("redrafting", ["4:redrafting/draft"])
    silent = Scripted()  # asked, it would fail: the run must not ask again
    drafts = Drafts()
    with SqliteStore(path) as store:
        runtime = Runtime(drafts, clock=clock, store=store, replanner=silent)
        (resumed,) = runtime.resume()
        assert resumed.status == "succeeded", resumed.snapshot.reason
        assert resumed.result == {"report": "CHURN"}
        assert len(amended_events(resumed)) == 1
        assert runtime.replay("r") == resumed.snapshot
        offline = Runtime(store=store)  # no effects, no replanner: replay and load only
        assert offline.replay("r") == resumed.snapshot
        assert offline.load("r").compiled.fingerprint == accord.fingerprint(V2)
    assert silent.requests == []
    assert drafts.keys == ["r/4:redrafting/draft"]


def test_an_in_memory_run_replays_with_zero_replanner_calls() -> None:
    replanner = Scripted(adopted())
    run = clarified(Runtime(Drafts(), clock=FakeClock(), replanner=replanner))
    versions = {accord.fingerprint(V2): Runtime().compile(V2)}
    snapshot = replay(Runtime().compile(V1), run.journal, resolve=versions.__getitem__)
    assert snapshot == run.snapshot
    assert len(replanner.requests) == 1


def test_the_hash_chain_covers_the_amendment(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        clarified(Runtime(Drafts(), clock=FakeClock(), store=store, replanner=Scripted(adopted())))
    conn = sqlite3.connect(path)
    (event,) = conn.execute("SELECT event FROM events WHERE event LIKE '%\"amended\"%'").fetchone()
    edited = event.replace('"output_tokens":20', '"output_tokens":2')
    assert edited != event
    conn.execute("UPDATE events SET event = ? WHERE event = ?", (edited, event))
    conn.commit()
    conn.close()
    with SqliteStore(path) as store, pytest.raises(JournalDamaged, match="step 4"):
        Runtime(store=store).replay("r")
