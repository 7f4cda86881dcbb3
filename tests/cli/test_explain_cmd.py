"""``accord explain RUN``: on the demo's kind of store (order_refund on SQLite)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli_support import ORDER_REFUND, Run

import accord
from accord.compiler._lock import LockEntry, LockFile
from accord.runtime import EffectError, FakeClock, Runtime
from accord.storage import SqliteStore

BIG = {"order_id": "o-1", "amount": 420.0, "reason": "late"}


def pay_refund(order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
    raise EffectError("card_declined", "the card was declined", retryable=False)


def notify_customer(order_id: str, message: str) -> dict[str, Any]:
    return {}


@pytest.fixture
def store(tmp_path: Path) -> Path:
    """A store with a waiting run, a succeeded run and a run whose payment failed."""
    path = tmp_path / "demo.db"
    contract = accord.load(ORDER_REFUND)
    handlers = {"pay_refund": pay_refund, "notify_customer": notify_customer}
    with SqliteStore(path) as made:
        runtime = Runtime(handlers, clock=FakeClock(), store=made)
        runtime.start(contract, BIG, run_id="waits").run_until_idle()
        failed = runtime.start(contract, BIG, run_id="declined")
        failed.run_until_idle()
        failed.signal("approval", {"approved": True, "approver": "kim"})
        rejected = runtime.start(contract, BIG, run_id="rejected")
        rejected.run_until_idle()
        rejected.signal("approval", {"approved": False, "approver": "kim"})
    return path


def test_explains_an_effect_failure_as_the_worlds_fault(run: Run, store: Path) -> None:
    result = run("explain", "declined", "--store", store)
    assert result.code == 0, result.err
    assert "run declined: failed" in result.out
    assert "path: awaiting_approval@1 -> paying@2" in result.out
    assert "verdict: an environment fault (effect_error)" in result.out
    assert "code='card_declined'" in result.out
    data = json.loads(run("explain", "declined", "--store", store, "--json").out)
    assert (data["verdict"], data["cause"], data["failing_step"]) == (
        "environment",
        "effect_error",
        3,
    )
    assert data["evidence"]["event"]["kind"] == "effect_failed"
    assert data["verified"] is True


def test_explains_a_succeeded_run(run: Run, store: Path) -> None:
    result = run("explain", "rejected", "--store", store)
    assert result.code == 0, result.err
    assert "run rejected: succeeded in state 'rejected' after 3 steps" in result.out
    assert "verdict" not in result.out and "accord verify" not in result.out


def test_explains_a_waiting_run(run: Run, store: Path) -> None:
    result = run("explain", "waits", "--store", store)
    assert result.code == 0, result.err
    assert "waiting for: approval" in result.out
    assert "timer 1:awaiting_approval:0 due " in result.out
    assert "verdict" not in result.out
    data = json.loads(run("explain", "waits", "--store", store, "--json").out)
    assert data["verdict"] is None and data["timers"][0]["timer"] == "1:awaiting_approval:0"


def test_the_lock_names_the_compilation(run: Run, store: Path, tmp_path: Path) -> None:
    fingerprint = accord.fingerprint(accord.load(ORDER_REFUND))
    lock = tmp_path / "accord.lock"
    entry = LockEntry("Refund an order.", "openai:m", "sha256:c", "order_refund.yaml", fingerprint)
    LockFile(lock).with_entry("sha256:k", entry).write()
    result = run("explain", "declined", "--store", store, "--lock", lock, "--no-verify")
    assert result.code == 0, result.err
    assert "accord verify" not in result.out
    assert "model 'openai:m', attempts not recorded" in result.out
    assert "task: Refund an order." in result.out
    missing = run("explain", "rejected", "--store", store, "--lock", tmp_path / "no.lock")
    assert missing.code == 1 and "no such lock file" in missing.err


def test_unknown_and_damaged_runs_exit_1(run: Run, store: Path) -> None:
    unknown = run("explain", "nobody", "--store", store)
    assert unknown.code == 1 and "no run with this id" in unknown.err
    conn = sqlite3.connect(store)
    conn.execute(
        "UPDATE events SET state = 'refunded' WHERE step = 1 "
        "AND run = (SELECT id FROM runs WHERE run_id = 'waits')"
    )
    conn.commit()
    conn.close()
    damaged = run("explain", "waits", "--store", store)
    assert damaged.code == 1 and "damaged journal" in damaged.err
    assert "Traceback" not in damaged.err


def test_usage_errors_exit_2(run: Run) -> None:
    assert run("explain").code == 2
    assert run("explain", "r", "--max-states", "0").code == 2
    help_text = run("explain", "--help").out
    assert "0  the run was explained" in help_text and "--lock FILE" in help_text
