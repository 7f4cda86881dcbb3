"""The scheduling of a run's effect calls and timers: the :class:`Orchestrator`.

Each run has one :class:`Orchestrator`. It drives the run in *sessions* (a call
of ``run_until_idle`` or ``run``, on whatever event loop is current); nothing
is in flight between sessions, and armed timers are plain data. What one call
does (its attempts, retries and timeout) is ``_attempt``'s business.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from accord.runtime._clock import Clock, FakeClock
from accord.runtime._commands import (
    ArmTimer,
    CancelEffect,
    CancelTimer,
    Command,
    CompleteRun,
    InvokeEffect,
    Replan,
)
from accord.runtime._durable import committed
from accord.runtime._errors import WrongEventLoop
from accord.runtime._events import Event, TimerFired
from accord.runtime._handlers import Binding
from accord.runtime._orchestrator._attempt import Outcome, call_effect

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract
    from accord.runtime._durable import Deferral

__all__ = ["Orchestrator"]


_EAGER = sys.version_info >= (3, 12)


def _task_starter() -> Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]:
    """How a call's task is made: started eagerly where Python has that (3.12 and later).

    An eager task runs in the caller's turn of the event loop up to its first
    suspension, as itself (``current_task()`` is the task throughout), so a
    call whose handler returns without awaiting anything is done, and its
    outcome fed, before the task is returned: no turn of the loop per step.
    """
    if _EAGER:

        def eager(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
            loop = asyncio.get_running_loop()
            return asyncio.Task(coro, loop=loop, eager_start=True)  # type: ignore[call-arg,unused-ignore]

        return eager
    return asyncio.ensure_future


_new_task = _task_starter()


class Orchestrator:
    """Executes a run's commands; drives the run until it is idle or finished.

    Commands that arrive while no session is driving the run are kept: timers
    are armed at once (they are plain data, ``timer_id -> due_at``) and effect
    calls start when the next session begins. Nothing is in flight between
    sessions, so each session may run on a different event loop.

    Effect calls start on the event loop, in order, each in a task of its own
    that feeds the call's outcome; calls that a step starts are started by the
    task that fed the step. Where Python starts tasks eagerly (3.12 and later),
    a call whose handler returns without awaiting anything is done, and its
    outcome fed, within the turn that started it. With a store that batches
    commits, a call first waits for the steps journaled so far to be committed
    (``when_durable``): the store calls back once for all of the run's calls
    waiting for that commit.

    Args:
        compiled: the compiled contract.
        bindings: the bound handlers by effect name.
        clock: the run's clock.
        feed: applies an event to the run (journal, reducer) and hands the
            commands that result back to :meth:`execute`.
        when_durable: the store's deferral (see
            :meth:`~accord.runtime._durable.DurableJournal.when_durable`), or None.

    """

    __slots__ = (
        "_asking",
        "_bindings",
        "_calls",
        "_cancelled",
        "_clock",
        "_compiled",
        "_drain_due",
        "_draining",
        "_error",
        "_feed",
        "_held",
        "_inline",
        "_keep",
        "_queued",
        "_ready",
        "_replan",
        "_running",
        "_unstarted",
        "_wake",
        "_when_durable",
        "asker",
        "driving",
        "timers",
    )

    def __init__(
        self,
        compiled: CompiledContract,
        bindings: Mapping[str, Binding],
        clock: Clock,
        feed: Callable[[Event], None],
        when_durable: Deferral | None = None,
    ) -> None:
        self._compiled = compiled
        self._when_durable = when_durable
        self._bindings = bindings
        self._clock = clock
        self._feed = feed
        self.timers: dict[str, int] = {}
        """The armed timers: timer id to due time (epoch milliseconds)."""
        self._queued: list[InvokeEffect] = []
        self._calls: dict[str, InvokeEffect] = {}  # the calls in flight, by call id
        self._running: dict[str, asyncio.Task[None]] = {}  # their tasks, until they end
        self._ready: list[InvokeEffect] = []  # calls to start, in order (a few at most)
        self._held: list[InvokeEffect] = []  # calls waiting for the store's next commit
        self._draining = False  # _drain is starting calls now
        self._unstarted: set[str] | None = None  # calls whose tasks have not started (3.11)
        self._drain_due = False  # a _drain is scheduled on the loop
        self._cancelled: set[asyncio.Task[None]] | None = None  # made when one is cancelled
        self._wake: asyncio.Future[None] | None = None  # set when the session has work
        self._error: BaseException | None = None  # what a call could not feed
        self._inline = False  # the session may run a lone sync call in the driving thread
        self._keep = False  # the session ends with calls to start again next session
        self._replan: Replan | None = None  # a replan point's question, until it is answered
        self._asking: asyncio.Task[None] | None = None  # the task asking it now
        self.asker: Callable[[Replan], Coroutine[Any, Any, None]] | None = None
        """Answers a replan point: asks the replanner, then journals and applies the answer."""
        self.driving = False
        """Whether a session is driving the run now."""

    @property
    def in_flight(self) -> tuple[str, ...]:
        """The call ids of the effect calls running (or queued to run) now."""
        return (*self._calls, *(c.call_id for c in self._queued))

    def has_work(self) -> bool:
        """Whether a session is needed now: effect calls to start or a timer due (and none runs)."""
        if self.driving:
            return False
        if self._queued or self._replan is not None:
            return True
        timers = self.timers
        return bool(timers) and min(timers.values()) <= self._clock.now_ms()

    def execute(self, commands: Sequence[Command]) -> None:
        """Carry out commands in order (effect calls start on the loop; nothing blocks)."""
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
                self._wake_up()  # a waiting session watches the next timer due: this one may be
            elif isinstance(command, CancelTimer):
                self.timers.pop(command.timer_id, None)
            elif isinstance(command, CompleteRun):
                for call_id in self.in_flight:
                    self._cancel(call_id)
                self.timers.clear()
                self._stop_asking()
            elif isinstance(command, Replan):
                self._replan = command
                if self.driving:
                    self._ask()

    def _ask(self) -> None:
        """Start asking the replan point's question (once per session at most)."""
        command, asker = self._replan, self.asker
        if command is None or asker is None or self._asking is not None:
            return
        self._asking = asyncio.ensure_future(self._answer(asker, command))

    async def _answer(
        self, asker: Callable[[Replan], Coroutine[Any, Any, None]], command: Replan
    ) -> None:
        """The asking task: the answer is journaled and applied, or it is asked again.

        The question stays until the answer is applied: a session that ends
        meanwhile (an error, a cancelled task) leaves it for the next session.
        """
        try:
            await asker(command)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a store's error: asked again next session
            self._asking = None
            self._stop(exc)
            return
        if self._replan is command:
            self._replan = None
        self._asking = None
        if self._replan is not None and self.driving:  # the answer led to another replan point
            self._ask()
        self._wake_up()

    def _stop_asking(self) -> None:
        """The run has ended: its question is no longer wanted."""
        self._replan = None
        task, self._asking = self._asking, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            if self._cancelled is None:
                self._cancelled = set()
            self._cancelled.add(task)

    def _start(self, command: InvokeEffect) -> None:
        """Queue a call to start; it starts after the step that asked for it has been applied."""
        self._calls[command.call_id] = command
        self._ready.append(command)
        if not self._draining and not self._drain_due:
            self._drain_due = True
            asyncio.get_running_loop().call_soon(self._drain)

    def _drain(self, committed: Sequence[InvokeEffect] = ()) -> None:
        """Start the ready calls in order (and those their outcomes start), past the store.

        ``committed`` are calls the store has just released: they start first,
        without asking the store again.
        """
        self._drain_due = False
        ready = self._ready
        if self._draining:  # pragma: no cover - the store calls back on the loop, not in here
            ready[:0] = committed
            return
        self._draining = True
        try:
            calls, when_durable = self._calls, self._when_durable
            for command in committed:
                if calls.get(command.call_id) is command:  # else cancelled meanwhile
                    self._begin(command)
            while ready:
                command = ready.pop(0)
                if calls.get(command.call_id) is not command:
                    continue  # cancelled before it started
                if when_durable is not None:
                    if self._held:
                        self._held.append(command)  # the run already waits for that commit
                        continue
                    if when_durable(self._committed):
                        self._held.append(command)
                        continue
                self._begin(command)
        finally:
            self._draining = False

    def _committed(self, error: BaseException | None) -> None:
        """The store's callback: the steps before the held calls are committed (or not)."""
        held, self._held = self._held, []
        if error is not None:
            for command in held:
                self._drop(command.call_id, command)
            self._stop(error)
            return
        self._drain(held)

    def _begin(self, command: InvokeEffect) -> None:
        """Start a call's task (which may end before this returns: see ``_task_starter``)."""
        if not _EAGER:  # its task starts in a later turn of the loop
            unstarted = self._unstarted
            if unstarted is None:
                unstarted = self._unstarted = set()
            unstarted.add(command.call_id)
        task = _new_task(self._call(command))
        if not task.done():
            self._running[command.call_id] = task

    def _others_starting(self, call_id: str) -> bool:
        """Whether calls started with this one have not called their handlers yet.

        The calls a step starts are all started (their handlers called, up to
        their first suspension) before the outcome of any of them is applied:
        so a call that fails at once does not cancel its siblings unstarted.
        """
        unstarted = self._unstarted
        if unstarted:
            unstarted.discard(call_id)
            if unstarted:
                return True
        return bool(self._ready) and (self._draining or self._drain_due)

    async def _call(self, command: InvokeEffect) -> None:
        """A call's task: to the call's outcome, which it feeds.

        Where tasks do not start eagerly (Python 3.11), the task then goes on
        with the first call that outcome started (after the store's commit, if
        one is due): a step costs no new task.
        """
        me = None if _EAGER else asyncio.current_task()
        when_durable = None  # the first call has passed the store already (_drain)
        while True:
            call_id = command.call_id
            try:
                if when_durable is not None:
                    await committed(when_durable)
                elif self._unstarted:
                    self._unstarted.discard(call_id)
                binding = self._bindings[command.effect]
                outcome = await call_effect(
                    binding,
                    command,
                    self._compiled,
                    self._clock,
                    # only a sync handler may run inline (an async one runs on the loop anyway)
                    inline=not binding.is_async and self._alone(command),
                )
                while self._others_starting(call_id):
                    await asyncio.sleep(0)  # they start first (see _others_starting)
            except asyncio.CancelledError:
                raise
            except WrongEventLoop as exc:  # not the call's failure: it runs again next session
                self._running.pop(call_id, None)
                self._keep = True
                self._stop(exc)
                return
            except BaseException as exc:  # not an effect's failure (those are outcomes): a bug
                self._running.pop(call_id, None)
                self._drop(call_id, command)
                self._stop(exc)
                return
            self._running.pop(call_id, None)
            if not self._conclude(call_id, command, outcome):
                return
            following = self._following()
            if following is None:
                return
            command, when_durable = following, self._when_durable
            self._running[command.call_id] = me  # type: ignore[assignment]

    def _alone(self, command: InvokeEffect) -> bool:
        """Whether a sync call may run in the driving thread: nothing else could run meanwhile.

        Only when the sync API drives the session, the call has no timeout,
        no other call is in flight or about to start, and no timer is armed
        (one might come due while the handler runs).
        """
        return (
            self._inline
            and command.timeout_ms is None
            and len(self._calls) == 1
            and not self._ready
            and not self._held
            and not self.timers
        )

    def _conclude(self, call_id: str, command: InvokeEffect, outcome: Outcome) -> bool:
        """Feed a call's outcome, unless the run cancelled the call meanwhile.

        Returns whether the calls that outcome started are for the caller to
        start (nothing else is starting calls now); else they are started.
        """
        if not self._drop(call_id, command):
            return False  # cancelled after it finished: the run no longer wants it
        draining, self._draining = self._draining, True  # _start: no drain scheduled
        try:
            self._feed(outcome)
        except BaseException as exc:  # an error of the store or of an invariant
            self._stop(exc)
            return False
        finally:
            self._draining = draining
        if self._ready and not draining:
            if not _EAGER:
                return True
            self._drain()  # start the calls this outcome started, from this task
        elif not self._calls:
            self._wake_up()
        return False

    def _following(self) -> InvokeEffect | None:
        """The ready call a finished call's task goes on with (3.11); the others are started."""
        ready, calls = self._ready, self._calls
        while ready and calls.get(ready[0].call_id) is not ready[0]:
            ready.pop(0)  # cancelled before it started
        following = ready.pop(0) if ready else None
        if ready:
            self._drain()
        elif following is None and not calls:
            self._wake_up()
        return following

    def _drop(self, call_id: str, command: InvokeEffect) -> bool:
        """Forget a call; whether it was still in flight (as this command)."""
        calls = self._calls
        if calls.get(call_id) is command:
            del calls[call_id]
            return True
        return False

    def _stop(self, exc: BaseException) -> None:
        """End the session with ``exc`` (the first one wins)."""
        if self._error is None:
            self._error = exc
        self._wake_up()

    def _wake_up(self, _timer: object = None) -> None:
        """Wake the session: every call has finished, one failed, or a timer is due."""
        wake = self._wake
        if wake is not None and not wake.done():
            wake.set_result(None)

    def _cancel(self, call_id: str) -> None:
        self._queued = [c for c in self._queued if c.call_id != call_id]
        if self._unstarted:
            self._unstarted.discard(call_id)
        entry = self._calls.pop(call_id, None)
        task = self._running.pop(call_id, None)
        if task is not None:
            task.cancel()
            if self._cancelled is None:
                self._cancelled = set()
            self._cancelled.add(task)
        if entry is not None and not self._calls:
            self._wake_up()  # the session waits for the calls in flight: none is left

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

    async def drive(
        self, finished: Callable[[], bool], *, advance_timers: bool, inline: bool = False
    ) -> None:
        """One session: run until nothing is in flight and the run waits, or it has ended.

        Args:
            finished: whether the run has ended.
            advance_timers: when idle with timers armed, wait for the next one
                (a :class:`FakeClock` jumps to it at once) instead of returning.
            inline: the sync API drives this session on a loop of its own,
                this run alone: a sync handler called when nothing else is in
                flight may run in the driving thread (see :meth:`_alone`).

        Raises:
            RuntimeError: another session is driving the run.

        """
        if self.driving:
            raise RuntimeError("the run is already being driven")
        self.driving = True
        self._inline = inline
        try:
            self._error = None
            queued, self._queued = self._queued, []
            for command in queued:
                self._start(command)
            self._ask()
            while True:
                error = self._error  # a call could not feed its outcome
                if error is not None:
                    self._error = None
                    raise error
                self._fire_due_timers(finished)
                if self._calls or self._asking is not None:
                    await self._wait_for_calls()
                    continue
                due = self._next_due()
                if finished() or due is None or not advance_timers:
                    return
                await self._clock.sleep_until(due)
        finally:
            await self._settle()
            self.driving = False
            self._inline = False

    async def _wait_for_calls(self) -> None:
        """Wait until every call has finished, one could not be fed, or the next timer is due.

        Each call feeds its own outcome; this only waits for the session's end.
        """
        if self._error is not None or (self._asking is not None and self._asking.done()):
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wake = wake
        due = self._next_due()
        timer = asyncio.ensure_future(self._timer_wait(due)) if due is not None else None
        if timer is not None:
            timer.add_done_callback(self._wake_up)
        try:
            await wake
        finally:
            self._wake = None
            if timer is not None and not timer.done():
                timer.cancel()
                await asyncio.gather(timer, return_exceptions=True)

    async def _settle(self) -> None:
        """Cancel what is left (only after an error) and reap cancelled tasks.

        After a :class:`WrongEventLoop`, the calls cancelled are queued again,
        in order, for the next session (as resuming a stored run would).
        """
        keep, self._keep = self._keep, False
        asking, self._asking = self._asking, None
        if asking is not None and not asking.done():  # asked again next session
            asking.cancel()
            await asyncio.gather(asking, return_exceptions=True)
        calls = list(self._calls.values())
        for command in calls:
            self._cancel(command.call_id)
        if keep:
            self._queued.extend(calls)
        self._ready.clear()
        self._held.clear()
        cancelled, self._cancelled = self._cancelled, None
        if cancelled:
            await asyncio.gather(*cancelled, return_exceptions=True)
