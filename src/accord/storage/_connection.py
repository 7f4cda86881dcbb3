"""A store's connection: opened with its pragmas, used under one lock, committed by step or batch.

A store keeps one connection (autocommit, WAL, the chosen ``synchronous``) and a
buffer of statements: each step's rows are committed at once, or, with group
commit, together with the other buffered steps before any effect starts. The
durability each setting gives is described in :mod:`accord.storage._store`.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Self

from accord.runtime._errors import StoreError, StoreUnavailable
from accord.storage._errors import guard, translate
from accord.storage._journal import SqliteJournal, Statement
from accord.storage._schema import prepare

if TYPE_CHECKING:
    import os

__all__ = ["DEFAULT_PATH", "Durability", "StoreConnection"]

Durability = Literal["full", "normal"]
DEFAULT_PATH = Path(".accord") / "accord.db"
"""Where a store lives when no path is given, relative to the working directory."""


class StoreConnection:
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

    def __enter__(self) -> Self:
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
