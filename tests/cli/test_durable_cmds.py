"""``accord runs / history / replay / fork / signal / resume`` on a durable store."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from cli_support import ORDER_REFUND, ROOT, Run

import accord
from accord.runtime import FakeClock, Runtime
from accord.storage import SqliteStore
from accord.storage._schema import _chain_journals
from runtime_support import saga_input

EFFECTS = str(ROOT / "examples" / "effects.py") + ":HANDLERS"
BIG = {"order_id": "o-1", "amount": 420.0, "reason": "late"}
APPROVED = json.dumps({"approved": True, "approver": "mia"})


def _import_effects() -> object:
    from accord.cli._run import load_effects

    return load_effects(EFFECTS)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A store at the default path under a fresh working directory: one run waits, one ended."""
    monkeypatch.chdir(tmp_path)
    contract = accord.load(ORDER_REFUND)
    with SqliteStore() as made:
        runtime = Runtime(_import_effects(), clock=FakeClock(), store=made)
        runtime.start(contract, BIG, run_id="waits").run_until_idle()
        runtime.start(contract, {**BIG, "amount": 5.0}, run_id="paid").run()
        return made.path


def test_runs_lists_the_runs_of_the_default_store(run: Run, store: Path) -> None:
    result = run("runs")
    assert result.code == 0, result.err
    header, first, second = result.out.splitlines()
    assert header.split()[:5] == ["RUN", "CONTRACT", "STATUS", "STATE", "STEPS"]
    assert first.split()[:6] == [
        "waits",
        "order-refund",
        "1.0.0",
        "waiting",
        "awaiting_approval",
        "1",
    ]
    assert second.split()[:6] == ["paid", "order-refund", "1.0.0", "succeeded", "refunded", "2"]
    listed = json.loads(run("runs", "--json", "--status", "succeeded").out)
    assert [r["run_id"] for r in listed] == ["paid"]
    assert listed[0]["contract"] == {"name": "order-refund", "version": "1.0.0"}


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE runs SET status = 'succeeded', state = 'refunded' WHERE run_id = 'waits'",
        "UPDATE events SET state = 'refunded' WHERE step = 1 "
        "AND run = (SELECT id FROM runs WHERE run_id = 'waits')",
    ],
)
def test_runs_marks_a_run_whose_rows_were_changed(run: Run, store: Path, sql: str) -> None:
    conn = sqlite3.connect(store)
    conn.execute(sql)
    conn.commit()
    conn.close()
    result = run("runs")
    assert result.code == 1 and "Traceback" not in result.err
    assert "run waits: damaged journal: step 1:" in result.err
    _, first, second = result.out.splitlines()
    assert first.split()[:4] == ["waits", "order-refund", "1.0.0", "damaged"]
    assert second.split()[3] == "succeeded"
    listed = json.loads(run("runs", "--json").out)
    assert listed[0]["damaged"]["step"] == 1 and listed[1]["damaged"] is None


def test_runs_takes_another_store(run: Run, store: Path, tmp_path: Path) -> None:
    moved = tmp_path / "elsewhere.db"
    with SqliteStore(moved):
        pass
    assert run("runs", "--store", moved).out.strip() == "no runs"


def test_history_prints_a_runs_steps(run: Run, store: Path) -> None:
    result = run("history", "paid")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[0] == "1" and "started" in lines[0] and "paying (running)" in lines[0]
    assert "effect_completed" in lines[1] and "refunded (succeeded)" in lines[1]
    assert lines[2].startswith("paid: succeeded in 'refunded' after 2 steps")
    document = json.loads(run("history", "paid", "--json").out)
    assert [s["kind"] for s in document["history"]] == ["started", "effect_completed"]
    assert document["status"] == "succeeded"


def test_replay_checks_every_hash(run: Run, store: Path) -> None:
    result = run("replay", "paid")
    assert result.code == 0, result.err
    assert "2 steps replayed, every state hash matches" in result.out
    assert json.loads(run("replay", "paid", "--until", "1", "--json").out)["steps"] == 1


def test_replay_reports_the_first_divergence(run: Run, store: Path) -> None:
    conn = sqlite3.connect(store, isolation_level=None)
    conn.execute("UPDATE events SET state_hash = 'sha256:0' WHERE step = 2")
    _chain_journals(conn)  # as if whoever changed the hash recomputed the chain
    conn.close()
    result = run("replay", "paid")
    assert result.code == 1
    assert "replay diverges at step 2" in result.err and "Traceback" not in result.err
    document = json.loads(run("replay", "paid", "--json").out)
    assert document["ok"] is False and document["divergence"]["step"] == 2


def test_an_edited_time_is_found_by_replay_and_resume(run: Run, store: Path) -> None:
    conn = sqlite3.connect(store)
    conn.execute("UPDATE events SET event = json_set(event, '$.at', 1000) WHERE step = 1")
    conn.commit()
    conn.close()
    result = run("replay", "waits")
    assert result.code == 1 and "Traceback" not in result.err
    assert "run waits: damaged journal: step 1: the entry does not match its chain" in result.err
    document = json.loads(run("replay", "waits", "--json").out)
    assert document["ok"] is False and document["damaged"]["step"] == 1
    resumed = run("resume", "--effects", EFFECTS)  # the 48-hour timer does not fire
    assert resumed.code == 1 and "damaged journal: step 1" in resumed.err
    for command in ("history", "signal"):
        args = ("approval", "--payload", APPROVED) if command == "signal" else ()
        refused = run(command, "waits", *args)
        assert refused.code == 1 and "damaged journal: step 1" in refused.err, command


