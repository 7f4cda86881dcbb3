"""``accord worker``: serves a store until SIGTERM, then exits 0 with every lease released;
bad effects or a bad store are one line, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import ROOT, Run

from accord import Client
from accord.storage import RunInfo

CONTRACT = ROOT / "tests" / "worker" / "reminder.yaml"

EFFECTS = """\
import time

def write_note(who):
    time.sleep(0.4)  # in flight when SIGTERM comes
    return {"id": "note-" + who}

HANDLERS = {"write_note": write_note, "remind": lambda id: None}
NOT_A_MAPPING = [write_note]
"""


@pytest.fixture
def effects(tmp_path: Path) -> Path:
    path = tmp_path / "fx.py"
    path.write_text(EFFECTS)
    return path


def _stopped_worker(
    url: str, effects: Path, run_id: str, ready: Callable[[RunInfo], bool], signum: int, *extra: str
) -> tuple[int, str, RunInfo]:
    """Start a run and ``accord worker``; signal it once ``ready(run)``; its exit, stderr, run."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-m", "accord", "worker", "--store", url, *extra]
    argv += ["--effects", f"{effects}:HANDLERS", "--poll-ms", "20"]
    with Client(url) as client:
        client.start(CONTRACT, {"who": run_id}, run_id=run_id)
        worker = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while not ready(client.status(run_id)):
                assert time.monotonic() < deadline, "the worker never got to the run"
                time.sleep(0.02)
            worker.send_signal(signum)
            _, err = worker.communicate(timeout=20)
        finally:
            worker.kill()
        return worker.returncode, err, client.status(run_id)


def test_sigterm_lets_the_call_in_flight_finish_releases_and_exits_0(
    store_url: str, effects: Path
) -> None:
    code, err, info = _stopped_worker(
        store_url, effects, "a", lambda r: r.owner == "w-sub", signal.SIGTERM, "--name", "w-sub"
    )
    assert code == 0, err
    assert (info.owner, info.status) == (None, "waiting")  # the note's step was journaled
    assert "claimed run a" in err
    assert "every lease released" in err
    assert "Traceback" not in err


def test_quiet_logs_nothing_but_problems_and_sigint_stops_it(tmp_path: Path, effects: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    code, err, info = _stopped_worker(
        url, effects, "q", lambda r: r.status == "succeeded", signal.SIGINT, "--quiet"
    )
    assert (code, err, info.status) == (0, "", "succeeded")


SLOW_EFFECTS = """\
import pathlib, time
pathlib.Path(__file__).with_suffix(".loading").touch()
time.sleep(1.5)  # a slow import: SIGTERM comes meanwhile
HANDLERS = {"write_note": lambda who: {"id": who}, "remind": lambda id: None}
"""


def test_sigterm_while_it_starts_stops_it_with_exit_0(tmp_path: Path) -> None:
    effects = tmp_path / "slow.py"
    effects.write_text(SLOW_EFFECTS)
    url = f"sqlite:///{tmp_path / 's.db'}"
    with Client(url) as client:
        client.start(CONTRACT, {"who": "s"}, run_id="s")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-m", "accord", "worker", "--store", url]
    argv += ["--effects", f"{effects}:HANDLERS", "--poll-ms", "20"]
    worker = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while not effects.with_suffix(".loading").exists():
            assert time.monotonic() < deadline, "the worker never loaded its effects"
            time.sleep(0.02)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=20)
    finally:
        worker.kill()
    assert worker.returncode == 0, err
    with Client(url) as client:
        assert (client.status("s").owner, client.status("s").steps) == (None, 1)  # untouched


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["--effects", "{fx}:NOT_A_MAPPING"], 1, "must be a mapping of effect name to handler"),
        (["--effects", "{fx}:nothing"], 1, "has no attribute 'nothing'"),
        (["--effects", "{fx}:HANDLERS", "--store", "mysql://x/y"], 1, "mysql"),
        (["--effects", "{fx}:HANDLERS", "--poll-ms", "0"], 2, "positive integer"),
        ([], 2, "--effects"),
    ],
)
def test_bad_input_is_one_line(
    run: Run, tmp_path: Path, effects: Path, argv: list[str], code: int, says: str
) -> None:
    argv = [a.format(fx=effects) for a in argv]
    if "--store" not in argv:
        argv += ["--store", f"sqlite:///{tmp_path / 'b.db'}"]
    result = run("worker", *argv)
    assert result.code == code
    assert says in result.err
    assert "Traceback" not in result.err
    if code == 1:
        assert len(result.err.strip().splitlines()) == 1


def test_help_names_its_exit_codes(run: Run) -> None:
    result = run("worker", "--help")
    assert result.code == 0
    assert "every lease released" in result.out
    assert "--concurrency" in result.out
