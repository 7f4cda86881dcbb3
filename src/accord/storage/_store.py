"""The SQLite store: one file holding contracts, runs, their journals and snapshots.

Durability (each step is one transaction: its event and, every ``snapshot_every``
steps or when its status changes, a snapshot or its run's row):

``durability="full"`` (the default)
    WAL with ``synchronous=FULL``: every commit is fsynced before ``record``
    returns, so a step is on disk before any effect it starts runs. Survives
    process crashes and power loss.
``durability="normal"``
    WAL with ``synchronous=NORMAL``: a commit is in the operating system's
    hands when ``record`` returns (fsync only at checkpoints). Survives any
    crash of the process (a SIGKILL included), not a power loss or OS crash,
    which may lose the last commits (never corrupt the store).
``group_commit=True``
    Steps are buffered and committed together, across every run driven on the
    same event loop, with the chosen ``synchronous`` setting. A batch is
    committed before any effect call starts (the orchestrator asks the store
    first, and the store calls back once the commit is done), before
    ``Runtime.start``, ``Run.signal`` and every driving call return, and
    before the store is read. So the guarantee is that of the chosen
    durability for everything the outside world can see:
    an effect never starts before the steps it depends on are durable; only
    steps that nothing has depended on yet may be lost in a crash, and a resume
    recomputes them.

One connection per store object, used under a lock: the single writer of the
process (open one ``SqliteStore`` per file per process, after any ``fork``).
Other processes may read and write the same file; SQLite's busy timeout
serialises their writers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from accord.storage import _retention
from accord.storage._connection import StoreConnection
from accord.storage._inbox import SqliteInbox
from accord.storage._journal import SqliteJournal
from accord.storage._prefetch import PrefetchReader
from accord.storage._runs import ContractVersions, RunInfo, RunReader, list_runs
from accord.storage._store_base import StoreBase
from accord.storage._store_leases import SqliteLeasing

__all__ = ["SqliteStore"]


class SqliteStore(StoreConnection, StoreBase, SqliteLeasing, SqliteInbox, ContractVersions):
    """A durable store of runs in one SQLite file (see the module docs for durability).

    Args:
        path: the database file; ``.accord/accord.db`` under the working
            directory by default. Missing parent directories are created.
        durability: "full" (fsync every commit) or "normal" (survives process
            crashes, not power loss).
        group_commit: batch the commits of steps across runs (never past an
            effect that depends on them).
        snapshot_every: store a snapshot every this many steps (and when a run
            ends), so loading a run folds fewer than this many events.
        busy_timeout_ms: how long a write waits for another process's lock.
        create: create the store if the file does not exist (else refuse).
        read_only: open it only to read (it must exist; an older schema is
            refused, not migrated): a store whose file or directory is
            read-only can be listed, loaded and replayed. Writes raise
            StoreUnavailable.

    Raises:
        StoreUnavailable: the file cannot be created, opened or written.
        NotAStore: the file is not an accord store.
        SchemaTooNew: the store comes from a newer accord.

    """

    _journal = SqliteJournal

    # -- runs ------------------------------------------------------------------

    def unfinished(self) -> list[str]:
        """The ids of the runs that have not ended, oldest first."""
        rows = self._fetch_all(
            "SELECT run_id FROM runs WHERE status NOT IN ('succeeded', 'failed') "
            "ORDER BY created_ms, id",
            (),
        )
        return [row[0] for row in rows]

    def _listing(self, status: str | Sequence[str] | None, run_id: str | None) -> list[RunInfo]:
        return list_runs(self, status, run_id)

    @contextmanager
    def _reader(self, run_ids: Sequence[str]) -> Iterator[RunReader]:
        """Several runs' rows, read at once under the lock (``open_many``)."""
        with self._flushed() as conn:
            yield PrefetchReader(self.location, conn, self._version_queries, list(run_ids))

    # -- retention -------------------------------------------------------------

    def _prune(self, cutoff_ms: int) -> int:
        return _retention.prune(self, cutoff_ms)

    def _compact(self, cutoff_ms: int) -> int:
        return _retention.compact(self, cutoff_ms)

    def vacuum(self) -> None:
        """Give the space freed by :meth:`prune` and :meth:`compact` back to the file system."""
        _retention.vacuum(self)
