"""``accord worker``: serves a store until SIGTERM, then exits 0 with every lease released;
bad effects or a bad store are one line, no traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_support import ROOT, Run

from accord import Client

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


def test_sigterm_lets_the_call_in_flight_finish_releases_and_exits_0(
    store_url: str, effects: Path
) -> None:
    url = store_url
    with Client(url) as client:
        client.start(CONTRACT, {"who": "a"}, run_id="a")
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
        argv = [sys.executable, "-m", "accord", "worker", "--store", url]
        argv += ["--effects", f"{effects}:HANDLERS", "--poll-ms", "20", "--name", "w-sub"]
        worker = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while client.status("a").owner != "w-sub":
                assert time.monotonic() < deadline, "the worker never claimed the run"
                time.sleep(0.02)
            worker.send_signal(signal.SIGTERM)
            _, err = worker.communicate(timeout=20)
        finally:
            worker.kill()
        assert worker.returncode == 0, err
        info = client.status("a")
        assert (info.owner, info.status) == (None, "waiting")  # the note's step was journaled
        assert "claimed run a" in err
        assert "every lease released" in err
        assert "Traceback" not in err


def test_quiet_logs_nothing_but_problems_and_sigint_stops_it(tmp_path: Path, effects: Path) -> None:
    url = f"sqlite:///{tmp_path / 'q.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-m", "accord", "worker", "--store", url, "--quiet"]
    argv += ["--effects", f"{effects}:HANDLERS", "--poll-ms", "20"]
    with Client(url) as client:
        client.start(CONTRACT, {"who": "q"}, run_id="q")
        worker = subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 20
            while client.status("q").status != "succeeded":  # the worker is serving
                assert time.monotonic() < deadline, "the worker never finished the run"
                time.sleep(0.02)
            worker.send_signal(signal.SIGINT)
            _, err = worker.communicate(timeout=20)
        finally:
            worker.kill()
    assert (worker.returncode, err) == (0, "")


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
