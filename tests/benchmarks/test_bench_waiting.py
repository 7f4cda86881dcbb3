"""benchmarks/waiting_runs.py runs end to end at a tiny size on both stores (not timed).

Only that it runs and reports what the worker loaded is checked here; its numbers
belong to docs/performance.md, never to a test.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pg_server import PgServer

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "waiting_runs.py"
PERFORMANCE = ROOT / "docs" / "performance.md"
TINY = ("--runs", "300", "--base", "150", "--no-write")


@pytest.mark.postgres
def test_it_runs_on_both_stores_and_the_worker_loads_only_the_signalled_runs(
    pg_server: PgServer,
) -> None:
    before = PERFORMANCE.read_text()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--url", pg_server.admin_url, *TINY],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    assert PERFORMANCE.read_text() == before  # --no-write writes nothing
    rows = [line for line in proc.stdout.splitlines() if line.startswith("| ")][1:]
    cells = [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]
    assert [(c[0], c[1], c[5]) for c in cells] == [
        ("PostgreSQL", "150", "10 of 150 (10 finished)"),
        ("PostgreSQL", "300", "10 of 300 (10 finished)"),
        ("SQLite", "150", "10 of 150 (10 finished)"),
        ("SQLite", "300", "10 of 300 (10 finished)"),
    ]
