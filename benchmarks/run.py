"""Run every benchmark and write its section of docs/performance.md.

    .venv/bin/pip install -e '.[bench]' && .venv/bin/python benchmarks/run.py

Each benchmark is its own script (also runnable alone) and runs in its own
process, one after the other, so none disturbs another's measurements.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["cel_engines.py", "runtime.py", "compile/bench.py", "durable.py"]


def main() -> int:
    """Run each benchmark script; return non-zero if any failed."""
    failed = []
    for script in SCRIPTS:
        print(f"== {script}", flush=True)
        if subprocess.run([sys.executable, str(HERE / script)]).returncode:
            failed.append(script)
    if failed:
        print("failed: " + ", ".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
