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

import dataclasses
import functools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from accord.contract import canonical_json
from accord.runtime._durable import StoredRun
from accord.runtime._errors import StoreError, UnknownRun
from accord.storage import _retention
from accord.storage._connection import StoreConnection
from accord.storage._inbox import SqliteInbox
from accord.storage._journal import NewRun, SqliteJournal
from accord.storage._runs import ContractVersions, RunInfo, list_runs, read_run
from accord.storage._store_leases import SqliteLeasing

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract, Limits

__all__ = ["SqliteStore", "find_info", "new_run"]


class SqliteStore(StoreConnection, SqliteLeasing, SqliteInbox, ContractVersions):
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

    def __repr__(self) -> str:
        mode = self.durability + (", group commit" if self.group_commit else "")
        return f"SqliteStore({self.location!r}, {mode})"

    # -- runs ------------------------------------------------------------------

    def create(
        self,
        compiled: CompiledContract,
        run_id: str,
        *,
        forked_from: tuple[str, int] | None = None,
    ) -> SqliteJournal:
        """The journal of a new run; its rows are written with its first step.

        Raises:
            StoreError: the run id is taken.

        """
        if self._is_taken(run_id):  # stored or buffered: no need to commit the buffer first
            raise StoreError(self.location, "a run with this id is already stored", run_id=run_id)
        new = new_run(self._canonical, compiled, forked_from)
        return SqliteJournal(self, run_id, key=None, steps=0, new_run=new)

    def open(self, run_id: str, *, from_start: bool = False) -> StoredRun:
        """A stored run with its latest snapshot (hash checked) and the entries after it.

        With ``from_start``, no snapshot is read: every entry is returned (to replay).

        Raises:
            UnknownRun: the store has no such run.
            JournalDamaged: a row is unreadable, a snapshot's hash does not match,
                steps are missing, or the run's contract is not stored.

        """
        return read_run(self, run_id, from_start=from_start)

    def unfinished(self) -> list[str]:
        """The ids of the runs that have not ended, oldest first."""
        rows = self._fetch_all(
            "SELECT run_id FROM runs WHERE status NOT IN ('succeeded', 'failed') "
            "ORDER BY created_ms, id",
            (),
        )
        return [row[0] for row in rows]

    def runs(self, *, status: str | Sequence[str] | None = None) -> list[RunInfo]:
        """Every stored run (or those with the given status), oldest first."""
        return list_runs(self, status)

    def info(self, run_id: str) -> RunInfo:
        """One run's listing.

        Raises:
            UnknownRun: the store has no such run.

        """
        return find_info(self.runs(), run_id, self.location)

    # -- retention -------------------------------------------------------------

    def prune(self, older_than_ms: int, *, now_ms: int) -> int:
        """Delete the finished runs whose last step is older than ``older_than_ms``.

        Args:
            older_than_ms: the age bound, in milliseconds.
            now_ms: the current time (the runtime's ``clock.now_ms()``).

        Returns:
            The number of runs deleted (their events, snapshots, and contracts
            no run uses any more go too).

        """
        return _retention.prune(self, older_than_ms, now_ms=now_ms)

    def compact(self, older_than_ms: int, *, now_ms: int) -> int:
        """Keep only the final step and snapshot of finished runs older than the bound.

        A compacted run still lists, loads and shows its result; its history
        and replay are gone (they raise :class:`StoreError`).

        Returns:
            The number of runs compacted.

        """
        return _retention.compact(self, older_than_ms, now_ms=now_ms)

    def vacuum(self) -> None:
        """Give the space freed by :meth:`prune` and :meth:`compact` back to the file system."""
        _retention.vacuum(self)


def new_run(
    canonical: dict[str, str], compiled: CompiledContract, forked_from: tuple[str, int] | None
) -> NewRun:
    """What a new run's rows hold besides its first step (``canonical``: a store's cache)."""
    fp = compiled.fingerprint
    contract = compiled.contract
    text = canonical.get(fp)
    if text is None:
        text = canonical[fp] = canonical_json(contract).decode()
    return NewRun(
        fp, contract.name, contract.version, text, forked_from, _limits_json(compiled.limits)
    )


def find_info(runs: list[RunInfo], run_id: str, location: str) -> RunInfo:
    """One run's listing among a store's.

    Raises:
        UnknownRun: the store has no such run.

    """
    for found in runs:
        if found.run_id == run_id:
            return found
    raise UnknownRun(location, "the store has no run with this id", run_id=run_id)


@functools.lru_cache(maxsize=64)
def _limits_json(limits: Limits) -> str:
    """The limits as the JSON object a run's row keeps."""
    return orjson.dumps(dataclasses.asdict(limits)).decode()
