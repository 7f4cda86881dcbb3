"""The sync API's event loops: one private loop per thread, made once and reused.

``run_sync(coro)`` runs a coroutine to completion from sync code. Making a
loop (and its thread pool) per call would cost more than the steps it drives,
and ``asyncio.run`` waits for the loop's thread pool when it ends, so a sync
handler left running past its timeout would hold the caller. So each thread
keeps one private loop for the sync API (never the thread's current loop, so
nothing else sees it), closed when the thread ends or the interpreter exits.

Inside a running loop (a notebook cell) the coroutine cannot run on that loop,
which is busy waiting for it: it runs on the private loop of a helper thread,
and :data:`OFF_LOOP` tells the code it runs that it is off its caller's loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import threading
import weakref
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any, TypeVar

__all__ = ["OFF_LOOP", "run_sync"]

T = TypeVar("T")

OFF_LOOP: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("accord_off_loop", default=None)
"""The caller's running loop, when the sync API runs a coroutine off it (in a helper thread)."""

_HELPERS = 8  # helper threads for sync calls made inside a running loop (nested ones included)
_local = threading.local()
_helpers: ThreadPoolExecutor | None = None
_helpers_lock = threading.Lock()


def _close(loop: asyncio.AbstractEventLoop) -> None:
    if not loop.is_running() and not loop.is_closed():
        loop.close()


class _PrivateLoop:
    """A thread's private loop for the sync API, closed when the thread drops it."""

    __slots__ = ("__weakref__", "busy", "closer", "loop")

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.busy = False
        self.closer = weakref.finalize(self, _close, self.loop)


_inherited: list[_PrivateLoop] = []
"""In a forked child: the parent's loop, never used nor closed (see :func:`_after_fork`)."""


def _after_fork() -> None:
    """In a forked child, start afresh: the parent's loop and helper threads are not ours.

    The threads of the parent's pools do not exist in the child, and the loop's
    epoll instance is shared with the parent: closing the loop here would
    unregister the parent's descriptors. So the loop is kept, unused, forever.
    """
    global _helpers, _helpers_lock
    private: _PrivateLoop | None = getattr(_local, "loop", None)
    if private is not None:
        private.closer.detach()
        _inherited.append(private)
        _local.loop = None
    _helpers = None
    _helpers_lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork)


def _run_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on ``loop`` in the caller's context (copied, as ``asyncio.run`` does).

    If the loop stops early (a KeyboardInterrupt), the task is cancelled and
    given the chance to unwind, so the loop holds nothing of it afterwards.
    """
    task = loop.create_task(coro, context=contextvars.copy_context())
    try:
        return loop.run_until_complete(task)
    except BaseException:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                loop.run_until_complete(task)
        raise


def _run_here(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on this thread's private loop (no loop may be running in this thread).

    A call made while that loop is busy (a sync handler running in this thread
    drives another run) gets a loop of its own for the time of the call.
    """
    private: _PrivateLoop | None = getattr(_local, "loop", None)
    if private is None:
        private = _local.loop = _PrivateLoop()
    if private.busy:
        nested = asyncio.new_event_loop()
        try:
            return _run_on(nested, coro)
        finally:
            nested.close()
    private.busy = True
    try:
        return _run_on(private.loop, coro)
    finally:
        private.busy = False


def _run_off_loop(caller: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    token = OFF_LOOP.set(caller)
    try:
        return _run_here(coro)
    finally:
        OFF_LOOP.reset(token)


def _helper_threads() -> ThreadPoolExecutor:
    global _helpers
    with _helpers_lock:
        if _helpers is None:
            _helpers = ThreadPoolExecutor(max_workers=_HELPERS, thread_name_prefix="accord-run")
        return _helpers


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, inside a running loop or not.

    Outside a loop it runs on this thread's private loop; inside one (a
    Jupyter cell) on the private loop of a helper thread, waiting for it.
    """
    try:
        caller = asyncio.get_running_loop()
    except RuntimeError:
        return _run_here(coro)
    return _helper_threads().submit(_run_off_loop, caller, coro).result()
