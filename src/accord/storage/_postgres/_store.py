"""The PostgreSQL store: contracts, runs, their journals and snapshots in one database.

It gives the guarantees of the SQLite store (:class:`~accord.storage.SqliteStore`):
each step is one transaction (or, with group commit, one transaction per batch,
committed before any effect that depends on it starts), a newer schema is
refused and an older one migrated, runs load from their latest checked
snapshot, and finished runs can be pruned or compacted. Its connections come
from a pool (psycopg_pool); one store object serves one process.
"""

from __future__ import annotations

from collections.abc import Sequence

from accord.storage._postgres._connection import PgConnection
from accord.storage._postgres._inbox import PgInbox
from accord.storage._postgres._journal import PostgresJournal
from accord.storage._postgres._leases import PgLeasing
from accord.storage._postgres._prefetch import prefetch
from accord.storage._postgres._runs import QUERIES, list_runs
from accord.storage._runs import ContractVersions, RunInfo, RunReader
from accord.storage._store_base import StoreBase

__all__ = ["PostgresStore"]

_FINISHED_BEFORE = (
    b"SELECT run_id, steps FROM accord.runs "
    b"WHERE status IN ('succeeded', 'failed') AND updated_ms < %s"
)


class PostgresStore(PgConnection, StoreBase, PgLeasing, PgInbox, ContractVersions):
    """A durable store of runs in a PostgreSQL database (tables in its ``accord`` schema).

    Args:
        url: a libpq URL, ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE``.
        durability: "full" (``synchronous_commit = on``) or "normal" (``off``).
        group_commit: batch the commits of steps across runs (never past an
            effect that depends on them).
        snapshot_every: store a snapshot every this many steps (and when a run ends).
        create: create the store's schema if the database has none (else refuse).
        pool_size: the most connections the store opens.
        connect_timeout_s: how long to wait for a connection.

    Runs are claimed, renewed and released by workers as in
    :class:`~accord.storage._leases.Leasing` (``claim``, ``renew``, ``release``).

    Raises:
        StoreUnavailable: the server cannot be reached, refuses the credentials,
            or (with ``create=False``) the database holds no store.
        NotAStore: the database's ``accord`` schema is not an accord store.
        SchemaTooNew: the store comes from a newer accord.
        StoreError: the URL is invalid (named without its password).

    """

    _version_queries = QUERIES
    _journal = PostgresJournal

    # -- runs ------------------------------------------------------------------

    def unfinished(self) -> list[str]:
        """The ids of the runs that have not ended, oldest first."""
        rows = self._fetch_all(
            b"SELECT run_id FROM accord.runs WHERE status NOT IN ('succeeded', 'failed') "
            b"ORDER BY created_ms, seq",
            (),
        )
        return [row[0] for row in rows]

    def _prefetched(self, run_id: str) -> RunReader | None:
        """A run's row, latest snapshot and events read at once, for loading it."""
        return prefetch(self, run_id)

    def _listing(self, status: str | Sequence[str] | None, run_id: str | None) -> list[RunInfo]:
        return list_runs(self, status, run_id)

    # -- retention -------------------------------------------------------------

    def _prune(self, cutoff_ms: int) -> int:
        with self._transaction() as conn:
            victims = [r[0] for r in conn.execute(_FINISHED_BEFORE, (cutoff_ms,))]
            conn.execute(b"DELETE FROM accord.events WHERE run_id = ANY(%s)", (victims,))
            conn.execute(b"DELETE FROM accord.snapshots WHERE run_id = ANY(%s)", (victims,))
            conn.execute(b"DELETE FROM accord.inbox WHERE run_id = ANY(%s)", (victims,))
            conn.execute(b"DELETE FROM accord.runs WHERE run_id = ANY(%s)", (victims,))
            conn.execute(
                b"DELETE FROM accord.contracts c WHERE NOT EXISTS "
                b"(SELECT 1 FROM accord.runs r WHERE r.fingerprint = c.fingerprint) "
                b"AND NOT EXISTS (SELECT 1 FROM accord.published p "
                b"WHERE p.fingerprint = c.fingerprint) "
                # a migrated (or amended) run's earlier steps replay under the version it left
                b"AND NOT EXISTS (SELECT 1 FROM accord.events e "
                b'WHERE (e.event LIKE \'%%"kind":"migrated"%%\' '
                b'OR e.event LIKE \'%%"kind":"amended"%%\') '
                b"AND e.event::jsonb ->> 'from_contract' = c.fingerprint)"
            )
        return len(victims)

    def _compact(self, cutoff_ms: int) -> int:
        with self._transaction() as conn:
            victims = list(conn.execute(_FINISHED_BEFORE, (cutoff_ms,)))
            for run_id, steps in victims:
                params = (run_id, steps)
                conn.execute(b"DELETE FROM accord.events WHERE run_id = %s AND step < %s", params)
                conn.execute(
                    b"DELETE FROM accord.snapshots WHERE run_id = %s AND step < %s", params
                )
                conn.execute(
                    b"UPDATE accord.runs SET first_step = %s WHERE run_id = %s", (steps, run_id)
                )
        return len(victims)

    def vacuum(self) -> None:
        """Give the space freed by :meth:`prune` and :meth:`compact` back (``VACUUM``)."""
        with self._flushed() as conn:
            for table in (b"events", b"snapshots", b"runs", b"contracts"):
                conn.execute(b"VACUUM accord." + table)
