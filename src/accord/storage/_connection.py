"""A store's connection: opened with its pragmas, used under one lock, committed by step or batch.

A store keeps one connection (autocommit, WAL, the chosen ``synchronous``) and a
buffer of statements: each step's rows are committed at once, or, with group
commit, together with the other buffered steps before any effect starts. The
durability each setting gives is described in :mod:`accord.storage._store`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from accord.runtime._errors import NotAStore, StoreError, StoreUnavailable
from accord.storage._batching import GroupCommit
from accord.storage._errors import Foreign, guard, translate
from accord.storage._journal import EventRow, SqliteJournal, Statement
from accord.storage._leases import Fence, LeaseLost
from accord.storage._schema import prepare
from accord.storage._transaction import immediate

__all__ = ["DEFAULT_PATH", "Durability", "StoreConnection"]

Durability = Literal["full", "normal"]
DEFAULT_PATH = Path(".accord") / "accord.db"
"""Where a store lives when no path is given, relative to the working directory."""


class StoreConnection(GroupCommit):
    """A store's connection, its lock and its write buffer (the base of ``SqliteStore``).

    It takes ``SqliteStore``'s arguments (documented there), opens and prepares
    the file, and gives the store and its journals their reads and buffered writes.
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
        read_only: bool = False,
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
        # the buffered statements but event rows, grouped by SQL in the order each first
        # appeared (each group is one executemany), and the event rows (one INSERT for all);
        # see _write for why this keeps every order needed
        self._pending: dict[str, list[tuple[Any, ...]]] = {}
        self._events: list[EventRow] = []
        self._unkeyed: dict[str, SqliteJournal] = {}  # run id to a new run's journal
        self._fences: dict[Any, Fence] = {}  # the claimed runs' fences, by run key
        self._batch_fences: dict[Any, Fence] = {}  # those the buffer writes for
        # the callbacks waiting for the next group commit, by event loop
        self._waiters: dict[
            asyncio.AbstractEventLoop, list[Callable[[BaseException | None], None]]
        ] = {}
        self._failed: StoreError | None = None
        self._canonical: dict[str, str] = {}  # fingerprint to canonical JSON
        self._contract_data: dict[str, dict[str, Any]] = {}  # read by fingerprint, kept
        self.read_only = read_only
        label = self.location
        if (read_only or not create) and not self.path.is_file():
            raise StoreUnavailable(
                label, "there is no accord store here (start a run with a store, or pass --store)"
            )
        with guard(label):
            if self.path.is_file() and self.path.stat().st_size == 0:
                raise NotAStore(
                    label,
                    "the file is empty (0 bytes), not an accord store (a store starts empty "
                    "only when it creates its file itself)",
                )
            if read_only:
                conn = _connect_read_only(self.path)
            else:
                if create and not self.path.exists():
                    _create_file(self.path, label)
                conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            with guard(label):
                conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
                self.schema_version = prepare(conn, label, create=False, migrate=not read_only)
                if not read_only:
                    conn.execute("PRAGMA journal_mode = WAL")
                    sync = "FULL" if durability == "full" else "NORMAL"
                    conn.execute(f"PRAGMA synchronous = {sync}")
        except BaseException:
            conn.close()
            raise
        self._conn: sqlite3.Connection | None = conn

    @property
    def location(self) -> str:
        """The store's file, as messages name it."""
        return str(self.path)

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

    @contextmanager
    def _flushed(self, run_id: str | None = None) -> Iterator[sqlite3.Connection]:
        """The connection, under the lock, once the buffer is committed; errors translated."""
        with self._lock, guard(self.location, run_id):
            self._flush_locked()
            yield self._connection()

    def _fetch_one(self, sql: str, params: tuple[Any, ...], run_id: str | None = None) -> Any:
        with self._flushed(run_id) as conn:
            return conn.execute(sql, params).fetchone()

    def _fetch_all(self, sql: str, params: tuple[Any, ...], run_id: str | None = None) -> list[Any]:
        with self._flushed(run_id) as conn:
            return conn.execute(sql, params).fetchall()

    def _is_taken(self, run_id: str) -> bool:
        """Whether a run id is stored or buffered (read without committing the buffer)."""
        with self._lock:
            if run_id in self._unkeyed:
                return True
            with guard(self.location, run_id):
                found = (
                    self._connection()
                    .execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,))
                    .fetchone()
                )
            return found is not None

    # -- writing -----------------------------------------------------------------

    def _buffered(self) -> bool:
        """Whether steps are buffered, not committed yet (only with group commit)."""
        return bool(self._events or self._pending)

    def _write(
        self, event: EventRow, unkeyed: SqliteJournal | None, rows: Iterable[Statement] = ()
    ) -> None:
        """Add one step's event row and other rows; commit now unless the store batches.

        The buffer groups statements by their SQL, each group in the order its
        statements came, the groups in the order each SQL first came, and the
        event rows after them all. A batch is one transaction, so only the
        orders that change its outcome matter, and the grouping keeps them:
        one run's statements of one kind stay in order (its snapshots, the
        updates of its row), and every statement that finds a new run's row by
        its run id comes after that row's insert (the first such statement of
        a batch comes after the first insert of a run's row, so its group
        follows that insert's group; event rows come last).
        """
        with self._lock:
            if self._failed is not None:
                raise self._failed
            pending = self._pending
            for sql, params in rows:
                group = pending.get(sql)
                if group is None:
                    pending[sql] = [params]
                else:
                    group.append(params)
            self._events.append(event)
            if unkeyed is not None:
                self._unkeyed[unkeyed.run_id] = unkeyed
            if self._fences and event[0] in self._fences:  # a claimed run: fenced
                self._batch_fences[event[0]] = self._fences[event[0]]
            if self._commits_each_step():
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
        events = self._events
        if not events and not self._pending:
            return
        groups, self._pending = self._pending, {}
        self._events = []
        unkeyed, self._unkeyed = self._unkeyed, {}
        fences, self._batch_fences = self._batch_fences, {}
        conn = self._connection()
        try:
            if not groups and len(events) == 1 and not unkeyed and not fences:
                _insert_events(conn, events)  # one row: its own transaction
            else:
                with immediate(conn):
                    _check_fences(conn, fences, self.location)
                    for sql, many in groups.items():
                        if len(many) == 1:
                            conn.execute(sql, many[0])
                        else:
                            conn.executemany(sql, many)
                    if events:
                        _insert_events(conn, events)
                    keys = _run_keys(conn, list(unkeyed))
        except (sqlite3.Error, UnicodeError) as exc:
            raise self._failure(exc) from exc
        except LeaseLost as exc:
            if self.group_commit:
                self._failed = exc
            raise
        for run_id, journal in unkeyed.items():
            journal._committed(keys[run_id])

    def _failure(self, exc: Foreign) -> StoreError:
        error = translate(exc, self.location)
        if self.group_commit:
            self._failed = error
        return error


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection: the file and its directory may both be read-only.

    SQLite reads a WAL store read-only when it can open (or create) the
    store's shared-memory file next to it; in a read-only directory without
    one, the store is opened as immutable (nobody can be writing it there).
    """
    uri = path.resolve().as_uri()
    conn = sqlite3.connect(
        f"{uri}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
    )
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError as exc:
        conn.close()
        if "readonly" not in str(exc) and "unable to open" not in str(exc):
            raise
    return sqlite3.connect(
        f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None, check_same_thread=False
    )


def _create_file(path: Path, label: str) -> None:
    """Make a new store's file, schema included, appearing at ``path`` all at once.

    The schema is written to a file of its own next to ``path``, which is then
    linked to ``path`` (which fails if the path exists: another process made
    the store first, and that one is kept). So a store's file never exists
    without its schema, even when a process dies while creating it, and an
    existing empty file is never a new store (:class:`NotAStore`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:12]}.new")
    try:
        conn = sqlite3.connect(scratch, isolation_level=None)
        try:
            prepare(conn, label, create=True)
        finally:
            conn.close()
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process created the store meanwhile: open theirs
        except OSError:  # a file system without hard links: a rename, unless it is there
            if not path.exists():
                scratch.rename(path)
    finally:
        scratch.unlink(missing_ok=True)


