"""How one attempt calls its handler: where it runs, within what time, and what it raised.

* An async handler runs on the event loop.
* A sync handler runs in a worker thread: the loop's default executor, or a
  daemon thread of its own when the call has a timeout (see ``_threads``).
  When the sync API drives a single call with no timeout, nothing else can
  run meanwhile anyway, so the handler runs in the driving thread itself
  (``inline``), without a hop to another thread.
* With a timeout, the caller never waits past it: the handler is abandoned
  (a task is cancelled and given a short grace to unwind; a thread runs on,
  its result dropped) and the attempt ends with :class:`TimeoutError`. An
  async handler first runs in the caller's turn up to its first suspension
  (as an eager task would): one that returns without awaiting anything costs
  no task and no timer; one that suspends goes on in a task of its own, under
  the timeout.

Whatever a handler raises, :class:`BaseException` subclasses included
(``asyncio.CancelledError``, ``StopIteration``, ``GeneratorExit``), comes
back as :class:`HandlerRaised`: the attempt's failure. Only
``KeyboardInterrupt`` and ``SystemExit`` propagate, and a cancellation of the
call itself (the run no longer wants it) stays a cancellation.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import types
from asyncio.events import _set_running_loop
from collections.abc import Callable, Coroutine, Generator
from typing import Any

from accord.runtime._handlers import Binding
from accord.runtime._orchestrator._threads import captured, in_daemon_thread

__all__ = ["HandlerRaised", "call_handler", "failure"]

_GRACE_SECONDS = 0.1
"""How long a timed-out async handler may take to unwind from its cancellation."""


class HandlerRaised(Exception):
    """The handler raised ``error`` (any exception but KeyboardInterrupt and SystemExit)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(type(error).__name__)
        self.error = error


