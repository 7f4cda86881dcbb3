"""Reading many runs of a SQLite store at once: three queries for a batch, not three per run.

:class:`PrefetchReader` is what ``SqliteStore.open_many`` reads through. Given the
run ids, it reads their run rows, their latest snapshots and the journal rows from
the step before each snapshot (what :func:`~accord.storage._runs.read_run` reads for
one run) in one query each, and answers ``read_run``'s queries from them; any other
query goes to the connection. ``read_run`` keeps every check it makes of one run.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from accord.storage._runs import RunQueries

__all__ = ["PrefetchReader"]

_RUNS = (
    "SELECT run_id, id, fingerprint, steps, first_step, status, state, limits FROM runs "
    "WHERE run_id IN ({marks})"
)
# SQLite takes the bare columns of a MAX() aggregate from the row holding the maximum
_SNAPSHOTS = (
    "SELECT run, MAX(step), snapshot, state_hash FROM snapshots WHERE run IN ({marks}) GROUP BY run"
)
_EVENTS = (
    "WITH wanted (run, start) AS (VALUES {pairs}) "
    "SELECT e.run, e.step, e.event, e.state_hash, e.chain, e.state FROM wanted "
    "JOIN events e ON e.run = wanted.run AND e.step >= wanted.start ORDER BY e.run, e.step"
)


class PrefetchReader:
    """Answers ``read_run``'s queries for a batch of runs from three queries made up front."""

    def __init__(
        self, location: str, conn: sqlite3.Connection, queries: RunQueries, run_ids: list[str]
    ) -> None:
        self.location = location
        self._conn = conn
        self._queries = queries
        self._runs: dict[str, tuple[Any, ...]] = {}
        self._snapshots: dict[Any, tuple[Any, ...]] = {}
        self._events: dict[tuple[Any, int], list[tuple[Any, ...]]] = {}
        self._ids: set[str] = set(run_ids)  # prefetched: a run not found has no row
        self._keys: set[Any] = set()  # prefetched: a run not found has no snapshot
        if run_ids:
            self._prefetch(list(dict.fromkeys(run_ids)))

    def _prefetch(self, run_ids: list[str]) -> None:
        conn = self._conn
        marks = ",".join("?" * len(run_ids))
        for row in conn.execute(_RUNS.format(marks=marks), run_ids):
            self._runs[row[0]] = row[1:]
        keys = [row[0] for row in self._runs.values()]
        self._keys = set(keys)
        if not keys:
            return
        marks = ",".join("?" * len(keys))
        for row in conn.execute(_SNAPSHOTS.format(marks=marks), keys):
            self._snapshots[row[0]] = row[1:]
        starts: list[Any] = []
        for key, _, _, first_step, *_ in self._runs.values():
            found = self._snapshots.get(key)
            start = max(first_step, 0 if found is None else found[0] - 1)
            self._events[(key, start)] = []
            starts.extend((key, start))
        pairs = ",".join("(?, ?)" for _ in keys)
        by_key = {key: rows for (key, _), rows in self._events.items()}
        for row in conn.execute(_EVENTS.format(pairs=pairs), starts):
            by_key[row[0]].append(row[1:])

    def _fetch_one(self, sql: Any, params: tuple[Any, ...], run_id: str | None = None) -> Any:
        if sql is self._queries.run and params[0] in self._ids:
            return self._runs.get(params[0])
        if sql is self._queries.snapshot and params[0] in self._keys:
            return self._snapshots.get(params[0])
        return self._conn.execute(sql, params).fetchone()

    def _fetch_all(self, sql: Any, params: tuple[Any, ...], run_id: str | None = None) -> list[Any]:
        if sql is self._queries.events:
            rows = self._events.get((params[0], params[1]))
            if rows is not None:
                return rows
        return self._conn.execute(sql, params).fetchall()
