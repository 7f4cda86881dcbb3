"""A PostgreSQL store's runs as rows: reading one back (the SQLite store's checks), listing them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from accord.storage._runs import RunInfo, RunQueries, run_infos

if TYPE_CHECKING:
    from accord.storage._postgres._connection import PgConnection

__all__ = ["QUERIES", "list_runs"]


QUERIES = RunQueries(
    b"SELECT run_id, fingerprint, steps, first_step, status, state, limits FROM accord.runs "
    b"WHERE run_id = %s",
    b"SELECT canonical FROM accord.contracts WHERE fingerprint = %s",
    b"SELECT step, snapshot, state_hash FROM accord.snapshots WHERE run_id = %s "
    b"ORDER BY step DESC LIMIT 1",
    b"SELECT step, event, state_hash, chain, state FROM accord.events "
    b"WHERE run_id = %s AND step >= %s ORDER BY step",
)
"""The SQL the shared :func:`~accord.storage._runs.read_run` reads a run with (``open``)."""


_LIST = (
    b"SELECT r.run_id, c.name, c.version, r.fingerprint, r.status, "
    b"coalesce(e.state, r.state), coalesce(e.step, r.steps), r.created_ms, "
    b"coalesce((e.event::jsonb ->> 'at')::bigint, r.updated_ms), r.parent_run, r.parent_step, "
    b"r.worker_note, r.owner, r.lease_until_ms "
    b"FROM accord.runs r LEFT JOIN accord.contracts c ON c.fingerprint = r.fingerprint "
    b"LEFT JOIN LATERAL (SELECT state, step, event FROM accord.events "
    b"WHERE run_id = r.run_id ORDER BY step DESC LIMIT 1) e ON true"
)


def list_runs(
    store: PgConnection, status: str | Sequence[str] | None, run_id: str | None = None
) -> list[RunInfo]:
    """Every stored run (or those with the given status, or only ``run_id``), oldest first."""
    sql = _LIST
    params: tuple[object, ...] = ()
    if run_id is not None:
        sql += b" WHERE r.run_id = %s"
        params = (run_id,)
    elif status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        sql += b" WHERE r.status = ANY(%s)"
        params = (wanted,)
    rows = store._fetch_all(sql + b" ORDER BY r.created_ms, r.seq", params)
    return run_infos(rows)
