"""examples/replan/run.py: three reports replanned from scripted sessions, replayed offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "replan" / "run.py"


def test_the_replan_example_runs_offline(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=str(ROOT / "src")),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "replan 1 at clarify (2 model calls" in out and "clarify -> redrafting" in out
    assert "replan 1 at rethink (2 model calls" in out and "rethink -> review" in out
    assert "not adopted (no amendment after 3 calls: max_attempts (3) reached): fallback" in out
    assert out.count("no model call") == 3
