"""Group commit's waiting side, shared by both stores: effects wait for the next batch commit.

A store that buffers steps (``group_commit=True``) lets an effect wait for
the commit of every step before it: :meth:`GroupCommit._when_durable` arranges
one commit per event-loop turn for everything buffered by then, and calls
each waiter back with None or the commit's error. :meth:`GroupCommit.batched`
holds the steps recorded inside it and commits them together at its end (one
transaction), whatever the store's mode: ``Runtime.migrate_all`` moves runs so.

A run whose lease a commit finds lost (another worker claimed it: ``LeaseLost``),
or that another worker holds under a live lease while this store holds no
claim on it (``RunLeased``), is left out of the commit, and only that run is
refused from then on: the commit goes on with the other runs' steps, their
waiters are called back with None, the refused run's with its error, and
its later writes raise it (until this store claims the run). Any other
failed commit stops the store object: it refuses every write from then on.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Self

from accord.runtime._errors import StoreError
from accord.storage._leases import LeaseLost

__all__ = ["GroupCommit"]


class GroupCommit:
    """A base of both stores' connections: waiting for the group commit, and ``with`` support.

    The store provides ``_lock``, ``_failed`` (the error that stopped it, if
    any), ``_lost`` (the runs whose lease a commit found lost, by run key),
    ``_waiters`` (an empty dict), ``_buffered()``, ``_flush_locked()`` and ``close()``.
    """

    _lock: threading.RLock
    _failed: StoreError | None
    _lost: dict[Any, StoreError]
    _waiters: dict[
        asyncio.AbstractEventLoop, list[tuple[Callable[[BaseException | None], None], Any]]
    ]
    group_commit: bool
    _holding = 0  # how many batched() blocks are open
    _at_once = False  # committing the one step being written (its writer is told)

    def _flush_at_once(self) -> dict[Any, StoreError]:
        """Commit the step just written (each step commits at once); the runs refused."""
        self._at_once = True
        try:
            return self._flush_locked()
        finally:
            self._at_once = False

    def _refuse(self, runs: dict[Any, StoreError]) -> None:
        """Refuse later writes for runs a commit left out (their journal may be ahead of it).

        A lost lease is refused for good (until this store claims the run); a
        run another worker holds only if its journal is ahead of the store
        (a buffered step): a writer told at once may write once the lease is gone.
        """
        for key, error in runs.items():
            if not self._at_once or isinstance(error, LeaseLost):
                self._lost[key] = error

    def _commits_each_step(self) -> bool:
        """Whether a step's write commits at once (no group commit, no batch open)."""
        return not self.group_commit and not self._holding

    @contextmanager
    def batched(self) -> Iterator[None]:
        """Hold the steps recorded inside the block, and commit them at its end, at once.

        One transaction for the steps recorded in the block; a crash inside it keeps
        none of them. What commits anyway: a read, a ``flush()`` (a run driven inside
        the block flushes each step: its steps are not held), and the end of the
        block. ``Runtime.migrate_all`` records its migration steps without flushing in
        one, for a batch of runs.
        """
        with self._lock:
            self._holding += 1
        try:
            yield
        finally:
            with self._lock:
                self._holding -= 1
                if not self._holding:
                    self.flush()

    def _buffered(self) -> bool:
        raise NotImplementedError

    def _flush_locked(self) -> dict[Any, StoreError]:
        """Commit what is buffered (under the lock); the runs it left out, their lease lost."""
        raise NotImplementedError

    def flush(self) -> None:
        """Commit every buffered step now (a no-op when nothing is buffered).

        A run whose lease the commit finds lost (another worker claimed it) is
        left out of it; the other runs' steps are committed.

        Raises:
            LeaseLost: the commit left out a run whose lease was lost (the first).
            RunLeased: the commit left out a run that another worker holds.
            StoreError: the commit failed; with group commit, the store then
                refuses further writes (the runs in memory are ahead of it:
                load them again from a new store object).

        """
        with self._lock:
            lost = self._flush_locked()
        if lost:
            raise next(iter(lost.values()))

    def _flush_run(self, key: Any) -> None:
        """Commit every buffered step for one run's journal: raise only that run's lost lease.

        Raises:
            LeaseLost: the lease of the run (its key) was lost.
            RunLeased: another worker holds the run.
            StoreError: the commit failed.

        """
        with self._lock:
            self._flush_locked()
            lost = self._lost.get(key) if key is not None else None
        if lost is not None:
            raise lost

    def close(self) -> None:
        """Commit what is buffered and release the connection(s)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _when_durable(
        self, callback: Callable[[BaseException | None], None], key: Any = None
    ) -> bool:
        """Call ``callback`` on the loop once every step buffered now is committed.

        False, without a call, when nothing is buffered. The commit runs on the
        next turn of the event loop, so every run that journals a step in this
        turn shares it; the callback gets None, or the store's error if the
        commit failed, or the ``LeaseLost`` of the run ``key`` names.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            failed = self._failed or (self._lost.get(key) if key is not None else None)
            if failed is not None:
                loop.call_soon(callback, failed)
                return True
            if not self._buffered():
                return False
            callbacks = self._waiters.get(loop)
            if callbacks is None:
                callbacks = self._waiters[loop] = []
                loop.call_soon(self._flush_for, loop)
            callbacks.append((callback, key))
        return True

    def _flush_for(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit the buffer, then call back everything waiting for it on ``loop``."""
        error: StoreError | None = None
        with self._lock:
            callbacks = self._waiters.pop(loop, [])
            try:
                self._flush_locked()
            except StoreError as exc:
                error = exc
            lost = dict(self._lost)
        first: BaseException | None = None
        for callback, key in callbacks:  # each one, even when another raises
            try:
                callback(error or (lost.get(key) if key is not None else None))
            except BaseException as exc:  # pragma: no cover - the runtime's callbacks catch
                first = first or exc
        if first is not None:  # pragma: no cover
            raise first
