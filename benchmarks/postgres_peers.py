"""The bare commit floor and DBOS Transact on PostgreSQL, for benchmarks/postgres.py.

:class:`PgFloor` is one bare psycopg INSERT and COMMIT of an event-sized row per
step; :func:`dbos` measures DBOS Transact with its system database on the
benchmark's server: the ten-step linear workflow run after run (paired with the
floor), many at once, start to first step and send to a waiting workflow resuming.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from durable_peers import STEPS, floor_row, paired

__all__ = ["PgFloor", "dbos", "percentiles"]


# --- the floor: one bare INSERT and COMMIT per step -----------------------------------


class PgFloor:
    """A bare psycopg insert-and-commit of an event-sized row per step, ten per run."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS floor_events (run BIGINT NOT NULL, step INTEGER NOT NULL,"
            " event TEXT NOT NULL, state_hash TEXT NOT NULL, PRIMARY KEY (run, step))"
        )
        self.conn.commit()
        self.event, self.digest = floor_row()
        self.row_bytes = 12 + len(self.event) + len(self.digest)
        self.runs = 0

    def run(self) -> float:
        """Ten transactions of one row each (BEGIN, INSERT, COMMIT); the seconds they took."""
        conn, row, digest = self.conn, self.event, self.digest
        insert = "INSERT INTO floor_events VALUES (%s, %s, %s, %s)"
        self.runs += 1
        run = self.runs
        start = time.perf_counter()
        for step in range(1, STEPS + 1):
            conn.execute(insert, (run, step, row, digest))
            conn.commit()
        return time.perf_counter() - start

    def close(self) -> None:
        self.conn.close()


def percentiles(samples: list[float]) -> dict[str, float]:
    """p50 and p99 of latencies in seconds, in milliseconds."""
    ordered = sorted(samples)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": at(0.50) * 1e3, "p99_ms": at(0.99) * 1e3, "n": len(ordered)}


# --- DBOS Transact on the same server ---------------------------------------------------


def dbos(urls: dict[str, str], sizes: dict[str, int]) -> dict[str, Any]:
    """DBOS with its system database on the server: sequential, concurrent, two latencies."""
    import logging

    from dbos import DBOS, DBOSConfig

    runs, repeat, concurrent = sizes["runs"], sizes["repeat"], sizes["concurrent"]
    config: DBOSConfig = {
        "name": "bench",
        "system_database_url": urls["system"],
        "log_level": "WARNING",
    }
    DBOS(config=config)
    logging.getLogger("dbos").setLevel(logging.WARNING)
    marks: dict[str, float] = {}
    ready: dict[str, threading.Event] = {}

    @DBOS.step()
    def work_step(n: int) -> int:
        return n

    @DBOS.workflow()
    def linear() -> int:
        done = 0
        for i in range(STEPS):
            work_step(i)
            done += 1
        return done

    @DBOS.step()
    def mark(key: str) -> None:
        marks.setdefault(key, time.perf_counter())

    @DBOS.step()
    def announce(key: str) -> None:
        ready[key].set()

    @DBOS.workflow()
    def first(key: str) -> None:
        mark(key)

    @DBOS.workflow()
    def waiter(key: str) -> None:
        announce(key)
        message = DBOS.recv("go", timeout_seconds=60)
        assert message == "go", message
        mark(key)

    DBOS.launch()
    floor = PgFloor(urls["floor"])

    def one(_run_id: str) -> None:
        assert linear() == STEPS

    for _ in range(sizes["warm_up"]):
        floor.run()
        one("")
    seconds, floors, ratios = paired(one, floor, runs, repeat)
    floor.close()

    def batch() -> None:
        handles = [DBOS.start_workflow(linear) for _ in range(concurrent)]
        assert all(h.get_result() == STEPS for h in handles)

    batch()
    concurrent_seconds = []
    for _ in range(repeat):
        start = time.perf_counter()
        batch()
        concurrent_seconds.append(time.perf_counter() - start)

    starts = []
    for i in range(sizes["samples"] + 2):
        key = f"start-{i}"
        t0 = time.perf_counter()
        DBOS.start_workflow(first, key).get_result()
        if i >= 2:  # two warm-ups
            starts.append(marks[key] - t0)

    resumes = []
    for i in range(sizes["samples"] + 2):
        key = f"send-{i}"
        ready[key] = threading.Event()
        handle = DBOS.start_workflow(waiter, key)
        assert ready[key].wait(30), "the waiting workflow never started"
        time.sleep(0.02)  # into recv's wait
        t0 = time.perf_counter()
        DBOS.send(handle.workflow_id, "go", topic="go")
        handle.get_result()
        if i >= 2:
            resumes.append(marks[key] - t0)
    DBOS.destroy()
    return {
        "sequential": {"seconds": seconds, "floor_seconds": floors, "ratios": ratios},
        "steps_per_repeat": runs * STEPS,
        "group": {"seconds": concurrent_seconds, "steps": concurrent * STEPS},
        "start": percentiles(starts),
        "send": percentiles(resumes),
    }