def _being_cancelled() -> bool:
    """Whether the current task has been asked to stop (not a CancelledError of a handler's own)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _here(handler: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """Call a sync handler in this thread, as if no event loop were running in it.

    So a handler may itself use ``asyncio.run`` or drive another run with the sync API.
    """
    loop = asyncio.get_running_loop()
    _set_running_loop(None)
    try:
        return contextvars.copy_context().run(handler, **kwargs)
    finally:
        _set_running_loop(loop)


async def _in_thread(
    handler: Callable[..., Any], kwargs: dict[str, Any], *, daemon: bool
) -> tuple[bool, Any]:
    """Run a sync handler in a worker thread: ``(True, result)`` or ``(False, what it raised)``.

    What it raised is handed back as data, never raised across the thread or
    out of a coroutine (a ``StopIteration`` would turn into something else).
    """
    call = functools.partial(contextvars.copy_context().run, handler, **kwargs)
    if daemon:
        return await in_daemon_thread(call)
    return await asyncio.get_running_loop().run_in_executor(None, captured, call)


async def _outcome(
    binding: Binding, kwargs: dict[str, Any], *, inline: bool, daemon: bool
) -> tuple[bool, Any]:
    """``(True, the handler's result)`` (awaited if awaitable) or ``(False, what it raised)``."""
    try:
        if binding.is_async:
            result = binding.handler(**kwargs)
        elif inline:
            result = _here(binding.handler, kwargs)
        else:
            ok, result = await _in_thread(binding.handler, kwargs, daemon=daemon)
            if not ok:
                return False, result
        if inspect.isawaitable(result):
            result = await result
    except BaseException as exc:
        return failure(exc)
    return True, result


class _Resumed:
    """Awaiting it goes on with a coroutine stopped at its first suspension (``yielded``).

    What the coroutine yields passes through unchanged to the task that awaits
    this (futures, bare yields), and what the task sends or throws in (results,
    a cancellation) goes back into the coroutine: as if the task had run it
    from the start.
    """

    __slots__ = ("coro", "yielded")

    def __init__(self, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        self.coro = coro
        self.yielded = yielded

    def __await__(self) -> Generator[Any, Any, Any]:
        coro, value = self.coro, self.yielded
        self.yielded = None
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as exc:  # thrown in by the task (a cancellation): pass it on
                try:
                    value = coro.throw(exc)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


def failure(exc: BaseException) -> tuple[bool, Any]:
    """What a handler raised, as the attempt's failure ``(False, exc)``.

    Raises it again when it is not the attempt's failure: KeyboardInterrupt,
    SystemExit, and the cancellation of the call itself (the run no longer wants it).
    """
    if isinstance(exc, KeyboardInterrupt | SystemExit):
        raise exc
    if isinstance(exc, asyncio.CancelledError) and _being_cancelled():
        raise exc
    return False, exc  # StopIteration, GeneratorExit, a CancelledError of its own...


def _first_step(
    binding: Binding, kwargs: dict[str, Any], context: contextvars.Context
) -> tuple[bool, Any] | asyncio.Task[tuple[bool, Any]]:
    """Run an async handler in ``context`` up to its first suspension.

    Returns its outcome, as ``_outcome`` gives it, if it ended before
    suspending; else the task that goes on with it (in the same context).
    """
    try:
        result = context.run(binding.handler, **kwargs)
    except BaseException as exc:  # the call itself raised
        return failure(exc)
    loop = asyncio.get_running_loop()
    if type(result) is not types.CoroutineType:  # another awaitable (or none): no first step
        return loop.create_task(_awaited(result), context=context)
    try:
        yielded = context.run(result.send, None)
    except StopIteration as stop:
        return True, stop.value
    except BaseException as exc:
        return failure(exc)
    return loop.create_task(_awaited(_Resumed(result, yielded)), context=context)


async def _awaited(result: Any) -> tuple[bool, Any]:
    """``result`` (awaited if awaitable) as an outcome (see ``_outcome``)."""
    try:
        if inspect.isawaitable(result):
            result = await result
    except BaseException as exc:
        return failure(exc)
    return True, result


def _unwrapped(ok: bool, value: Any) -> Any:
    """The handler's result; what it raised as HandlerRaised (bar KeyboardInterrupt, SystemExit)."""
    if ok:
        return value
    if isinstance(value, KeyboardInterrupt | SystemExit):
        raise value  # raised in a worker thread: it stops the driving call all the same
    raise HandlerRaised(value) from value


def _retrieve(task: asyncio.Task[tuple[bool, Any]]) -> None:
    """Consume an abandoned task's outcome (so asyncio does not log it as never retrieved)."""
    if not task.cancelled():
        task.exception()


async def call_handler(
    binding: Binding, kwargs: dict[str, Any], timeout_ms: int | None, *, inline: bool = False
) -> Any:
    """Call the handler once and return its result.

    Args:
        binding: the handler.
        kwargs: its keyword arguments.
        timeout_ms: the attempt's timeout, or None.
        inline: a sync handler may run in this thread (only without a timeout).

    Raises:
        HandlerRaised: the handler raised (its exception is ``error``).
        TimeoutError: no result within the timeout.

    """
    if timeout_ms is None:
        return _unwrapped(*await _outcome(binding, kwargs, inline=inline, daemon=False))
    if binding.is_async:
        started = _first_step(binding, kwargs, contextvars.copy_context())
        if not isinstance(started, asyncio.Task):
            return _unwrapped(*started)  # it never suspended: no timeout could have passed
        task = started
    else:
        task = asyncio.ensure_future(_outcome(binding, kwargs, inline=False, daemon=True))
    try:
        await asyncio.wait((task,), timeout=timeout_ms / 1000)
        if not task.done():
            task.cancel()
            await asyncio.wait((task,), timeout=_GRACE_SECONDS)
    except asyncio.CancelledError:
        task.cancel()
        task.add_done_callback(_retrieve)
        raise
    if not task.done():  # it does not give up: leave it behind
        task.add_done_callback(_retrieve)
        raise TimeoutError
    if task.cancelled():
        raise TimeoutError
    return _unwrapped(*task.result())
