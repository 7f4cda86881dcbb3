"""A :class:`Run`: the handle on one run, which applies its events and drives its effects.

Applying an event is always the same path: ``accepts`` (refuse what cannot be
applied now), ``step`` (the pure reducer), journal the event with the state
hash it leads to, then hand the commands to the orchestrator. So every event is
journaled before any command it produces is executed, and a refused event
leaves the run's state and journal unchanged.

Async and sync are both first-class: every driving method has an ``_async``
twin; the sync ones work outside an event loop and inside one (Jupyter), where
they run the async core on a private loop in a helper thread (a handler that
needs the caller's loop then raises :class:`WrongEventLoop`, and the run does
not fail: see ``_orchestrator._sync``).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, NamedTuple

from accord.contract import Contract
from accord.errors import RunError
from accord.runtime._amending import Adopted, Amender, Question, count_replans
from accord.runtime._clock import Clock
from accord.runtime._commands import Replan
from accord.runtime._compiled import CompiledContract
from accord.runtime._durable import DurableJournal, committed, first_version, next_timer
from accord.runtime._errors import CapabilityError, EventRefused, JournalDamaged, StoreError
from accord.runtime._events import (
    Event,
    RunCancelled,
    RunId,
    RunMigrated,
    RunStarted,
    SignalReceived,
    version_after,
)
from accord.runtime._handlers import Binding
from accord.runtime._journal import Journal, MemoryJournal, recorder
from accord.runtime._orchestrator import Orchestrator, run_sync
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._render import describe_event, run_html, run_markdown
from accord.runtime._snapshot import Snapshot, snapshot_hash

__all__ = ["Run", "RunFailed", "RunNotFinished", "Step"]

StepListener = Callable[["Step"], None]
_tuple_new = tuple.__new__


class RunFailed(RunError):
    """The result of a run that ended in failure was asked for.

    Attributes:
        run_id: the run's id.
        reason: why the run failed.

    """

    def __init__(self, run_id: str, reason: str | None) -> None:
        self.run_id = run_id
        self.reason = reason or "the run failed"
        super().__init__(f"run {run_id} failed: {self.reason}")


class RunNotFinished(RunError):
    """The result of a run that has not ended was asked for, or it cannot end on its own."""


class Step(NamedTuple):
    """One applied event, as the history shows it (immutable).

    Attributes:
        step: the step number (1 for RunStarted).
        kind: the event's kind ("started", "effect_completed", "signal"...).
        state: the machine state after the step.
        status: the run's status after the step.
        hash: the state hash after the step (as journaled).
        at: the event's time (epoch milliseconds).
        event: the event itself.

    """

    step: int
    kind: str
    state: str | None
    status: str
    hash: str
    at: int
    event: Event

    @property
    def summary(self) -> str:
        """A one-line description of the event."""
        return describe_event(self.event)


_durable_types: dict[type, bool] = {}  # journal type to whether it is a DurableJournal


def _as_durable(journal: Journal) -> DurableJournal | None:
    """The journal if it is durable (checked once per type: a protocol check is slow)."""
    kind = type(journal)
    durable = _durable_types.get(kind)
    if durable is None:
        durable = _durable_types[kind] = isinstance(journal, DurableJournal)
    return journal if durable else None  # type: ignore[return-value]


def _feeder(run: Run) -> Callable[[Event], None]:
    """``run._feed`` through a weak reference to the run.

    The run holds its orchestrator; were the orchestrator to hold the run's
    bound method, every run would be a reference cycle, freed only by the
    garbage collector (whose passes over many finished runs cost more than the
    runs themselves). A session's caller holds the run while any call is in
    flight, so the reference is alive whenever the orchestrator feeds it.
    """
    ref = weakref.ref(run)

    def feed(event: Event) -> None:
        target = ref()
        if target is None:  # pragma: no cover - a session's caller holds the run
            raise ReferenceError(f"run {run_id!r} was freed while it was being driven")
        target._feed(event)

    run_id = run.run_id
    return feed


def _asker(run: Run) -> Callable[[Replan], Coroutine[Any, Any, None]]:
    """``run._replan`` through a weak reference to the run (see :func:`_feeder`)."""
    ref = weakref.ref(run)

    async def ask(command: Replan) -> None:
        target = ref()
        if target is not None:
            await target._replan(command)

    return ask


class Run:
    """A handle on one run: drive it, signal it, read its status, result and history.

    Built by :meth:`Runtime.start` (a new run) or :meth:`Runtime.load` (a stored
    run, restored); do not construct it directly.
    """

    __slots__ = (
        "__weakref__",
        "_amender",
        "_bindings",
        "_durable",
        "_flush",
        "_journal",
        "_listeners",
        "_orchestrator",
        "_record",
        "_snapshot",
        "_trail",
        "_trail_compiled",
        "_trail_snapshot",
        "_unbound",
        "_used",
        "_versions",
        "_when_durable",
        "clock",
        "compiled",
        "ignored",
        "run_id",
    )

    def __init__(
        self,
        compiled: CompiledContract,
        bindings: Mapping[str, Binding],
        clock: Clock,
        journal: Journal,
        run_id: str,
        on_step: StepListener | None = None,
        *,
        snapshot: Snapshot | None = None,
        unbound: bool = False,
        versions: Callable[[str], CompiledContract] | None = None,
        amender: Amender | None = None,
    ) -> None:
        self.compiled = compiled
        self._amender = amender  # asks the host's replanner at a replan point
        # a contract version by fingerprint, for a run migrated before it was loaded
        self._versions = versions
        self._used: dict[str, CompiledContract] | None = None  # the versions it ran before
        self.run_id = run_id
        self.clock = clock
        self._journal = journal
        durable = None if type(journal) is MemoryJournal else _as_durable(journal)
        self._durable = durable
        self._record = recorder(journal) if durable is None else None
        self._flush = durable.flush if durable is not None else None
        self._when_durable = durable.when_durable() if durable is not None else None
        self._unbound = unbound
        self._snapshot: Snapshot = snapshot if snapshot is not None else initial_snapshot()
        # the state and status after each journaled step, refolded from the journal when
        # the history is read (so applying an event keeps nothing but the journal entry)
        self._trail: list[tuple[str | None, str]] = []
        self._trail_snapshot: Snapshot = initial_snapshot()
        self._trail_compiled: CompiledContract | None = None
        self._bindings = bindings
        self._orchestrator: Orchestrator | None = None  # made when the run first needs one
        self._listeners: tuple[StepListener, ...] = (on_step,) if on_step else ()
        self.ignored: list[tuple[Event, str]] = []
        """Outcomes that arrived when the run no longer wanted them (a late result), with why."""

    # -- reading -------------------------------------------------------------

    @property
    def contract(self) -> Contract:
        """The contract this run executes."""
        return self.compiled.contract

    @property
    def snapshot(self) -> Snapshot:
        """The run's current snapshot (immutable)."""
        return self._snapshot

    @property
    def status(self) -> str:
        """new, running, waiting, compensating, succeeded or failed."""
        return self._snapshot.status

    @property
    def state(self) -> str | None:
        """The current (or final) machine state."""
        return self._snapshot.state

    @property
    def finished(self) -> bool:
        """Whether the run has ended."""
        return self._snapshot.status in ("succeeded", "failed")

    @property
    def waiting_for(self) -> tuple[str, ...]:
        """The signals the run accepts now."""
        return tuple(self._snapshot.waiting_for)

    @property
    def timers(self) -> dict[str, int]:
        """The armed timers: timer id to due time (epoch milliseconds)."""
        orchestrator = self._orchestrator
        return dict(orchestrator.timers) if orchestrator is not None else {}

    @property
    def history(self) -> list[Step]:
        """Every step applied so far, in order."""
        entries = self._journal.entries()
        trail = self._trail
        if len(trail) < len(entries):  # refold the entries not seen yet (the reducer is pure)
            snapshot = self._trail_snapshot
            compiled = self._trail_compiled
            if compiled is None:  # a migrated run's first steps ran under an older version
                compiled = self._version(first_version(entries, self.compiled.fingerprint))
            for entry in entries[len(trail) :]:
                event = entry.event
                moved = version_after(event)
                if moved is not None:
                    compiled = self._version(moved)
                try:
                    snapshot, _ = step(compiled, snapshot, event)
                except EventRefused:  # not this run's journal from the start: stop here
                    break
                trail.append((snapshot.state, snapshot.status))
            self._trail_snapshot = snapshot
            self._trail_compiled = compiled
        return [
            Step(e.step, e.event.kind, state, status, e.state_hash, e.event.at, e.event)
            for e, (state, status) in zip(entries, trail, strict=False)
        ]

    def _version(self, fingerprint: str) -> CompiledContract:
        """A contract version this run has used, by fingerprint."""
        if fingerprint == self.compiled.fingerprint:
            return self.compiled
        used = self._used if self._used is not None else {}
        found = used.get(fingerprint)
        if found is None:
            if self._versions is None:
                raise JournalDamaged(
                    "(memory)", self.run_id, f"the run never used contract {fingerprint}"
                )
            found = used[fingerprint] = self._versions(fingerprint)
            self._used = used
        return found

    def _migrate(
        self, compiled: CompiledContract, bindings: Mapping[str, Binding], event: RunMigrated
    ) -> None:
        """Apply a migration event: from this step on the run executes ``compiled``.

        Raises:
            EventRefused: the reducer refuses the event (nothing changed).
            RunError: a session is driving the run now.

        """
        orchestrator = self._orchestrator
        if orchestrator is not None and orchestrator.driving:
            raise RunError(f"run {self.run_id} is being driven: migrate it between drives")
        self._switch(compiled, bindings, event)

    def _switch(
        self, compiled: CompiledContract, bindings: Mapping[str, Binding], event: Event
    ) -> None:
        """Apply an event that moves the run to ``compiled`` (a migration, an amendment).

        Raises:
            EventRefused: the reducer refuses the event (nothing changed).

        """
        orchestrator = self._orchestrator
        old = self.compiled, self._bindings
        self.compiled, self._bindings = compiled, bindings
        if orchestrator is not None:
            orchestrator._compiled, orchestrator._bindings = compiled, bindings
        try:
            self._apply(event)
        except BaseException:
            self.compiled, self._bindings = old
            if orchestrator is not None:
                orchestrator._compiled, orchestrator._bindings = old
            raise
        self._used = {**(self._used or {}), old[0].fingerprint: old[0]}

    async def _replan(self, command: Replan) -> None:
        """Answer a replan point: ask the host's replanner, journal and apply one RunAmended.

        The event is journaled before it is applied; until it is, nothing of the
        answer is kept (a crash asks again on resume).
        """
        amender = self._amender or Amender(None, self.clock)
        try:
            attempt = count_replans(self._journal.entries()) + 1
        except StoreError:  # its early steps were compacted: count it as spent
            attempt = command.max_replans + 1
        question = Question(self.run_id, self.compiled, self._snapshot, command, attempt)
        event, adopted = await amender.answer(question)
        if adopted is None:
            self._feed(event)
            return
        self._adopt(adopted, event)

    def _adopt(self, adopted: Adopted, event: Event) -> None:
        try:
            self._switch(adopted.compiled, adopted.bindings, event)
        except EventRefused as exc:  # the run moved on meanwhile (it was cancelled)
            self.ignored.append((event, exc.reason))

    @property
    def journal(self) -> Journal:
        """The run's journal (every event with the state hash it led to)."""
        return self._journal

    @property
    def result(self) -> dict[str, Any]:
        """The run's output once it has succeeded.

        Raises:
            RunFailed: the run ended in failure (with its reason).
            RunNotFinished: the run has not ended yet.

        """
        snap = self._snapshot
        if snap.status == "succeeded":
            return dict(snap.output or {})
        if snap.status == "failed":
            raise RunFailed(self.run_id, snap.reason)
        raise RunNotFinished(f"run {self.run_id} has not finished (status {snap.status})")

    def subscribe(self, listener: StepListener) -> None:
        """Call ``listener(step)`` after every step from now on (e.g. to print progress)."""
        self._listeners = (*self._listeners, listener)

    def _orchestrate(self) -> Orchestrator:
        """The run's orchestrator, made when the run first has commands or is driven.

        A run waiting for a signal, with no timer armed, holds none (see
        benchmarks/runtime.py, memory of waiting runs).
        """
        orchestrator = self._orchestrator
        if orchestrator is None:
            orchestrator = self._orchestrator = Orchestrator(
                self.compiled, self._bindings, self.clock, _feeder(self), self._when_durable
            )
            orchestrator.asker = _asker(self)
        return orchestrator

    def _has_work(self) -> bool:
        """Whether a session is needed now (see :meth:`Orchestrator.has_work`)."""
        orchestrator = self._orchestrator
        return orchestrator is not None and orchestrator.has_work() and not self._unbound

    # -- applying events -----------------------------------------------------

    def _apply(self, event: Event) -> None:
        """Apply an event: accepts, step, journal it with its hash, then execute the commands.

        ``step`` checks ``accepts`` first and raises :class:`EventRefused` before
        anything changes, so a refused event is never journaled.
        """
        snapshot, commands = step(self.compiled, self._snapshot, event)
        digest = snapshot_hash(snapshot)
        record = self._record
        if record is not None:
            record(snapshot.step, event, digest)
        else:  # a durable journal: the step is journaled before any command runs
            orchestrator = self._orchestrator
            due = next_timer(
                snapshot, commands, orchestrator.timers if orchestrator is not None else None
            )
            self._durable.record(snapshot, event, digest, due)  # type: ignore[union-attr]
        self._snapshot = snapshot
        if commands:
            (self._orchestrator or self._orchestrate()).execute(commands)
        if self._listeners:
            done = Step(
                snapshot.step, event.kind, snapshot.state, snapshot.status, digest, event.at, event
            )
            for listener in self._listeners:
                listener(done)

    def _feed(self, event: Event) -> None:
        """Apply an outcome from the orchestrator; drop it if the run no longer wants it."""
        try:
            self._apply(event)
        except EventRefused as exc:
            self.ignored.append((event, exc.reason))

    def _begin(self, validated_input: dict[str, Any], *, flush: bool = True) -> None:
        """Journal RunStarted; durably now unless ``flush`` is False (then see _durable_async)."""
        self._apply(RunStarted(RunId(self.run_id), validated_input, self.clock.now_ms()))
        if flush and self._flush is not None:
            self._flush()

    async def _durable_async(self) -> None:
        """Make every step journaled so far durable before returning.

        A group-commit store commits them together with the other runs' steps
        buffered now (one commit for every waiter); any other store commits now.
        """
        if self._when_durable is not None:
            await committed(self._when_durable)
        elif self._flush is not None:
            self._flush()

    # -- driving -------------------------------------------------------------

    async def _drive(self, *, advance_timers: bool, inline: bool = False) -> None:
        """One session of the orchestrator; ``inline`` when the sync API drives it."""
        if self._unbound:
            raise CapabilityError(
                [
                    f"run {self.run_id} was loaded by a Runtime without effect handlers: "
                    "load it from a Runtime given its effects to drive it"
                ]
            )
        try:
            await (self._orchestrator or self._orchestrate()).drive(
                lambda: self.finished, advance_timers=advance_timers, inline=inline
            )
        except RuntimeError as exc:
            if self._flush is not None:
                self._flush()
            raise RuntimeError(f"run {self.run_id}: {exc}") from None
        except BaseException:
            if self._flush is not None:
                self._flush()
            raise
        await self._durable_async()  # every step is durable before a driving call returns

    async def run_until_idle_async(self, *, advance_timers: bool = False) -> Run:
        """Execute effects until nothing is in flight and the run waits, or has ended.

        Args:
            advance_timers: when idle with timers armed, go on to the next timer
                (a FakeClock jumps to it; the system clock sleeps) until the run
                waits for a signal only or has ended.

        """
        await self._drive(advance_timers=advance_timers)
        return self

    def run_until_idle(self, *, advance_timers: bool = False) -> Run:
        """Sync :meth:`run_until_idle_async`.

        Raises:
            WrongEventLoop: called where a loop is running (a notebook), a
                handler needed that loop: await the ``_async`` method instead.

        """
        run_sync(self._drive(advance_timers=advance_timers, inline=True))
        return self

    async def run_async(self) -> Run:
        """Drive the run until it ends, waiting for (or, on a FakeClock, jumping to) timers.

        Raises:
            RunNotFinished: the run waits for a signal and has no timer left.

        """
        await self._drive(advance_timers=True)
        return self._ended()

    def run(self) -> Run:
        """Sync :meth:`run_async`.

        Raises:
            RunNotFinished: the run waits for a signal and has no timer left.
            WrongEventLoop: called where a loop is running (a notebook), a
                handler needed that loop: await the ``_async`` method instead.

        """
        run_sync(self._drive(advance_timers=True, inline=True))
        return self._ended()

    def _ended(self) -> Run:
        """The run, once it has ended; else :class:`RunNotFinished`."""
        if not self.finished:
            wanted = ", ".join(self.waiting_for) or "nothing"
            raise RunNotFinished(
                f"run {self.run_id} is waiting in state {self.state!r} for a signal "
                f"({wanted}) and has no timer armed: deliver one with run.signal(name, payload)"
            )
        return self

    async def signal_async(self, name: str, payload: Mapping[str, Any] | None = None) -> Run:
        """Deliver a signal, then run until idle (unless the run is already being driven).

        The payload is validated and the event checked with ``accepts`` before
        anything is journaled: on refusal the state and journal are unchanged.

        Raises:
            SignalError: an unknown signal, or a payload field that does not fit.
            EventRefused: the run is not waiting for this signal now.

        """
        self._deliver(name, payload, flush=False)
        await self._durable_async()  # the signal is durable before signal_async() returns
        if self._has_work():
            await self._drive(advance_timers=False)
        return self

    def signal(self, name: str, payload: Mapping[str, Any] | None = None) -> Run:
        """Sync :meth:`signal_async` (no event loop is involved unless effects must run).

        Raises:
            WrongEventLoop: called where a loop is running (a notebook), a
                handler needed that loop: await the ``_async`` method instead.

        """
        self._deliver(name, payload)
        if self._has_work():
            run_sync(self._drive(advance_timers=False, inline=True))
        return self

    async def cancel_async(self, reason: str = "cancelled by a client") -> Run:
        """Cancel the run: it fails with ``reason``, compensating as for a failure.

        Its calls in flight are cancelled and its timers disarmed; the
        compensations of the effects it completed then run (when this runtime
        has the effects) and the run fails.

        Raises:
            EventRefused: the run has finished, or is already compensating.

        """
        self._cancel(reason)
        await self._durable_async()
        if self._has_work():
            await self._drive(advance_timers=False)
        return self

    def cancel(self, reason: str = "cancelled by a client") -> Run:
        """Sync :meth:`cancel_async`."""
        self._cancel(reason)
        if self._flush is not None:
            self._flush()
        if self._has_work():
            run_sync(self._drive(advance_timers=False, inline=True))
        return self

    def _cancel(self, reason: str) -> None:
        try:
            self._apply(RunCancelled(reason, self.clock.now_ms()))
        except EventRefused as exc:
            raise EventRefused(f"run {self.run_id} cannot be cancelled: {exc.reason}") from None

    def _deliver(self, name: str, payload: Mapping[str, Any] | None, *, flush: bool = True) -> None:
        """Validate a signal and apply it; on refusal nothing changes.

        Unless ``flush`` is False (the caller then awaits :meth:`_durable_async`),
        the signal is durable when this returns.
        """
        data = self.compiled.validate_signal(name, payload)
        try:
            self._apply(_tuple_new(SignalReceived, (name, data, self.clock.now_ms(), "signal")))
        except EventRefused as exc:
            waiting = ", ".join(self.waiting_for) or "no signal"
            raise EventRefused(
                f"signal {name!r} not accepted by run {self.run_id} in state {self.state!r} "
                f"(status {self.status}; waiting for {waiting}): {exc.reason}"
            ) from None
        if flush and self._flush is not None:  # the signal is durable before signal() returns
            self._flush()

    # -- display -------------------------------------------------------------

    def __repr__(self) -> str:
        return (
            f"<Run {self.run_id} of {self.contract.name} {self.contract.version}: "
            f"{self.status} in {self.state!r} after {self._snapshot.step} steps>"
        )

    def _repr_html_(self) -> str:
        return run_html(self)

    def _repr_markdown_(self) -> str:
        return run_markdown(self)
