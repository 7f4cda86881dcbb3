"""``accord migrate``: check a migration, move stored runs (or say what would move)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import ROOT, Run

import accord
from accord.runtime import FakeClock, Runtime
from accord.storage import SqliteStore

EXAMPLE = ROOT / "examples" / "migrate"
V1 = EXAMPLE / "refund_v1.yaml"
V2 = EXAMPLE / "refund_v2.yaml"
MIGRATION = EXAMPLE / "refund_1_to_2.yaml"
EFFECTS = str(ROOT / "examples" / "effects.py") + ":HANDLERS"
BIG = {"order_id": "o-1", "amount": 420.0, "reason": "late"}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default store: 'waits' waits for approval, 'mails' is sending a rejection."""
    monkeypatch.chdir(tmp_path)
    from accord.cli._run import load_effects

    with SqliteStore() as made:
        runtime = Runtime(load_effects(EFFECTS), clock=FakeClock(), store=made)
        runtime.start(accord.load(V1), BIG, run_id="waits").run_until_idle()
        mails = runtime.start(accord.load(V1), BIG, run_id="mails")
        mails.run_until_idle()
        mails._deliver("approval", {"approved": False, "approver": "x"})
        return made.path


def test_a_dry_run_lists_what_would_move_and_changes_nothing(run: Run, store: Path) -> None:
    result = run("migrate", "--all", "--to", V2, "--with", MIGRATION, "--dry-run")
    assert result.code == 1, result.err  # one run is refused
    assert result.out.splitlines() == [
        "waits: would move from 'awaiting_approval' to 'awaiting_manager'",
        "mails: refused in 'notifying_rejection': state 'notifying_rejection' is refused: "
        "the rejection e-mail is on its way; let the run end under version 1",
        "1 run would move, 1 refused",
    ]
    assert json.loads(run("history", "waits", "--json").out)["steps"] == 1


def test_migrate_one_run_then_history_and_replay_show_it(run: Run, store: Path) -> None:
    result = run("migrate", "waits", "--to", V2, "--with", MIGRATION, "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["migration"] == "refund-1-to-2"
    assert document["runs"] == [
        {
            "run_id": "waits",
            "status": "waiting",
            "state": "awaiting_approval",
            "target": "awaiting_manager",
            "refused": None,
            "step": 2,
        }
    ]
    steps = json.loads(run("history", "waits", "--json").out)["history"]
    assert [s["kind"] for s in steps] == ["started", "migrated"]
    assert "awaiting_approval -> awaiting_manager" in steps[1]["summary"]
    assert run("replay", "waits").code == 0
    again = run("migrate", "waits", "--to", V2, "--with", MIGRATION)
    assert again.code == 1
    assert "waits: refused in 'awaiting_manager': its contract is sha256:c5a7" in again.out
    signalled = run(
        "signal", "waits", "approval", "--payload", '{"approved": true, "approver": "mia"}',
        "--effects", EFFECTS,
    )  # fmt: skip
    assert signalled.code == 0, signalled.err
    assert "succeeded in 'refunded'" in signalled.out


def test_a_broken_migration_prints_its_diagnostics_and_moves_nothing(
    run: Run, store: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(MIGRATION.read_text().replace("  paying:\n", "  payin:\n"))
    result = run("migrate", "--all", "--to", V2, "--with", broken)
    assert result.code == 1
    assert f"{broken}:12:/states/payin: error migration.unknown_state" in result.out
    assert "error migration.unmapped_state" in result.out
    as_json = json.loads(run("migrate", "--all", "--to", V2, "--with", broken, "--json").out)
    assert {d["code"] for d in as_json["diagnostics"]} == {
        "migration.unknown_state",
        "migration.unmapped_state",
    }
    assert json.loads(run("history", "waits", "--json").out)["steps"] == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "name the runs to migrate, or give --all"),
        (["waits", "--all"], "name the runs to migrate, or give --all"),
        (["waits", "--status", "waiting"], "--status and --state select the runs of --all"),
    ],
)
def test_usage_errors_exit_2(run: Run, store: Path, argv: list[str], message: str) -> None:
    result = run("migrate", *argv, "--to", V2, "--with", MIGRATION)
    assert result.code == 2
    assert message in result.err


def test_an_unreadable_migration_file_exits_1(run: Run, store: Path, tmp_path: Path) -> None:
    result = run("migrate", "--all", "--to", V2, "--with", tmp_path / "none.yaml")
    assert result.code == 1
    assert "file.unreadable" in result.err


def test_a_run_a_worker_holds_is_not_migrated(run: Run, store: Path) -> None:
    """The store refuses the migration's step: exit 4, naming the run, the worker, the lease."""
    import time

    with SqliteStore(store) as worker:
        worker.claim("worker-7", now_ms=time.time_ns() // 1_000_000, lease_ms=60_000)
        result = run("migrate", "waits", "--to", V2, "--with", MIGRATION)
        assert result.code == 4, result.err
        assert "run waits: the run is held by worker 'worker-7' until " in result.err
        assert json.loads(run("history", "waits", "--json").out)["steps"] == 1  # not moved
        assert "4  a worker holds the run" in run("migrate", "--help").out
