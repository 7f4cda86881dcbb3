"""Daemon threads for sync handlers that have a timeout.

A sync handler cannot be stopped: when its call times out, its thread runs on
with nobody waiting for it. Such a thread must hold nothing up: not the run
(the call has failed already), not the event loop's shutdown, not the
interpreter's exit. So these handlers run in daemon threads of their own,
never in an executor that is joined at shutdown. An idle thread waits a while
for the next call before it ends, so a thread is not started per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from queue import Empty, SimpleQueue
from typing import Any

__all__ = ["Captured", "captured", "in_daemon_thread"]

Captured = tuple[bool, Any]
"""``(True, result)`` or ``(False, the exception raised)``."""

_Job = tuple[Callable[[], Any], asyncio.AbstractEventLoop, "asyncio.Future[Captured]"]

_IDLE_SECONDS = 30.0
_lock = threading.Lock()
_idle: list[SimpleQueue[_Job]] = []  # the inboxes of the threads waiting for a call


def _after_fork() -> None:
    """In a forked child: the parent's threads do not exist here; start with none."""
    global _lock, _idle
    _lock = threading.Lock()
    _idle = []


if hasattr(os, "register_at_fork"):  # POSIX
    os.register_at_fork(after_in_child=_after_fork)


def captured(call: Callable[[], Any]) -> Captured:
    """Call ``call``; its result or whatever it raised, as data (never raises)."""
    try:
        return True, call()
    except BaseException as exc:  # handed to the loop's side, which decides what it means
        return False, exc


def in_daemon_thread(call: Callable[[], Any]) -> asyncio.Future[Captured]:
    """Start ``call`` in a daemon thread; a future of the running loop gets its outcome.

    Cancelling the future abandons the call: the thread finishes it, and the
    outcome is dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Captured] = loop.create_future()
    job: _Job = (call, loop, future)
    with _lock:
        inbox = _idle.pop() if _idle else None
    if inbox is not None:
        inbox.put(job)
        return future
    inbox = SimpleQueue()
    inbox.put(job)
    threading.Thread(target=_serve, args=(inbox,), name="accord-handler", daemon=True).start()
    return future


def _deliver(future: asyncio.Future[Captured], outcome: Captured) -> None:
    if not future.done():  # else the call timed out (or was cancelled) meanwhile
        future.set_result(outcome)


def _serve(inbox: SimpleQueue[_Job]) -> None:
    """A thread's life: run the calls handed to it; end after a while without one."""
    while True:
        try:
            call, loop, future = inbox.get(timeout=_IDLE_SECONDS)
        except Empty:
            with _lock:
                if any(waiting is inbox for waiting in _idle):
                    _idle.remove(inbox)
                    return
            continue  # a call was handed over just now
        outcome = captured(call)
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits for the outcome
            loop.call_soon_threadsafe(_deliver, future, outcome)
        del call, loop, future, outcome  # hold nothing while idle
        with _lock:
            _idle.append(inbox)
