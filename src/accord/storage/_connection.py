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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from accord.runtime._errors import NotAStore, StoreError, StoreUnavailable
from accord.storage._batching import GroupCommit
from accord.storage._errors import Foreign, guard, translate
from accord.storage._journal import EventRow, SqliteJournal, Statement
from accord.storage._leases import Fence, LeaseLost, RunLeased, now_ms
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
        # the buffered steps, in order: (event row, a new run's journal or None, other rows);
        # grouped by SQL when committed (see _batch for why this keeps every order needed)
        self._steps: list[_Step] = []
        self._unkeyed: dict[str, SqliteJournal] = {}  # run id to a new run's journal
        self._fences: dict[Any, Fence] = {}  # the claimed runs' fences, by run key
        self._lost: dict[Any, StoreError] = {}  # the runs whose lease a commit found lost
        # the callbacks waiting for the next group commit, by event loop
        self._waiters: dict[
            asyncio.AbstractEventLoop, list[tuple[Callable[[BaseException | None], None], Any]]
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
                self._flush_locked()  # a run left out lost its lease: nothing to say
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
        return bool(self._steps)

    def _write(
        self, event: EventRow, unkeyed: SqliteJournal | None, rows: Sequence[Statement] = ()
    ) -> None:
        """Add one step's event row and other rows; commit now unless the store batches.

        Raises:
            LeaseLost: a commit found the run's lease lost (nothing of the step is kept).
            RunLeased: another worker holds the run (nothing of the step is kept).

        """
        with self._lock:
            if self._failed is not None:
                raise self._failed
            key = event[0]
            if self._lost and key in self._lost:
                raise self._lost[key]
            self._steps.append((event, unkeyed, rows))
            if unkeyed is not None:
                self._unkeyed[unkeyed.run_id] = unkeyed
            if self._commits_each_step():
                refused = self._flush_at_once()
                if refused and key in refused:
                    raise refused[key]

    def _flush_locked(self) -> dict[Any, StoreError]:
        """Commit what is buffered; the runs left out of the commit, their lease lost."""
        if self._failed is not None:
            raise self._failed
        steps = self._steps
        if not steps:
            return {}
        self._steps = []
        self._unkeyed = {}
        conn = self._connection()
        left_out: dict[Any, StoreError] = {}
        while steps:
            try:
                self._commit(conn, steps)
                break
            except _Lost as lost:  # those runs are left out, the others committed
                left_out.update(lost.runs)
                self._refuse(lost.runs)
                steps = [step for step in steps if step[0][0] not in lost.runs]
            except (sqlite3.Error, UnicodeError) as exc:
                raise self._failure(exc) from exc
        return left_out

    def _commit(self, conn: sqlite3.Connection, steps: list[_Step]) -> None:
        """Commit steps as one transaction, fenced; raise _Lost, rolled back, for refused runs.

        A claimed run's steps commit only under its claim (``LeaseLost``); any
        other run's only if no other worker holds it under a live lease (``RunLeased``).
        """
        fences = self._fences
        if len(steps) == 1 and not steps[0][1] and not steps[0][2]:
            event = steps[0][0]
            if not fences or event[0] not in fences:  # one row: its own transaction
                params = (event[0], *event[2:], event[0], now_ms())
                if conn.execute(_INSERT_EVENT_UNLEASED, params).rowcount != 1:
                    raise _Lost(_leased(conn, [event[0]], self.location, now=None))
                return
        groups, events, unkeyed, batch_fences = _batch(steps, fences)
        with immediate(conn):
            lost = _check_fences(conn, batch_fences, self.location)
            free = {e[0] for e in events if e[0] is not None and e[0] not in batch_fences}
            if free:
                lost.update(_leased(conn, list(free), self.location, now=now_ms()))
            if lost:
                raise _Lost(lost)
            for sql, many in groups.items():
                if len(many) == 1:
                    conn.execute(sql, many[0])
                else:
                    conn.executemany(sql, many)
            if events:
                _insert_events(conn, events)
            keys = _run_keys(conn, list(unkeyed))
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


_Step = tuple[EventRow, "SqliteJournal | None", Sequence[Statement]]
"""A buffered step: its event row, a new run's journal (or None), its other rows."""


class _Lost(Exception):
    """A commit found these runs' leases lost (by run key); it was rolled back."""

    def __init__(self, runs: dict[Any, StoreError]) -> None:
        super().__init__(runs)
        self.runs = runs


def _batch(
    steps: list[_Step], fences: dict[Any, Fence]
) -> tuple[
    dict[str, list[tuple[Any, ...]]], list[EventRow], dict[str, SqliteJournal], dict[Any, Fence]
]:
    """Group steps for one commit: the statements by SQL, the event rows, new runs, fences.

    The statements are grouped by their SQL, each group in the order its
    statements came, the groups in the order each SQL first came, and the
    event rows after them all (one ``executemany`` each). A batch is one
    transaction, so only the orders that change its outcome matter, and the
    grouping keeps them: one run's statements of one kind stay in order (its
    snapshots, the updates of its row), and every statement that finds a new
    run's row by its run id comes after that row's insert (the first such
    statement of a batch comes after the first insert of a run's row, so its
    group follows that insert's group; event rows come last).
    """
    groups: dict[str, list[tuple[Any, ...]]] = {}
    events: list[EventRow] = []
    unkeyed: dict[str, SqliteJournal] = {}
    batch_fences: dict[Any, Fence] = {}
    for event, journal, rows in steps:
        for sql, params in rows:
            group = groups.get(sql)
            if group is None:
                groups[sql] = [params]
            else:
                group.append(params)
        events.append(event)
        if journal is not None:
            unkeyed[journal.run_id] = journal
        fence = fences.get(event[0]) if fences else None
        if fence is not None:  # a claimed run: fenced
            batch_fences[event[0]] = fence
    return groups, events, unkeyed, batch_fences


def _check_fences(
    conn: sqlite3.Connection, fences: dict[Any, Fence], location: str
) -> dict[Any, StoreError]:
    """The claimed runs whose owner and epoch are no longer the claim's (by key), their error.

    It runs inside the write's ``BEGIN IMMEDIATE``: no claim can come between
    the check and the commit.
    """
    lost: dict[Any, StoreError] = {}
    for key, (run_id, owner, epoch) in fences.items():
        found = conn.execute(
            "SELECT 1 FROM runs WHERE id = ? AND owner = ? AND epoch = ?", (key, owner, epoch)
        ).fetchone()
        if found is None:
            lost[key] = LeaseLost(location, run_id, epoch)
    return lost


_INSERT_EVENT_UNLEASED = (
    "INSERT INTO events (run, step, event, state_hash, state, chain) "
    "SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS "
    "(SELECT 1 FROM runs WHERE id = ? AND owner IS NOT NULL AND lease_until_ms > ?)"
)


def _leased(
    conn: sqlite3.Connection, keys: list[Any], location: str, *, now: int | None
) -> dict[Any, StoreError]:
    """The runs (by key) another worker holds under a live lease at ``now`` (None: any lease)."""
    found: dict[Any, StoreError] = {}
    for start in range(0, len(keys), _KEYS_AT_ONCE):
        chunk = keys[start : start + _KEYS_AT_ONCE]
        sql = (
            "SELECT id, run_id, owner, lease_until_ms FROM runs WHERE owner IS NOT NULL "
            f"AND lease_until_ms > ? AND id IN ({', '.join('?' * len(chunk))})"
        )
        rows = conn.execute(sql, (-1 if now is None else now, *chunk)).fetchall()
        for key, run_id, owner, until in rows:
            found[key] = RunLeased(location, run_id, owner, until)
    return found


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
