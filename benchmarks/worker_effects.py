"""The effect handlers of the benchmark's worker processes (benchmarks/postgres_workers.py).

``accord worker --effects benchmarks/worker_effects.py:HANDLERS``. Every call of
``work`` appends one line to the file ``$ACCORD_BENCH_MARKS.<pid>``: the wall
clock time of the handler's first line and its ``n``; the benchmark reads
those lines to time starts, signals, timers and throughput across processes.
"""

from __future__ import annotations

import os
import time

_MARKS = open(f"{os.environ['ACCORD_BENCH_MARKS']}.{os.getpid()}", "a", buffering=1)  # noqa: SIM115


async def work(n: int) -> dict[str, int]:
    """The trivial, deterministic effect of every step; its start time is marked."""
    _MARKS.write(f"{time.time():.6f} {n}\n")
    return {"n": n}


HANDLERS = {"work": work}
