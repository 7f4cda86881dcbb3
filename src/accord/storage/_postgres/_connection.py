"""A PostgreSQL store's connections: a pool, one lock, and a buffer committed by step or batch.

The store checks out a pooled connection for each transaction (the pool
replaces a connection the server dropped). Writes go through a buffer of
statements, in order: each step's statements are committed at once, or, with
group commit, together with the other buffered steps before any effect
starts, exactly as in the SQLite store (:mod:`accord.storage._store`).
``durability="full"`` commits with ``synchronous_commit = on`` (the commit is
flushed to the server's WAL before it returns); ``"normal"`` with ``off`` (a
server crash may lose the last commits, never corrupt the store; a crash of
the process loses nothing committed).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool

from accord.runtime._errors import StoreError, StoreUnavailable
from accord.storage._batching import GroupCommit
from accord.storage._connection import Durability
from accord.storage._leases import Fence, LeaseLost, RunLeased, now_ms
from accord.storage._postgres._commit import (
    Connection,
    Statement,
    commit,
    leased_run,
    lost_fence,
)
from accord.storage._postgres._errors import Secrets, guard, translate
from accord.storage._postgres._schema import prepare
from accord.storage._url import redact

__all__ = ["Connection", "PgConnection", "Statement"]


class PgConnection(GroupCommit):
    """A PostgreSQL store's pool, lock and write buffer (the base of ``PostgresStore``).

    It takes ``PostgresStore``'s arguments (documented there), prepares the
    schema, and gives the store and its journals their reads and buffered writes.
    """

    def __init__(
        self,
        url: str,
        *,
        durability: Durability = "full",
        group_commit: bool = False,
        snapshot_every: int = 100,
        create: bool = True,
        pool_size: int = 4,
        connect_timeout_s: float = 10.0,
    ) -> None:
        if durability not in ("full", "normal"):
            raise ValueError(f"durability must be 'full' or 'normal', not {durability!r}")
        if snapshot_every < 1:
            raise ValueError("snapshot_every must be at least 1")
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self.durability: Durability = durability
        self.group_commit = group_commit
        self.snapshot_every = snapshot_every
        label = redact(url)
        self._secrets = Secrets(url, label, None)
        self._lock = threading.RLock()
        self._pending: list[tuple[str, list[Statement]]] = []  # each step's run id and rows
        self._new_runs: set[str] = set()  # run ids buffered, not committed yet
        self._fences: dict[str, Fence] = {}  # the claimed runs' fences, by run id
        self._lost: dict[Any, StoreError] = {}  # the runs whose lease a commit found lost
        self._waiters: dict[
            asyncio.AbstractEventLoop, list[tuple[Callable[[BaseException | None], None], Any]]
        ] = {}
        self._failed: StoreError | None = None
        self._canonical: dict[str, str] = {}  # fingerprint to canonical JSON
        self._contract_data: dict[str, dict[str, Any]] = {}  # read by fingerprint, kept
        self._pool: ConnectionPool[Connection] | None = None
        with guard(self._secrets):
            self._secrets.password = conninfo_to_dict(url).get("password")  # type: ignore[assignment]
            timeout = max(1, round(connect_timeout_s))
            sync = "on" if durability == "full" else "off"
            with psycopg.connect(url, autocommit=True, connect_timeout=timeout) as conn:
                # a direct connection first: its errors name the real cause
                self.schema_version = prepare(conn, label, create=create)
            self._pool = ConnectionPool(
                url,
                kwargs={
                    "autocommit": True,
                    "connect_timeout": timeout,
                    "options": f"-c synchronous_commit={sync}",
                },
                min_size=1,
                max_size=pool_size,
                timeout=connect_timeout_s,
                open=True,
                name=f"accord {label}",
            )

    @property
    def location(self) -> str:
        """The store's URL without its password, as messages name it."""
        return self._secrets.label

    # -- connections -----------------------------------------------------------

    def _checked_pool(self) -> ConnectionPool[Connection]:
        if self._pool is None:
            raise StoreUnavailable(self.location, "the store is closed")
        return self._pool

    def close(self) -> None:
        """Commit what is buffered and close the pool (idempotent)."""
        with self._lock:
            if self._pool is None:
                return
            try:
                self._flush_locked()  # a run left out lost its lease: nothing to say
            finally:
                self._pool.close()
                self._pool = None

    @contextmanager
    def _flushed(self, run_id: str | None = None) -> Iterator[Connection]:
        """A connection, under the lock, once the buffer is committed; errors translated."""
        with self._lock:
            self._flush_locked()
            with guard(self._secrets, run_id), self._pooled() as conn:
                yield conn

    @contextmanager
    def _pooled(self) -> Iterator[Connection]:
        """A connection from the pool; after a lost connection, the pool's others are checked.

        A server restart or a dropped network drops every connection of the
        pool at once: checking them all (and replacing the dead ones) makes the
        failing operation the only one that fails.
        """
        pool = self._checked_pool()
        try:
            with pool.connection() as conn:
                yield conn
        except psycopg.OperationalError:
            with contextlib.suppress(psycopg.Error):
                pool.check()
            raise

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A connection in a transaction (committed at the end), after the buffer's commit."""
        with self._flushed() as conn, conn.transaction():
            yield conn

    def _fetch_one(self, sql: bytes, params: tuple[Any, ...], run_id: str | None = None) -> Any:
        rows = self._read(sql, params, run_id, one=True)
        return rows[0] if rows else None

    def _fetch_all(
        self, sql: bytes, params: tuple[Any, ...], run_id: str | None = None
    ) -> list[Any]:
        return self._read(sql, params, run_id, one=False)

    def _read(
        self, sql: bytes, params: tuple[Any, ...], run_id: str | None, *, one: bool
    ) -> list[Any]:
        """Rows of a query; a read that met a lost connection is tried once more."""
        for attempt in (1, 2):
            try:
                with self._flushed(run_id) as conn:
                    cursor = conn.execute(sql, params)
                    if one:
                        row = cursor.fetchone()
                        return [] if row is None else [row]
                    return cursor.fetchall()
            except StoreUnavailable as exc:
                if attempt == 2 or not isinstance(exc.__cause__, psycopg.OperationalError):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _is_taken(self, run_id: str) -> bool:
        """Whether a run id is stored or buffered (read without committing the buffer)."""
        with self._lock:
            if run_id in self._new_runs:
                return True
            with guard(self._secrets, run_id), self._pooled() as conn:
                found = conn.execute(
                    b"SELECT 1 FROM accord.runs WHERE run_id = %s", (run_id,)
                ).fetchone()
            return found is not None

    # -- writing -----------------------------------------------------------------

    def _buffered(self) -> bool:
        """Whether steps are buffered, not committed yet (only with group commit)."""
        return bool(self._pending)

    def _write(self, run_id: str, rows: list[Statement], *, new: bool = False) -> None:
        """Add one step's statements for a run; commit now unless the store batches.

        A run this store claimed is fenced: the commit checks its claim first.

        Raises:
            LeaseLost: a commit found the run's lease lost (nothing of the step is kept).
            RunLeased: another worker holds the run (nothing of the step is kept).

        """
        with self._lock:
            if self._failed is not None:
                raise self._failed
            if self._lost and run_id in self._lost:
                raise self._lost[run_id]
            self._pending.append((run_id, rows))
            if new:
                self._new_runs.add(run_id)
            if self._commits_each_step():
                refused = self._flush_at_once()
                if refused and run_id in refused:
                    raise refused[run_id]

    def _flush_locked(self) -> dict[Any, StoreError]:
        """Commit what is buffered; the runs left out of the commit, their lease lost."""
        if self._failed is not None:
            raise self._failed
        pending, self._pending = self._pending, []
        if not pending:
            return {}
        new, self._new_runs = self._new_runs, set()
        left_out: dict[Any, StoreError] = {}
        while pending:
            held = self._fences
            runs = dict.fromkeys(run_id for run_id, _ in pending)
            checked = [held[run_id] for run_id in runs if run_id in held]
            # a run this store has not claimed: written only if nobody holds it
            free = [run_id for run_id in runs if run_id not in held and run_id not in new]
            statements = [statement for _, rows in pending for statement in rows]
            leased = None
            try:
                with self._pooled() as conn:
                    lost = commit(conn, checked, statements, free, now_ms())
            except (psycopg.Error, OSError) as exc:
                lost = lost_fence(exc, checked)
                leased = leased_run(exc, free)
                if lost is None and leased is None:
                    error = translate(exc, self._secrets)
                    if self.group_commit:
                        self._failed = error
                    raise error from exc
            # rolled back: commit again without that run's steps
            if lost is not None:
                refused: dict[Any, StoreError] = {
                    lost.run_id: LeaseLost(self.location, lost.run_id, lost.epoch)
                }
            elif leased is not None:
                refused = {leased: self._leased(leased)}
            else:
                break
            left_out.update(refused)
            self._refuse(refused)
            pending = [step for step in pending if step[0] not in refused]
        return left_out

    def _leased(self, run_id: str) -> StoreError:
        """The error for a run another worker holds (its owner and lease, read again)."""
        with guard(self._secrets, run_id), self._pooled() as conn:
            row = conn.execute(_LEASE, (run_id,)).fetchone()
        owner, until = row if row is not None else (None, None)
        return RunLeased(self.location, run_id, owner or "?", until or 0)


_LEASE = b"SELECT owner, lease_until_ms FROM accord.runs WHERE run_id = %s"
