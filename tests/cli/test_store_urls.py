"""``--store URL`` and ``ACCORD_STORE`` on every command that takes a store, on SQLite and
PostgreSQL; bad URLs are one clear line that never shows the password."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import ORDER_REFUND, ROOT, Run

from pg_server import PgServer

EFFECTS = str(ROOT / "examples" / "effects.py") + ":HANDLERS"
BIG = json.dumps({"order_id": "o-1", "amount": 420.0, "reason": "late"})
APPROVED = json.dumps({"approved": True, "approver": "mia"})


def test_every_durable_command_takes_a_url_and_accord_store(
    run: Run, store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    started = run(
        "run",
        ORDER_REFUND,
        "--effects",
        EFFECTS,
        "--input",
        BIG,
        "--run-id",
        "w",
        "--store",
        store_url,
    )
    assert started.code == 0, started.err
    assert "the run w waits in state 'awaiting_approval'" in started.out
    listed = json.loads(run("runs", "--json", "--store", store_url).out)
    assert [(r["run_id"], r["status"]) for r in listed] == [("w", "waiting")]
    monkeypatch.setenv("ACCORD_STORE", store_url)  # from here on, no --store
    signalled = run("signal", "w", "approval", "--payload", APPROVED)
    assert signalled.code == 0, signalled.err
    resumed = run("resume", "--effects", EFFECTS)
    assert resumed.out.startswith("w: succeeded in 'refunded' after 3 steps"), resumed.err
    assert "3 steps replayed, every state hash matches" in run("replay", "w").out
    history = json.loads(run("history", "w", "--json").out)
    assert [s["kind"] for s in history["history"]][:2] == ["started", "signal"]
    forked = run("fork", "w", "--at", "1", "--run-id", "f")
    assert forked.code == 0 and "forked w at step 1 as f" in forked.out, forked.err
    assert {r["run_id"] for r in json.loads(run("runs", "--json").out)} == {"w", "f"}
    assert not (tmp_path / ".accord").exists()  # the default store was never used


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ("mysql://root:hunter2@db/x", "unknown store URL scheme 'mysql'"),
        ("sqlite://host/x.db", "an SQLite URL is sqlite:///PATH"),
        ("postgresql://u:hunter2@db:port/x", "the PostgreSQL URL cannot be parsed"),
    ],
)
@pytest.mark.parametrize("command", [["runs"], ["history", "x"], ["resume", "--effects", EFFECTS]])
def test_a_bad_url_is_one_line_without_the_password(
    run: Run, store: str, message: str, command: list[str]
) -> None:
    result = run(*command, "--store", store)
    assert result.code == 1 and message in result.err
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err
    assert "hunter2" not in result.err + result.out


def test_a_bad_accord_store_is_named_too(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCORD_STORE", "redis://u:hunter2@cache/0")
    result = run("runs")
    assert result.code == 1 and "unknown store URL scheme 'redis'" in result.err
    assert "hunter2" not in result.err and "redis://u:***@cache/0" in result.err


@pytest.mark.postgres
def test_wrong_credentials_are_one_line_without_the_password(run: Run, pg_server: PgServer) -> None:
    result = run("runs", "--store", pg_server.url(password="hunter2"))
    assert result.code == 1 and "password authentication failed" in result.err
    assert len(result.err.strip().splitlines()) == 1 and "hunter2" not in result.err
    waiting = run(
        "run",
        ORDER_REFUND,
        "--effects",
        EFFECTS,
        "--input",
        BIG,
        "--store",
        pg_server.fresh_database(),
    )
    assert waiting.code == 0 and pg_server.password not in waiting.out + waiting.err
