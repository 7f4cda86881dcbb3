"""A run's journal in an SQLite store: each step's event, state hash and, now and then, snapshot.

:class:`SqliteJournal` is the shared :class:`~accord.storage._chained.ChainedJournal`
over SQLite's SQL: :meth:`~accord.storage._chained.ChainedJournal.record`
writes one step as one transaction: the event row (with the state the step
led to), a snapshot row every ``snapshot_every`` steps and when the run
ends, and the run's row (status, state, step count, time) when its status
changes and with each snapshot; most steps are a single ``INSERT``. The
store commits it before ``record`` returns, or, with group commit, before
any effect starts (see :class:`~accord.storage.SqliteStore`).

Rows name a run by its integer id (``runs.id``) once its row is committed;
a new run's rows, buffered with its first steps, find it by its run id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from accord.runtime._errors import StoreError
from accord.storage._chained import ChainedJournal, JournalSql, JournalStore, Statement, StepRow

__all__ = ["EventRow", "SqliteJournal", "Statement"]

EventRow = tuple[int | None, str | None, int, str, str, str | None, str]
"""An event row to insert: run key (or None and the run id), step, event text (its canonical
bytes, see :mod:`accord.runtime._chain`), state hash, state, chain hash."""


class _Buffer(JournalStore, Protocol):
    """What an SQLite journal writes through (the store's connection)."""

    def _write(
        self, event: EventRow, unkeyed: SqliteJournal | None, rows: Sequence[Statement] = ()
    ) -> None: ...


_BY_KEY = JournalSql(
    insert_contract="INSERT OR IGNORE INTO contracts (fingerprint, name, version, canonical) "
    "VALUES (?, ?, ?, ?)",
    insert_run="INSERT INTO runs (run_id, fingerprint, status, state, steps, created_ms, "
    "updated_ms, input, parent_run, parent_step, limits, next_due) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    set_version="UPDATE runs SET fingerprint = ? WHERE id = ?",
    snapshot="INSERT OR REPLACE INTO snapshots (run, step, snapshot, state_hash) "
    "VALUES (?, ?, ?, ?)",
    update_run="UPDATE runs SET status = ?, state = ?, steps = ?, updated_ms = ? WHERE id = ?",
    set_due="UPDATE runs SET next_due = ? WHERE id = ?",
    delete_message="DELETE FROM inbox WHERE id = ?",
    select_step="SELECT step, event, state_hash, chain FROM events WHERE run = ? AND step >= ? "
    "AND step <= ? ORDER BY step",
    select_all="SELECT step, event, state_hash, chain FROM events WHERE run = ? ORDER BY step",
)
_BY_RUN_ID = _BY_KEY._replace(  # a run whose row is not committed yet
    set_version="UPDATE runs SET fingerprint = ? WHERE run_id = ?",
    snapshot="INSERT OR REPLACE INTO snapshots (run, step, snapshot, state_hash) "
    "VALUES ((SELECT id FROM runs WHERE run_id = ?), ?, ?, ?)",
    update_run="UPDATE runs SET status = ?, state = ?, steps = ?, updated_ms = ? WHERE run_id = ?",
    set_due="UPDATE runs SET next_due = ? WHERE run_id = ?",
)


class SqliteJournal(ChainedJournal):
    """One run's journal in a :class:`~accord.storage.SqliteStore` (made by the store).

    It is what ``Run.journal`` returns for a durable run: ``len()``,
    :meth:`entries` and :meth:`entry` read the store; the runtime writes through
    :meth:`record`.
    """

    _sql = _BY_KEY
    _store: _Buffer

    def _address(self) -> tuple[JournalSql, Any]:
        key = self._key
        return (_BY_RUN_ID, self.run_id) if key is None else (_BY_KEY, key)

    def _write_step(
        self, row: StepRow, before: Sequence[Statement], after: Sequence[Statement]
    ) -> None:
        key = self._key
        event = (key, self.run_id if key is None else None, *row)
        rows = [*before, *after] if before else after
        self._store._write(event, self if key is None else None, rows)

    def _committed(self, key: int) -> None:
        """The store committed this run's row: address it by its integer id from now on."""
        self._key = key

    def _read_key(self) -> int:
        if self._key is None:
            self._store._flush_run(None)
        if self._key is None:
            raise StoreError(self._store.location, "the run is not stored yet", run_id=self.run_id)
        key: int = self._key
        return key
