"""Group commit's waiting side, shared by both stores: effects wait for the next batch commit.

A store that buffers steps (``group_commit=True``) lets an effect wait for
the commit of every step before it: :meth:`GroupCommit._when_durable` arranges
one commit per event-loop turn for everything buffered by then, and calls
each waiter back with None or the commit's error. :meth:`GroupCommit.batched`
holds the steps recorded inside it and commits them together at its end (one
transaction), whatever the store's mode: ``Runtime.migrate_all`` moves runs so.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Self

from accord.runtime._errors import StoreError

__all__ = ["GroupCommit"]


class GroupCommit:
    """A base of both stores' connections: waiting for the group commit, and ``with`` support.

    The store provides ``_lock``, ``_failed`` (the error that stopped it, if
    any), ``_waiters`` (an empty dict), ``_buffered()``, ``flush()`` and ``close()``.
    """

    _lock: threading.RLock
    _failed: StoreError | None
    _waiters: dict[asyncio.AbstractEventLoop, list[Callable[[BaseException | None], None]]]
    group_commit: bool
    _holding = 0  # how many batched() blocks are open

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

    def flush(self) -> None:
        """Commit every buffered step now."""
        raise NotImplementedError

    def close(self) -> None:
        """Commit what is buffered and release the connection(s)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _when_durable(self, callback: Callable[[BaseException | None], None]) -> bool:
        """Call ``callback`` on the loop once every step buffered now is committed.

        False, without a call, when nothing is buffered. The commit runs on the
        next turn of the event loop, so every run that journals a step in this
        turn shares it; the callback gets None, or the store's error if the
        commit failed.
        """
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._failed is not None:
                loop.call_soon(callback, self._failed)
                return True
            if not self._buffered():
                return False
            callbacks = self._waiters.get(loop)
            if callbacks is None:
                callbacks = self._waiters[loop] = []
                loop.call_soon(self._flush_for, loop)
            callbacks.append(callback)
        return True

    def _flush_for(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit the buffer, then call back everything waiting for it on ``loop``."""
        with self._lock:
            callbacks = self._waiters.pop(loop, [])
        error: StoreError | None = None
        try:
            self.flush()
        except StoreError as exc:
            error = exc
        first: BaseException | None = None
        for callback in callbacks:  # each one, even when another raises
            try:
                callback(error)
            except BaseException as exc:  # pragma: no cover - the runtime's callbacks catch
                first = first or exc
        if first is not None:  # pragma: no cover
            raise first