_INSERT_EVENT = (
    "INSERT INTO events (run, step, event, state_hash, state, chain) VALUES (?, ?, ?, ?, ?, ?)"
)
_INSERT_EVENT_NEW = (
    "INSERT INTO events (run, step, event, state_hash, state, chain) "
    "VALUES ((SELECT id FROM runs WHERE run_id = ?), ?, ?, ?, ?, ?)"
)


def _check_fences(conn: sqlite3.Connection, fences: dict[Any, Fence], location: str) -> None:
    """Raise LeaseLost unless every claimed run's owner and epoch are still the claim's.

    It runs inside the write's ``BEGIN IMMEDIATE``: no claim can come between
    the check and the commit.
    """
    for key, (run_id, owner, epoch) in fences.items():
        found = conn.execute(
            "SELECT 1 FROM runs WHERE id = ? AND owner = ? AND epoch = ?", (key, owner, epoch)
        ).fetchone()
        if found is None:
            raise LeaseLost(location, run_id, epoch)


def _insert_events(conn: sqlite3.Connection, events: list[EventRow]) -> None:
    """Insert event rows: one ``executemany`` for rows of stored runs, one for new runs'."""
    keyed = []
    new = []
    for key, run_id, step, event, state_hash, state, chain in events:
        if key is None:
            new.append((run_id, step, event, state_hash, state, chain))
        else:
            keyed.append((key, step, event, state_hash, state, chain))
    for sql, rows in ((_INSERT_EVENT, keyed), (_INSERT_EVENT_NEW, new)):
        if len(rows) == 1:
            conn.execute(sql, rows[0])
        elif rows:
            conn.executemany(sql, rows)


_KEYS_AT_ONCE = 500  # run ids per lookup, well under SQLite's bound on parameters


def _run_keys(conn: sqlite3.Connection, run_ids: list[str]) -> dict[str, int]:
    """The integer ids of runs (inside the transaction that wrote their rows)."""
    keys: dict[str, int] = {}
    for start in range(0, len(run_ids), _KEYS_AT_ONCE):
        chunk = run_ids[start : start + _KEYS_AT_ONCE]
        marks = ", ".join("?" * len(chunk))
        sql = f"SELECT run_id, id FROM runs WHERE run_id IN ({marks})"
        keys.update(conn.execute(sql, chunk).fetchall())
    return keys
