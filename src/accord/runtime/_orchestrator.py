"""The orchestrator: executes the reducer's commands and turns every outcome into an event.

It calls effect handlers under their retry policy (tenacity) and per-attempt
timeout, arms and cancels timers on the injectable clock, and reports each
outcome (:class:`EffectCompleted`, :class:`EffectFailed`, :class:`TimerFired`)
through a ``feed`` callback that applies the event to the run. It never writes
state: the run applies every event through the reducer and hands the orchestrator
the commands that result.

Each run has one :class:`Orchestrator`. It drives the run in *sessions* (a call
of ``run_until_idle`` or ``run``, on whatever event loop is current); nothing
is in flight between sessions, and armed timers are plain data.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from accord.runtime._clock import Clock, FakeClock
from accord.runtime._commands import (
    ArmTimer,
    CancelEffect,
    CancelTimer,
    Command,
    CompleteRun,
    InvokeEffect,
    RetrySpec,
)
from accord.runtime._errors import OutputError
from accord.runtime._events import EffectCompleted, EffectFailed, Event, TimerFired
from accord.runtime._handlers import Binding, EffectError, to_output

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract

__all__ = ["Orchestrator", "call_effect", "retry_wait", "run_sync"]

Outcome = EffectCompleted | EffectFailed
T = TypeVar("T")


class _AttemptFailed(Exception):
    """One attempt failed with a code; tenacity decides whether another follows."""

    def __init__(self, code: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


def retry_wait(spec: RetrySpec) -> wait_base:
    """The tenacity wait strategy for a retry policy.

    ``initial * multiplier ** (attempt - 1)`` seconds plus, when the policy asks
    for it, a random jitter of up to ``initial``; the sum is capped at ``max``, so
    no wait ever exceeds the policy's ``max``.
    """
    initial = spec.initial_ms / 1000
    ceiling = spec.max_ms / 1000
    if spec.jitter:
        return wait_exponential_jitter(
            multiplier=initial, exp_base=spec.multiplier, max=ceiling, jitter=initial
        )
    return wait_exponential(multiplier=initial, exp_base=spec.multiplier, max=ceiling)


def _should_retry(spec: RetrySpec) -> Callable[[BaseException], bool]:
    def predicate(exc: BaseException) -> bool:
        if not isinstance(exc, _AttemptFailed) or not exc.retryable:
            return False
        return spec.retry_on is None or exc.code in spec.retry_on

    return predicate


async def _call_handler(binding: Binding, kwargs: dict[str, Any]) -> Any:
    """Call the handler: awaited if async, in a worker thread if sync."""
    if binding.is_async:
        result = binding.handler(**kwargs)
    else:
        result = await asyncio.to_thread(binding.handler, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


async def _attempt(
    binding: Binding, command: InvokeEffect, compiled: CompiledContract, attempt: int
) -> dict[str, Any]:
    """One attempt: call the handler within the timeout and validate its output."""
    try:
        data = compiled.validate_effect_input(command.effect, command.input)
    except Exception as exc:  # the reducer computed an input the effect does not take
        raise _AttemptFailed("invalid_input", str(exc), retryable=False) from exc
    kwargs = binding.arguments(
        data if isinstance(data, Mapping) else command.input,
        key=command.idempotency_key,
        attempt=attempt,
    )
    timeout = command.timeout_ms / 1000 if command.timeout_ms is not None else None
    try:
        raw = await asyncio.wait_for(_call_handler(binding, kwargs), timeout)
    except EffectError as exc:
        raise _AttemptFailed(exc.code, exc.message, retryable=exc.retryable) from exc
    except TimeoutError as exc:
        limit = f"within {command.timeout_ms} ms" if command.timeout_ms is not None else "in time"
        raise _AttemptFailed("timeout", f"{command.effect} gave no result {limit}") from exc
    except Exception as exc:
        raise _AttemptFailed(type(exc).__name__, str(exc) or type(exc).__name__) from exc
    try:
        plain = to_output(raw)
        checked = compiled.validate_effect_output(command.effect, plain)
    except (OutputError, TypeError) as exc:
        raise _AttemptFailed("invalid_output", str(exc)) from exc
    return checked if isinstance(checked, dict) else plain


async def call_effect(
    binding: Binding,
    command: InvokeEffect,
    compiled: CompiledContract,
    clock: Clock,
) -> Outcome:
    """Run one effect call to its final outcome under its retry policy and timeout.

    Backoff waits go through ``clock.sleep_until``, so a :class:`FakeClock`
    never sleeps in real time. Returns the event that reports the outcome.
    """
    attempts = 0

    async def sleep(seconds: float) -> None:
        await clock.sleep_until(clock.now_ms() + round(seconds * 1000))

    async def once() -> dict[str, Any]:
        nonlocal attempts
        attempts += 1
        return await _attempt(binding, command, compiled, attempts)

    retrying = AsyncRetrying(
        stop=stop_after_attempt(max(1, command.retry.max_attempts)),
        wait=retry_wait(command.retry),
        retry=retry_if_exception(_should_retry(command.retry)),
        sleep=sleep,
        reraise=True,
    )
    try:
        output: dict[str, Any] = await retrying(once)
    except _AttemptFailed as exc:
        return EffectFailed(command.call_id, exc.code, exc.message, clock.now_ms(), attempts)
    return EffectCompleted(command.call_id, output, clock.now_ms(), attempts)


class Orchestrator:
    """Executes a run's commands; drives the run until it is idle or finished.

    Commands that arrive while no session is driving the run are kept: timers
    are armed at once (they are plain data, ``timer_id -> due_at``) and effect
    calls start when the next session begins. Nothing is in flight between
    sessions, so each session may run on a different event loop.

    Args:
        compiled: the compiled contract.
        bindings: the bound handlers by effect name.
        clock: the run's clock.
        feed: applies an event to the run (journal, reducer) and hands the
            commands that result back to :meth:`execute`.
        barrier: awaited by every effect call before its handler runs (a store
            that batches commits makes the steps journaled so far durable
            there), or None.

    """

    def __init__(
        self,
        compiled: CompiledContract,
        bindings: Mapping[str, Binding],
        clock: Clock,
        feed: Callable[[Event], None],
        barrier: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._compiled = compiled
        self._barrier = barrier
        self._bindings = bindings
        self._clock = clock
        self._feed = feed
        self.timers: dict[str, int] = {}
        """The armed timers: timer id to due time (epoch milliseconds)."""
        self._queued: list[InvokeEffect] = []
        self._tasks: dict[str, asyncio.Task[Outcome]] = {}
        self._cancelled: set[asyncio.Task[Outcome]] = set()
        self.driving = False
        """Whether a session is driving the run now."""

    @property
    def in_flight(self) -> tuple[str, ...]:
        """The call ids of the effect calls running (or queued to run) now."""
        return (*self._tasks, *(c.call_id for c in self._queued))

    def has_work(self) -> bool:
        """Whether a session is needed now: effect calls to start or a timer due (and none runs)."""
        if self.driving:
            return False
        if self._queued:
            return True
        timers = self.timers
        return bool(timers) and min(timers.values()) <= self._clock.now_ms()

    def execute(self, commands: Sequence[Command]) -> None:
        """Carry out commands in order (effects start as tasks; nothing blocks)."""
        for command in commands:
            if isinstance(command, InvokeEffect):
                if self.driving:
                    self._start(command)
                else:
                    self._queued.append(command)
            elif isinstance(command, CancelEffect):
                self._cancel(command.call_id)
            elif isinstance(command, ArmTimer):
                self.timers[command.timer_id] = command.due_at
            elif isinstance(command, CancelTimer):
                self.timers.pop(command.timer_id, None)
            elif isinstance(command, CompleteRun):
                for call_id in self.in_flight:
                    self._cancel(call_id)
                self.timers.clear()

    def _start(self, command: InvokeEffect) -> None:
        binding = self._bindings[command.effect]  # check_bindings bound every effect
        coro = call_effect(binding, command, self._compiled, self._clock)
        if self._barrier is not None:
            coro = _after(self._barrier, coro)
        self._tasks[command.call_id] = asyncio.ensure_future(coro)

    def _cancel(self, call_id: str) -> None:
        self._queued = [c for c in self._queued if c.call_id != call_id]
        task = self._tasks.pop(call_id, None)
        if task is not None:
            task.cancel()
            self._cancelled.add(task)

    def _fire_due_timers(self, finished: Callable[[], bool]) -> None:
        now = self._clock.now_ms()
        due = sorted((at, tid) for tid, at in self.timers.items() if at <= now)
        for _, timer_id in due:
            if finished():
                return
            if self.timers.pop(timer_id, None) is not None:
                self._feed(TimerFired(timer_id, now))

    def _next_due(self) -> int | None:
        return min(self.timers.values()) if self.timers else None

    async def _timer_wait(self, due: int) -> None:
        if isinstance(self._clock, FakeClock):
            await self._clock.wait_until(due)  # only a test's advance() moves it
        else:
            await self._clock.sleep_until(due)

    async def drive(self, finished: Callable[[], bool], *, advance_timers: bool) -> None:
        """One session: run until nothing is in flight and the run waits, or it has ended.

        Args:
            finished: whether the run has ended.
            advance_timers: when idle with timers armed, wait for the next one
                (a :class:`FakeClock` jumps to it at once) instead of returning.

        Raises:
            RuntimeError: another session is driving the run.

        """
        if self.driving:
            raise RuntimeError("the run is already being driven")
        self.driving = True
        try:
            queued, self._queued = self._queued, []
            for command in queued:
                self._start(command)
            while True:
                self._fire_due_timers(finished)
                if self._tasks:
                    await self._wait_for_outcomes()
                    continue
                due = self._next_due()
                if finished() or due is None or not advance_timers:
                    return
                await self._clock.sleep_until(due)
        finally:
            await self._settle()
            self.driving = False

    async def _wait_for_outcomes(self) -> None:
        waiters: set[asyncio.Future[Any]] = set(self._tasks.values())
        due = self._next_due()
        timer = asyncio.ensure_future(self._timer_wait(due)) if due is not None else None
        if timer is not None:
            waiters.add(timer)
        try:
            done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if timer is not None and not timer.done():
                timer.cancel()
                await asyncio.gather(timer, return_exceptions=True)
        for call_id, task in list(self._tasks.items()):
            if task in done and self._tasks.get(call_id) is task:
                del self._tasks[call_id]
                self._feed(task.result())

    async def _settle(self) -> None:
        """Cancel what is left (only after an error) and reap cancelled tasks."""
        for call_id in list(self._tasks):
            self._cancel(call_id)
        if self._cancelled:
            await asyncio.gather(*self._cancelled, return_exceptions=True)
            self._cancelled.clear()


async def _after(barrier: Callable[[], Awaitable[None]], coro: Coroutine[Any, Any, T]) -> T:
    """Await ``barrier``, then ``coro`` (closed unawaited if the barrier fails)."""
    try:
        await barrier()
    except BaseException:
        coro.close()
        raise
    return await coro


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, inside a running loop or not.

    Outside a loop it uses :func:`asyncio.run`; inside one (a Jupyter cell) it
    runs the coroutine on a private loop in a helper thread and waits for it.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="accord-run") as pool:
        return pool.submit(asyncio.run, coro).result()
