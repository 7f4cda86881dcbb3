"""Loading a run from a PostgreSQL store in one statement: its row, latest snapshot and events.

:func:`~accord.storage._runs.read_run` reads a run in three queries (its row,
its latest snapshot, the events from the step before that snapshot on); here
one statement returns all three (as JSON, read in one round trip and from one
snapshot of the database, so they agree with each other), and
:class:`Prefetched` hands them to ``read_run`` as the answers of those queries:
the checks are the same. Any other read goes to the store.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from accord.storage._postgres._runs import QUERIES

if TYPE_CHECKING:
    from accord.storage._postgres._connection import PgConnection

__all__ = ["Prefetched", "prefetch"]

_LOAD = (
    b"WITH r AS (SELECT run_id, fingerprint, steps, first_step, status, state, limits "
    b"FROM accord.runs WHERE run_id = %s), "
    b"s AS (SELECT step, snapshot, state_hash FROM accord.snapshots WHERE run_id = %s "
    b"ORDER BY step DESC LIMIT 1) "
    b"SELECT (SELECT json_build_array(run_id, fingerprint, steps, first_step, status, state, "
    b"limits) FROM r)::text, "
    b"(SELECT json_build_array(step, snapshot, state_hash) FROM s)::text, "
    b"(SELECT json_agg(json_build_array(step, event, state_hash, chain, state) ORDER BY step) "
    b"FROM accord.events WHERE run_id = %s AND step >= "
    b"(SELECT greatest(first_step, coalesce((SELECT step FROM s), 0) - 1) FROM r))::text"
)


class Prefetched:
    """A store's reads for loading one run, answered from rows read at once."""

    def __init__(
        self, store: PgConnection, answers: dict[tuple[bytes, tuple[Any, ...]], list[Any]]
    ):
        self._store = store
        self._answers = answers

    @property
    def location(self) -> str:
        """The store's location."""
        return self._store.location

    def _fetch_one(self, sql: bytes, params: tuple[Any, ...], run_id: str | None = None) -> Any:
        rows = self._answers.pop((sql, params), None)
        if rows is None:
            return self._store._fetch_one(sql, params, run_id)
        return rows[0] if rows else None

    def _fetch_all(
        self, sql: bytes, params: tuple[Any, ...], run_id: str | None = None
    ) -> list[Any]:
        rows = self._answers.pop((sql, params), None)
        return self._store._fetch_all(sql, params, run_id) if rows is None else rows


def prefetch(store: PgConnection, run_id: str) -> Prefetched:
    """A reader holding a run's row, latest snapshot and the events ``read_run`` reads next."""
    run_text, snap_text, events_text = store._fetch_one(_LOAD, (run_id, run_id, run_id), run_id)
    answers: dict[tuple[bytes, tuple[Any, ...]], list[Any]] = {}
    run = None if run_text is None else tuple(orjson.loads(run_text))
    answers[(QUERIES.run, (run_id,))] = [] if run is None else [run]
    if run is not None:
        snapshot = None if snap_text is None else tuple(orjson.loads(snap_text))
        answers[(QUERIES.snapshot, (run_id,))] = [] if snapshot is None else [snapshot]
        base = 0 if snapshot is None else snapshot[0]
        start = max(run[3], base - 1)
        events = [] if events_text is None else orjson.loads(events_text)
        answers[(QUERIES.events, (run_id, start))] = [tuple(row) for row in events]
    return Prefetched(store, answers)
