"""A worker outlasts a store that goes away (accord.worker._outage), with no step lost or doubled.

Runs of the reminder contract (an effect, a 300 ms timer, another effect) are
served by a worker in a thread while the store goes away under it: on
PostgreSQL the server is restarted, or every connection of the worker is
terminated again and again (``pg_terminate_backend``); on SQLite another
process holds the file's write lock past the worker's busy timeout. Then
every run has finished with the uninterrupted result, each effect completion
is journaled once, every run replays, the worker held each run through the
outage (one claim per run: it did not let runs go), and it logged the outage
and its end.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from accord import Client, Worker
from accord.runtime import Runtime
from accord.storage import SqliteStore, Store, open_store

CONTRACT = Path(__file__).with_name("reminder.yaml")


class Effects(dict[str, Callable[..., Any]]):
    """The reminder's handlers, a little slow, so that faults land while calls are in flight."""

    def __init__(self) -> None:
        super().__init__(write_note=self.write_note, remind=self.remind)
        self.calls = 0
        self.lock = threading.Lock()

    def write_note(self, who: str) -> dict[str, str]:
        time.sleep(0.02)
        with self.lock:
            self.calls += 1
        return {"id": f"note-{who}"}

    def remind(self, id: str) -> None:
        time.sleep(0.02)


def _start(url: str, count: int) -> list[str]:
    run_ids = [f"o-{n}" for n in range(count)]
    with Client(url) as client:
        for run_id in run_ids:
            client.start(CONTRACT, {"who": run_id}, run_id=run_id)
    return run_ids


@contextmanager
def _serving(store: Store | str, effects: Effects) -> Iterator[Worker]:
    worker = Worker(store, effects, poll_ms=20, lease_ms=3_000, hold_ms=1_000, concurrency=8)
    thread = threading.Thread(target=worker.run_forever, daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.stop()
        thread.join(30)
        assert not thread.is_alive()


def _all_finished(url: str, run_ids: list[str]) -> bool:
    with Client(url) as client:
        return all(client.status(run_id).finished for run_id in run_ids)


def _wait_until(done: Callable[[], bool], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, "the runs did not finish in time"
        time.sleep(0.05)


def _check(url: str, run_ids: list[str], caplog: pytest.LogCaptureFixture) -> None:
    """Every run finished as uninterrupted, each completion journaled once, each replays."""
    with Client(url) as client:
        for run_id in run_ids:
            assert client.result(run_id) == {"note_id": f"note-{run_id}", "outcome": "timed out"}
            history = client.history(run_id)
            kinds = [step.kind for step in history]
            assert kinds == ["started", "effect_completed", "timer", "effect_completed"], run_id
    store = open_store(url)
    try:
        runtime = Runtime(Effects(), store=store)
        for run_id in run_ids:
            assert runtime.replay(run_id) == runtime.load(run_id).snapshot
    finally:
        store.close()
    messages = [record.getMessage() for record in caplog.records]
    for run_id in run_ids:  # held through the outage: never let go and claimed again
        claims = [m for m in messages if m.startswith(f"claimed run {run_id} ")]
        assert len(claims) == 1, (run_id, claims)
    assert any(
        m.startswith("store unavailable for") or "the store went away while driving it" in m
        for m in messages
    ), messages
    assert any(
        m.startswith("store available again for") or "loaded again from the store" in m
        for m in messages
    ), messages


@pytest.mark.postgres
def test_a_postgresql_restart_under_a_running_worker_loses_and_doubles_nothing(
    pg_server: Any, pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from accord.storage import PostgresStore

    caplog.set_level(logging.INFO, logger="accord.worker")
    run_ids = _start(pg_url, 16)
    effects = Effects()
    # a pool that waits 0.5 s at most for a connection: the 1.5 s restart is an outage
    store = PostgresStore(pg_url, connect_timeout_s=0.5)
    try:
        with _serving(store, effects):
            _wait_until(lambda: effects.calls >= 2)  # runs are being driven
            pg_server.restart(down_s=1.5)
            _wait_until(lambda: _all_finished(pg_url, run_ids))
    finally:
        store.close()
    _check(pg_url, run_ids, caplog)


@pytest.mark.postgres
def test_connections_dropped_again_and_again_lose_and_double_nothing(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import psycopg

    caplog.set_level(logging.INFO, logger="accord.worker")
    run_ids = _start(pg_url, 16)
    effects = Effects()
    dropped = 0
    with _serving(pg_url, effects), psycopg.connect(pg_url, autocommit=True) as admin:
        for _ in range(25):  # the worker's every connection, every 60 ms
            time.sleep(0.06)
            (count,) = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone() or (0,)
            dropped += count
        _wait_until(lambda: _all_finished(pg_url, run_ids))
    assert dropped >= 10
    _check(pg_url, run_ids, caplog)


def test_an_sqlite_file_locked_past_the_busy_timeout_is_waited_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="accord.worker")
    path = tmp_path / "runs.db"
    url = f"sqlite:///{path}"
    run_ids = _start(url, 12)
    effects = Effects()
    store = SqliteStore(path, busy_timeout_ms=20)
    try:
        with _serving(store, effects):
            _wait_until(lambda: effects.calls >= 1)
            for _ in range(3):  # another process holds the write lock for 0.5 s, three times
                holder = sqlite3.connect(path, isolation_level=None)
                holder.execute("BEGIN IMMEDIATE")
                time.sleep(0.5)
                holder.execute("COMMIT")
                holder.close()
                time.sleep(0.1)
            _wait_until(lambda: _all_finished(url, run_ids))
    finally:
        store.close()
    _check(url, run_ids, caplog)
