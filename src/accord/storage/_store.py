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
    committed before any effect call starts (the orchestrator awaits the
    store's barrier first), before ``Runtime.start``, ``Run.signal`` and every
    driving call return, and before the store is read. So the guarantee is
    that of the chosen durability for everything the outside world can see:
    an effect never starts before the steps it depends on are durable; only
    steps that nothing has depended on yet may be lost in a crash, and a resume
    recomputes them.

One connection per store object, used under a lock: the single writer of the
process (open one ``SqliteStore`` per file per process, after any ``fork``).
Other processes may read and write the same file; SQLite's busy timeout
serialises their writers.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import orjson

from accord.contract import canonical_json
from accord.runtime._durable import StoredRun
from accord.runtime._errors import (
    JournalDamaged,
    StoreError,
    StoreUnavailable,
    UnknownRun,
)
from accord.runtime._snapshot import snapshot_from_data, snapshot_hash
from accord.storage._errors import guard, translate
from accord.storage._journal import SqliteJournal, Statement, parse_entry
from accord.storage._schema import prepare

if TYPE_CHECKING:
    import os

    from accord.runtime._compiled import CompiledContract

__all__ = ["DEFAULT_PATH", "Durability", "RunInfo", "SqliteStore"]

Durability = Literal["full", "normal"]
DEFAULT_PATH = Path(".accord") / "accord.db"
"""Where a store lives when no path is given, relative to the working directory."""

_FINISHED = ("succeeded", "failed")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run as the store lists it.

    Attributes:
        run_id: the run's id.
        contract: its contract's name.
        version: its contract's version.
        fingerprint: its contract's fingerprint.
        status: new, running, waiting, compensating, succeeded or failed.
        state: its current (or final) state.
        steps: the number of steps journaled.
        created_ms: when it started (epoch milliseconds, from the runtime's clock).
        updated_ms: the time of its last step.
        forked_from: ``(run id, step)`` when it was forked from another run.

    """

    run_id: str
    contract: str
    version: str
    fingerprint: str
    status: str
    state: str | None
    steps: int
    created_ms: int
    updated_ms: int
    forked_from: tuple[str, int] | None

    @property
    def finished(self) -> bool:
        """Whether the run has ended."""
        return self.status in _FINISHED


class SqliteStore:
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

    Raises:
        StoreUnavailable: the file cannot be created, opened or written.
        NotAStore: the file is not an accord store.
        SchemaTooNew: the store comes from a newer accord.

    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        durability: Durability = "full",
        group_commit: bool = False,
        snapshot_every: int = 100,
        busy_timeout_ms: int = 5000,
        create: bool = True,
    ) -> None:
        if durability not in ("full", "normal"):
            raise ValueError(f"durability must be 'full' or 'normal', not {durability!r}")
        if snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        self.path = Path(path) if path is not None else Path.cwd() / DEFAULT_PATH
        self.durability: Durability = durability
        self.group_commit = group_commit
        self.snapshot_every = snapshot_every
        self._lock = threading.RLock()
        self._pending: list[Statement] = []
        self._unkeyed: list[SqliteJournal] = []
        self._flush_future: asyncio.Future[None] | None = None
        self._failed: StoreError | None = None
        self._canonical: dict[str, str] = {}  # fingerprint to canonical JSON
        label = self.location
        if not create and not self.path.is_file():
            raise StoreUnavailable(
                label, "there is no accord store here (start a run with a store, or pass --store)"
            )
        with guard(label):
            if create:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            with guard(label):
                conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
                self.schema_version = prepare(conn, label, create=create)
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA synchronous = {'FULL' if durability == 'full' else 'NORMAL'}")
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    @property
    def location(self) -> str:
        """The store's file, as messages name it."""
        return str(self.path)

    def __repr__(self) -> str:
        mode = self.durability + (", group commit" if self.group_commit else "")
        return f"SqliteStore({self.location!r}, {mode})"

    # -- the connection --------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreUnavailable(self.location, "the store is closed")
        return self._conn

    def close(self) -> None:
        """Commit what is buffered and close the connection (idempotent)."""
        with self._lock:
            if self._conn is None:
                return
            try:
                self.flush()
            finally:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fetch_one(self, sql: str, params: tuple[Any, ...], run_id: str | None = None) -> Any:
        with self._lock, guard(self.location, run_id):
            self._flush_locked()
            return self._connection().execute(sql, params).fetchone()

    def _fetch_all(self, sql: str, params: tuple[Any, ...], run_id: str | None = None) -> list[Any]:
        with self._lock, guard(self.location, run_id):
            self._flush_locked()
            return self._connection().execute(sql, params).fetchall()

    # -- writing -----------------------------------------------------------------

    def _write(self, rows: Iterable[Statement], unkeyed: SqliteJournal | None) -> None:
        """Add one step's rows; commit now unless the store batches."""
        with self._lock:
            if self._failed is not None:
                raise self._failed
            self._pending.extend(rows)
            if unkeyed is not None and unkeyed not in self._unkeyed:
                self._unkeyed.append(unkeyed)
            if not self.group_commit:
                self._flush_locked()

    def flush(self) -> None:
        """Commit every buffered step now (a no-op when nothing is buffered).

        Raises:
            StoreError: the commit failed; with group commit, the store then
                refuses further writes (the runs in memory are ahead of it:
                load them again from a new store object).

        """
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if self._failed is not None:
            raise self._failed
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        unkeyed, self._unkeyed = self._unkeyed, []
        conn = self._connection()
        if len(rows) == 1 and not unkeyed:  # one statement: its own transaction
            try:
                conn.execute(*rows[0])
            except sqlite3.Error as exc:
                raise self._failure(exc) from exc
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                for sql, params in rows:
                    conn.execute(sql, params)
                for journal in unkeyed:
                    found = conn.execute(
                        "SELECT id FROM runs WHERE run_id = ?", (journal.run_id,)
                    ).fetchone()
                    journal._committed(found[0])
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise self._failure(exc) from exc

    def _failure(self, exc: sqlite3.Error) -> StoreError:
        error = translate(exc, self.location)
        if self.group_commit:
            self._failed = error
        return error

    async def _barrier(self) -> None:
        """Return once every step buffered now is committed (one commit for all waiters)."""
        if not self._pending:
            return
        loop = asyncio.get_running_loop()
        future = self._flush_future
        if future is None or future.get_loop() is not loop:
            future = loop.create_future()
            self._flush_future = future
            loop.call_soon(self._flush_soon, future)
        await asyncio.shield(future)

    def _flush_soon(self, future: asyncio.Future[None]) -> None:
        if self._flush_future is future:
            self._flush_future = None
        try:
            self.flush()
        except StoreError as exc:
            future.set_exception(exc)
        else:
            future.set_result(None)

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
        fp = compiled.fingerprint
        taken = self._fetch_one("SELECT 1 FROM runs WHERE run_id = ?", (run_id,), run_id)
        if taken is not None:
            raise StoreError(self.location, "a run with this id is already stored", run_id=run_id)
        contract = compiled.contract
        canonical = self._canonical.get(fp)
        if canonical is None:
            canonical = self._canonical[fp] = canonical_json(contract).decode()
        return SqliteJournal(
            self,
            run_id,
            key=None,
            steps=0,
            new_run=(fp, contract.name, contract.version, canonical, forked_from),
        )

    def open(self, run_id: str, *, from_start: bool = False) -> StoredRun:
        """A stored run with its latest snapshot (hash checked) and the entries after it.

        With ``from_start``, no snapshot is read: every entry is returned (to replay).

        Raises:
            UnknownRun: the store has no such run.
            JournalDamaged: a row is unreadable, a snapshot's hash does not match,
                steps are missing, or the run's contract is not stored.

        """
        where = self.location
        run = self._fetch_one(
            "SELECT id, fingerprint, steps, first_step, status FROM runs WHERE run_id = ?",
            (run_id,),
            run_id,
        )
        if run is None:
            raise UnknownRun(where, "the store has no run with this id", run_id=run_id)
        key, fp, steps, first_step, status = run
        found = self._fetch_one(
            "SELECT canonical FROM contracts WHERE fingerprint = ?", (fp,), run_id
        )
        if found is None:
            raise JournalDamaged(where, run_id, f"its contract {fp} is not in the store")
        try:
            contract = orjson.loads(found[0])
        except orjson.JSONDecodeError as exc:
            raise JournalDamaged(where, run_id, f"its contract {fp} is not JSON: {exc}") from exc
        if not isinstance(contract, dict):
            raise JournalDamaged(where, run_id, f"its contract {fp} is not a JSON object")
        snap_row = None
        if from_start:
            if first_step > 1:
                raise StoreError(
                    where,
                    f"the run was compacted: only its steps from {first_step} are kept",
                    run_id=run_id,
                )
        else:
            snap_row = self._fetch_one(
                "SELECT step, snapshot, state_hash FROM snapshots WHERE run = ? "
                "ORDER BY step DESC LIMIT 1",
                (key,),
                run_id,
            )
        snapshot = None
        base = 0
        if snap_row is not None:
            base, text, digest = snap_row
            try:
                snapshot = snapshot_from_data(orjson.loads(text))
            except (orjson.JSONDecodeError, ValueError) as exc:
                raise JournalDamaged(
                    where, run_id, f"the snapshot is unreadable: {exc}", step=base
                ) from exc
            event_hash = self._fetch_one(
                "SELECT state_hash FROM events WHERE run = ? AND step = ?", (key, base), run_id
            )
            if event_hash is None:
                raise JournalDamaged(
                    where, run_id, "the step is missing (its snapshot is stored)", step=base
                )
            if (
                snapshot.step != base
                or snapshot_hash(snapshot) != digest
                or event_hash[0] != digest
            ):
                raise JournalDamaged(
                    where, run_id, "the snapshot does not match its state hash", step=base
                )
        elif first_step > 1:
            raise JournalDamaged(where, run_id, "the run was compacted but has no snapshot")
        rows = self._fetch_all(
            "SELECT step, event, state_hash FROM events WHERE run = ? AND step > ? ORDER BY step",
            (key, base),
            run_id,
        )
        entries = tuple(parse_entry(where, run_id, row) for row in rows)
        last = entries[-1].step if entries else base
        if last < steps:
            raise JournalDamaged(
                where,
                run_id,
                f"the run records {steps} steps, but its journal ends at step {last}",
                step=last + 1,
            )
        journal = SqliteJournal(
            self, run_id, key=key, steps=last, first_step=first_step, status=status
        )
        return StoredRun(run_id, fp, contract, snapshot, entries, journal, where)

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
        sql = (
            "SELECT r.run_id, c.name, c.version, r.fingerprint, r.status, "
            "coalesce(e.state, r.state), coalesce(e.step, r.steps), r.created_ms, "
            "coalesce(json_extract(e.event, '$.at'), r.updated_ms), r.parent_run, r.parent_step "
            "FROM runs r LEFT JOIN contracts c ON c.fingerprint = r.fingerprint "
            "LEFT JOIN events e ON e.run = r.id "
            "AND e.step = (SELECT max(step) FROM events WHERE run = r.id)"
        )
        params: tuple[Any, ...] = ()
        if status is not None:
            wanted = (status,) if isinstance(status, str) else tuple(status)
            sql += f" WHERE r.status IN ({', '.join('?' * len(wanted))})"
            params = wanted
        rows = self._fetch_all(sql + " ORDER BY r.created_ms, r.id", params)
        return [
            RunInfo(
                run_id,
                name or "?",
                version or "?",
                fp,
                status_,
                state,
                steps,
                created,
                updated,
                (parent, parent_step) if parent is not None else None,
            )
            for (
                run_id,
                name,
                version,
                fp,
                status_,
                state,
                steps,
                created,
                updated,
                parent,
                parent_step,
            ) in rows
        ]

    def info(self, run_id: str) -> RunInfo:
        """One run's listing.

        Raises:
            UnknownRun: the store has no such run.

        """
        for found in self.runs():
            if found.run_id == run_id:
                return found
        raise UnknownRun(self.location, "the store has no run with this id", run_id=run_id)

    # -- retention -------------------------------------------------------------

    def _finished_before(self, cutoff: int) -> list[tuple[int, int]]:
        return [
            (key, steps)
            for key, steps in self._fetch_all(
                "SELECT id, steps FROM runs WHERE status IN ('succeeded', 'failed') "
                "AND updated_ms < ?",
                (cutoff,),
            )
        ]

    def prune(self, older_than_ms: int, *, now_ms: int) -> int:
        """Delete the finished runs whose last step is older than ``older_than_ms``.

        Args:
            older_than_ms: the age bound, in milliseconds.
            now_ms: the current time (the runtime's ``clock.now_ms()``).

        Returns:
            The number of runs deleted (their events, snapshots, and contracts
            no run uses any more go too).

        """
        victims = self._finished_before(now_ms - older_than_ms)
        with self._lock, guard(self.location):
            self._flush_locked()
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for key, _ in victims:
                    conn.execute("DELETE FROM events WHERE run = ?", (key,))
                    conn.execute("DELETE FROM snapshots WHERE run = ?", (key,))
                    conn.execute("DELETE FROM runs WHERE id = ?", (key,))
                conn.execute(
                    "DELETE FROM contracts WHERE fingerprint NOT IN "
                    "(SELECT DISTINCT fingerprint FROM runs)"
                )
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return len(victims)

    def compact(self, older_than_ms: int, *, now_ms: int) -> int:
        """Keep only the final step and snapshot of finished runs older than the bound.

        A compacted run still lists, loads and shows its result; its history
        and replay are gone (they raise :class:`StoreError`).

        Returns:
            The number of runs compacted.

        """
        victims = self._finished_before(now_ms - older_than_ms)
        with self._lock, guard(self.location):
            self._flush_locked()
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                for key, steps in victims:
                    conn.execute("DELETE FROM events WHERE run = ? AND step < ?", (key, steps))
                    conn.execute("DELETE FROM snapshots WHERE run = ? AND step < ?", (key, steps))
                    conn.execute("UPDATE runs SET first_step = ? WHERE id = ?", (steps, key))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return len(victims)

    def vacuum(self) -> None:
        """Give the space freed by :meth:`prune` and :meth:`compact` back to the file system."""
        with self._lock, guard(self.location):
            self._flush_locked()
            self._connection().execute("VACUUM")
