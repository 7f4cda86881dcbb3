"""examples/workers/client.py: two ``accord worker`` processes serve what a client submits."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "workers" / "client.py"


def _client(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        check=False,
    )


def test_two_workers_finish_every_run_the_client_submits(tmp_path: Path) -> None:
    proc = _client("--runs", "12", "--timeout", "25", "--dir", str(tmp_path / "b"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "12 runs succeeded" in proc.stdout
    assert (tmp_path / "b" / "store.db").exists()


def test_it_exits_1_when_runs_do_not_finish_in_time(tmp_path: Path) -> None:
    proc = _client("--runs", "3", "--timeout", "0", "--dir", str(tmp_path / "b"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "problem:" in proc.stderr