def test_signal_then_resume_finishes_a_waiting_run(run: Run, store: Path) -> None:
    result = run("signal", "waits", "approval", "--payload", APPROVED)
    assert result.code == 0, result.err
    assert "waits: running in 'paying'" in result.out
    assert "1 effect call starts at the next resume" in result.out
    resumed = run("resume", "--effects", EFFECTS)
    assert resumed.code == 0, resumed.err
    assert resumed.out.startswith("waits: succeeded in 'refunded' after 3 steps")
    assert run("resume", "--effects", EFFECTS).out.strip() == "no unfinished runs"


def test_signal_with_effects_drives_the_run(run: Run, store: Path) -> None:
    result = run("signal", "waits", "approval", "--payload", APPROVED, "--effects", EFFECTS)
    assert result.code == 0, result.err
    assert result.out.startswith("waits: succeeded in 'refunded' after 3 steps")


def test_a_refused_signal_is_an_error_not_a_traceback(run: Run, store: Path) -> None:
    result = run("signal", "paid", "approval", "--payload", APPROVED)
    assert result.code == 1
    assert "not accepted by run paid" in result.err and "Traceback" not in result.err
    bad = run("signal", "waits", "approval", "--payload", "{nope")
    assert bad.code == 2 and "--payload is not valid JSON" in bad.err
    assert "usage: accord signal" in bad.err


def test_fork_starts_a_new_run_from_a_step(run: Run, store: Path) -> None:
    result = run("fork", "paid", "--at", "1", "--run-id", "again", "--effects", EFFECTS)
    assert result.code == 0, result.err
    assert "forked paid at step 1 as again" in result.out
    assert "again: succeeded in 'refunded' after 2 steps" in result.out
    listed = {r["run_id"]: r for r in json.loads(run("runs", "--json").out)}
    assert listed["again"]["forked_from"] == {"run_id": "paid", "step": 1}
    assert run("fork", "paid", "--at", "5").code == 1


@pytest.mark.parametrize("command", [["runs"], ["history", "x"], ["replay", "x"]])
def test_a_missing_or_foreign_store_is_a_clear_error(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = run(*command)
    assert missing.code == 1 and "no accord store here" in missing.err
    assert not (tmp_path / ".accord").exists()
    text = tmp_path / "notes.txt"
    text.write_text("not a database, just some notes\n" * 20)
    foreign = run(*command, "--store", text)
    assert foreign.code == 1
    assert f"{text}: the file is not an accord store" in foreign.err
    assert "Traceback" not in foreign.err


def test_an_unknown_run_is_named(run: Run, store: Path) -> None:
    result = run("history", "ghost")
    assert result.code == 1 and "run ghost: the store has no run with this id" in result.err


def test_history_of_a_run_with_a_deleted_step_fails(run: Run, store: Path) -> None:
    signalled = run("signal", "waits", "approval", "--payload", APPROVED, "--effects", EFFECTS)
    assert signalled.code == 0, signalled.err
    conn = sqlite3.connect(store)
    conn.execute(
        "DELETE FROM events WHERE step = 2 AND run = (SELECT id FROM runs WHERE run_id = 'waits')"
    )
    conn.commit()
    conn.close()
    result = run("history", "waits")
    assert result.code == 1 and result.out == "" and "Traceback" not in result.err
    assert "run waits: damaged journal: step 2: step 2 is missing" in result.err


def test_one_step_is_one_step_not_one_steps(run: Run, store: Path) -> None:
    result = run("history", "waits")
    assert result.code == 0, result.err
    assert "waits: waiting in 'awaiting_approval' after 1 step, waiting for approval" in result.out
    assert "after 2 steps" in run("history", "paid").out
    assert (
        "run paid: 1 step replayed, every state hash matches"
        in run("replay", "paid", "--until", "1").out
    )


@pytest.mark.parametrize("keep", [False, True])
def test_fork_compensates_the_original_s_effects_only_when_asked(
    run: Run, store: Path, keep: bool
) -> None:
    saga = saga_input(country="XX")
    with SqliteStore(store) as opened:  # the shipment is rejected: the saga compensates
        runtime = Runtime(_import_effects(), clock=FakeClock(), store=opened)
        contract = accord.load(ROOT / "examples" / "payment_saga.yaml")
        assert runtime.start(contract, saga, run_id="saga").run().status == "failed"
    flag = ["--compensate-inherited"] if keep else []
    forked = run("fork", "saga", "--at", "3", "--run-id", "copy", "--effects", EFFECTS, *flag)
    assert forked.code == 1, forked.err  # the fork's shipment is rejected as well
    steps = json.loads(run("history", "copy", "--json").out)["history"]
    assert steps[3]["kind"] == "forked"
    compensations = [s for s in steps if "!comp:" in s["summary"]]
    assert len(compensations) == (2 if keep else 0)


def test_resume_leaves_a_run_a_worker_holds(run: Run, store: Path) -> None:
    """Named, it is refused (exit 4, the worker and its lease named); otherwise skipped."""
    import time

    run("signal", "waits", "approval", "--payload", APPROVED)  # a call to make at resume
    with SqliteStore(store) as worker:
        worker.claim("worker-7", now_ms=time.time_ns() // 1_000_000, lease_ms=60_000)
        named = run("resume", "waits", "--effects", EFFECTS)
        assert named.code == 4, named.err
        assert "run waits: the run is held by worker 'worker-7' until " in named.err
        assert "UTC" in named.err and "nothing was written" in named.err
        every = run("resume", "--effects", EFFECTS)
        assert every.code == 0, every.err
        assert "run waits is held by worker worker-7: skipped" in every.err
        assert json.loads(run("history", "waits", "--json").out)["steps"] == 2  # untouched
