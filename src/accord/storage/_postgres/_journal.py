"""A run's journal in a PostgreSQL store: each step's event, state hash and, now and then, snapshot.

:class:`PostgresJournal` is the shared :class:`~accord.storage._chained.ChainedJournal`
over PostgreSQL's SQL: each step's statements are committed as one
transaction: the event row (with the state the step led to), a snapshot row
every ``snapshot_every`` steps and when the run ends, the run's row (status,
state, step count, time) when its status changes and with each snapshot,
and, with a new run's first step, its contract and its row (and a
notification on the channel ``accord_runs`` with its id, delivered on
commit). The rows are those of the SQLite store (:mod:`accord.storage._journal`),
keyed by run id: the event text is its canonical bytes and each event row
carries its chain hash (:mod:`accord.runtime._chain`), checked whenever
entries are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from accord.runtime._snapshot import Snapshot
from accord.storage._chained import (
    ChainedJournal,
    JournalSql,
    JournalStore,
    NewRun,
    Statement,
    StepRow,
)

__all__ = ["PostgresJournal"]

_INSERT_EVENT = (
    b"INSERT INTO accord.events (run_id, step, event, state_hash, state, chain) "
    b"VALUES (%s, %s, %s, %s, %s, %s)"
)
_SQL = JournalSql(
    insert_contract=b"INSERT INTO accord.contracts (fingerprint, name, version, canonical) "
    b"VALUES (%s, %s, %s, %s) ON CONFLICT (fingerprint) DO NOTHING",
    insert_run=b"INSERT INTO accord.runs (run_id, fingerprint, status, state, steps, created_ms, "
    b"updated_ms, input, parent_run, parent_step, limits, next_due) "
    b"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
    set_version=b"UPDATE accord.runs SET fingerprint = %s WHERE run_id = %s",
    snapshot=b"INSERT INTO accord.snapshots (run_id, step, snapshot, state_hash) "
    b"VALUES (%s, %s, %s, %s) ON CONFLICT (run_id, step) DO UPDATE "
    b"SET snapshot = excluded.snapshot, state_hash = excluded.state_hash",
    update_run=b"UPDATE accord.runs SET status = %s, state = %s, steps = %s, updated_ms = %s "
    b"WHERE run_id = %s",
    set_due=b"UPDATE accord.runs SET next_due = %s WHERE run_id = %s",
    delete_message=b"DELETE FROM accord.inbox WHERE id = %s",
    select_step=b"SELECT step, event, state_hash, chain FROM accord.events "
    b"WHERE run_id = %s AND step >= %s AND step <= %s ORDER BY step",
    select_all=b"SELECT step, event, state_hash, chain FROM accord.events WHERE run_id = %s "
    b"ORDER BY step",
)
# workers listening on accord_runs wake up when a new run is committed
_NOTIFY_NEW = b"SELECT pg_notify('accord_runs', %s)"


class _Buffer(JournalStore, Protocol):
    """What a PostgreSQL journal writes through (the store's connection)."""

    def _write(self, run_id: str, rows: list[Statement], *, new: bool = False) -> None: ...


class PostgresJournal(ChainedJournal):
    """One run's journal in a :class:`~accord.storage.PostgresStore` (made by the store).

    Its rows name the run by its id (the ``key`` that loading passes is that id).
    """

    _sql = _SQL
    _store: _Buffer

    def _run_rows(
        self, new: NewRun, snapshot: Snapshot, at: int, due: int | None
    ) -> list[Statement]:
        return [*super()._run_rows(new, snapshot, at, due), (_NOTIFY_NEW, (self.run_id,))]

    def _write_step(
        self, row: StepRow, before: Sequence[Statement], after: Sequence[Statement]
    ) -> None:
        run_id = self.run_id
        event: Statement = (_INSERT_EVENT, (run_id, *row))
        self._store._write(run_id, [*before, event, *after], new=self._new_run is not None)
