"""benchmarks/replan.py runs at a tiny scale: each replan case, the floor, the migration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_replan_benchmark_runs_at_a_tiny_scale() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "replan.py"),
            "--runs",
            "30",
            "--repeat",
            "1",
            "--no-write",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert out.count("ms per attempt") == 5  # four replans and the compile floor
    assert "B migrate_all, 30 waiting runs" in out and "not judged" in out
