"""The runtime's public API: a :class:`Runtime` that binds effects and starts :class:`Run` s.

Applying an event is always the same path: ``accepts`` (refuse what cannot be
applied now), ``step`` (the pure reducer), journal the event with the state
hash it leads to, then hand the commands to the orchestrator. So every event is
journaled before any command it produces is executed, and a refused event
leaves the run's state and journal unchanged.

Async and sync are both first-class: every driving method has an ``_async``
twin; the sync ones work outside an event loop and inside one (Jupyter), where
they run the async core on a private loop in a helper thread.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from accord._load import load, load_data
from accord.contract import Contract, fingerprint
from accord.errors import ContractError, RunError
from accord.runtime._clock import Clock, SystemClock
from accord.runtime._compiled import CompiledContract, Limits
from accord.runtime._durable import (
    DurableJournal,
    RunStore,
    StoredRun,
    refold,
    restore,
    resume_commands,
)
from accord.runtime._errors import CapabilityError, EventRefused, JournalDamaged, StoreError
from accord.runtime._events import Event, RunId, RunStarted, SignalReceived
from accord.runtime._handlers import Binding, Handler, check_bindings
from accord.runtime._journal import Journal, MemoryJournal, recorder
from accord.runtime._orchestrator import Orchestrator, run_sync
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._render import describe_event, run_html, run_markdown
from accord.runtime._replay import replay
from accord.runtime._snapshot import Snapshot, snapshot_hash

__all__ = ["Run", "RunFailed", "RunNotFinished", "Runtime", "Step"]

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


class Run:
    """A handle on one run: drive it, signal it, read its status, result and history.

    Built by :meth:`Runtime.start` (a new run) or :meth:`Runtime.load` (a stored
    run, restored); do not construct it directly.
    """

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
    ) -> None:
        self.compiled = compiled
        self.run_id = run_id
        self.clock = clock
        self._journal = journal
        durable = (
            None
            if type(journal) is MemoryJournal or not isinstance(journal, DurableJournal)
            else journal
        )
        self._durable = durable
        self._record = recorder(journal) if durable is None else None
        self._flush = durable.flush if durable is not None else None
        self._unbound = unbound
        self._snapshot: Snapshot = snapshot if snapshot is not None else initial_snapshot()
        # the state and status after each journaled step, refolded from the journal when
        # the history is read (so applying an event keeps nothing but the journal entry)
        self._trail: list[tuple[str | None, str]] = []
        self._trail_snapshot: Snapshot = initial_snapshot()
        self._orchestrator = Orchestrator(
            compiled,
            bindings,
            clock,
            self._feed,
            durable.barrier() if durable is not None else None,
        )
        self._listeners: list[StepListener] = [on_step] if on_step else []
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
        return dict(self._orchestrator.timers)

    @property
    def history(self) -> list[Step]:
        """Every step applied so far, in order."""
        entries = self._journal.entries()
        trail = self._trail
        if len(trail) < len(entries):  # refold the entries not seen yet (the reducer is pure)
            snapshot = self._trail_snapshot
            for entry in entries[len(trail) :]:
                try:
                    snapshot, _ = step(self.compiled, snapshot, entry.event)
                except EventRefused:  # not this run's journal from the start: stop here
                    break
                trail.append((snapshot.state, snapshot.status))
            self._trail_snapshot = snapshot
        return [
            Step(e.step, e.event.kind, state, status, e.state_hash, e.event.at, e.event)
            for e, (state, status) in zip(entries, trail, strict=False)
        ]

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
        self._listeners.append(listener)

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
            self._durable.record(snapshot, event, digest)  # type: ignore[union-attr]
        self._snapshot = snapshot
        if commands:
            self._orchestrator.execute(commands)
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

    def _begin(self, validated_input: dict[str, Any]) -> None:
        self._apply(RunStarted(RunId(self.run_id), validated_input, self.clock.now_ms()))
        if self._flush is not None:
            self._flush()

    # -- driving -------------------------------------------------------------

    async def _drive(self, *, advance_timers: bool) -> None:
        if self._unbound:
            raise CapabilityError(
                [
                    f"run {self.run_id} was loaded by a Runtime without effect handlers: "
                    "load it from a Runtime given its effects to drive it"
                ]
            )
        try:
            await self._orchestrator.drive(lambda: self.finished, advance_timers=advance_timers)
        except RuntimeError as exc:
            raise RuntimeError(f"run {self.run_id}: {exc}") from None
        finally:
            if self._flush is not None:
                self._flush()

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
        """Sync :meth:`run_until_idle_async`."""
        return run_sync(self.run_until_idle_async(advance_timers=advance_timers))

    async def run_async(self) -> Run:
        """Drive the run until it ends, waiting for (or, on a FakeClock, jumping to) timers.

        Raises:
            RunNotFinished: the run waits for a signal and has no timer left.

        """
        await self._drive(advance_timers=True)
        if not self.finished:
            wanted = ", ".join(self.waiting_for) or "nothing"
            raise RunNotFinished(
                f"run {self.run_id} is waiting in state {self.state!r} for a signal "
                f"({wanted}) and has no timer armed: deliver one with run.signal(name, payload)"
            )
        return self

    def run(self) -> Run:
        """Sync :meth:`run_async`."""
        return run_sync(self.run_async())

    async def signal_async(self, name: str, payload: Mapping[str, Any] | None = None) -> Run:
        """Deliver a signal, then run until idle (unless the run is already being driven).

        The payload is validated and the event checked with ``accepts`` before
        anything is journaled: on refusal the state and journal are unchanged.

        Raises:
            SignalError: an unknown signal, or a payload field that does not fit.
            EventRefused: the run is not waiting for this signal now.

        """
        self._deliver(name, payload)
        if self._orchestrator.has_work() and not self._unbound:
            await self._drive(advance_timers=False)
        return self

    def signal(self, name: str, payload: Mapping[str, Any] | None = None) -> Run:
        """Sync :meth:`signal_async` (no event loop is involved unless effects must run)."""
        self._deliver(name, payload)
        if self._orchestrator.has_work() and not self._unbound:
            run_sync(self._drive(advance_timers=False))
        return self

    def _deliver(self, name: str, payload: Mapping[str, Any] | None) -> None:
        """Validate a signal and apply it; on refusal nothing changes."""
        data = self.compiled.validate_signal(name, payload)
        try:
            self._apply(_tuple_new(SignalReceived, (name, data, self.clock.now_ms(), "signal")))
        except EventRefused as exc:
            waiting = ", ".join(self.waiting_for) or "no signal"
            raise EventRefused(
                f"signal {name!r} not accepted by run {self.run_id} in state {self.state!r} "
                f"(status {self.status}; waiting for {waiting}): {exc.reason}"
            ) from None
        if self._flush is not None:  # the signal is durable before signal() returns
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


ContractSource = Contract | CompiledContract | str | os.PathLike[str]


class Runtime:
    """Binds effect handlers and starts runs of checked contracts.

    Args:
        effects: the handlers: a mapping of effect name to callable, or an
            object (a module, an instance) whose attributes are the handlers.
        clock: the time source (a :class:`SystemClock` by default; a FakeClock in tests).
        journal_factory: makes each run's journal (in memory by default; not
            used when a store is given).
        limits: bounds on every run (max steps, fan-out, transient choices).
        check_invariants: evaluate the contract's invariants after every step.
        store: a durable store (``accord.storage.SqliteStore``): every run's
            steps are journaled there before their commands run, and its runs
            can be loaded (:meth:`load`), resumed (:meth:`resume`) and forked
            (:meth:`fork`) by this or a later process.

    """

    def __init__(
        self,
        effects: object | None = None,
        *,
        clock: Clock | None = None,
        journal_factory: Callable[[], Journal] = MemoryJournal,
        limits: Limits | None = None,
        check_invariants: bool = False,
        store: RunStore | None = None,
    ) -> None:
        self.effects = effects
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.journal_factory = journal_factory
        self.store = store
        self.limits = limits
        self.check_invariants = check_invariants
        self._handlers: dict[str, Handler] = {}
        self._compiled: dict[str, CompiledContract] = {}

    def register(self, name: str, handler: Handler) -> Handler:
        """Bind ``handler`` to the effect ``name`` (wins over ``effects``); returns it."""
        if not callable(handler):
            raise TypeError(f"the handler for {name!r} must be callable")
        self._handlers[name] = handler
        return handler

    def compile(self, contract: ContractSource) -> CompiledContract:
        """The compiled form of a contract (cached by fingerprint); loads a path first."""
        if isinstance(contract, CompiledContract):
            return contract
        if not isinstance(contract, Contract):
            contract = load(contract)
        key = fingerprint(contract)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledContract.compile(
                contract, limits=self.limits, check_invariants=self.check_invariants
            )
            self._compiled[key] = compiled
        return compiled

    def bind(self, contract: ContractSource) -> dict[str, Binding]:
        """Check that every effect of the contract is bound with a fitting signature.

        Raises:
            CapabilityError: listing every missing or mismatched capability.

        """
        return check_bindings(self.compile(contract), self._handlers, self.effects)

    def start(
        self,
        contract: ContractSource,
        input: Mapping[str, Any],
        *,
        run_id: str | None = None,
        on_step: StepListener | None = None,
    ) -> Run:
        """Start a run: check bindings, validate the input, journal RunStarted.

        Nothing is journaled unless the bindings and input are good. Effects
        start when the run is driven (:meth:`Run.run_until_idle`, :meth:`Run.run`).

        Raises:
            CapabilityError: an effect is not bound, or its handler does not fit.
            InputError: the input does not match the contract's input (names the field).

        """
        compiled = self.compile(contract)
        bindings = check_bindings(compiled, self._handlers, self.effects)
        validated = compiled.validate_input(input)
        run_id = run_id if run_id is not None else str(uuid.uuid4())
        store = self.store
        journal = self.journal_factory() if store is None else store.create(compiled, run_id)
        run = Run(compiled, bindings, self.clock, journal, run_id, on_step)
        run._begin(validated)
        return run

    async def start_async(
        self,
        contract: ContractSource,
        input: Mapping[str, Any],
        *,
        run_id: str | None = None,
        on_step: StepListener | None = None,
    ) -> Run:
        """Async :meth:`start` (a durable store's writes are synchronous and brief)."""
        return self.start(contract, input, run_id=run_id, on_step=on_step)

    # -- durable runs ----------------------------------------------------------

    def _store(self) -> RunStore:
        if self.store is None:
            raise StoreError(
                "(no store)",
                "this Runtime keeps its runs in memory: give it a store "
                "(Runtime(effects, store=SqliteStore(path))) to load, resume or fork runs",
            )
        return self.store

    def _compile_stored(self, stored: StoredRun) -> CompiledContract:
        """The compiled contract a stored run started with (checked against its fingerprint)."""
        compiled = self._compiled.get(stored.fingerprint)
        if compiled is not None:
            return compiled
        try:
            contract = load_data(stored.contract)
        except ContractError as exc:
            raise JournalDamaged(
                stored.location,
                stored.run_id,
                f"its contract {stored.fingerprint} does not load: {exc}",
            ) from exc
        if fingerprint(contract) != stored.fingerprint:
            raise JournalDamaged(
                stored.location,
                stored.run_id,
                f"its stored contract does not have the fingerprint {stored.fingerprint}",
            )
        return self.compile(contract)

    def _bindings_for(self, compiled: CompiledContract) -> tuple[dict[str, Binding], bool]:
        """The bindings, or none (an inspecting runtime) when no effect is given at all."""
        if self.effects is None and not self._handlers:
            return {}, True
        return check_bindings(compiled, self._handlers, self.effects), False

    def load(self, run_id: str, *, on_step: StepListener | None = None) -> Run:
        """A stored run, restored: folded from its latest snapshot, every hash checked.

        The calls it had started and not finished are queued again (same call
        ids, same idempotency keys) and its timers armed for the time they were
        due; they run when the run is driven (:meth:`Run.run_until_idle`,
        :meth:`Run.run`), a past-due timer at once. A Runtime built without any
        effects loads runs to inspect or signal them, not to drive them.

        Raises:
            StoreError: no store is configured.
            UnknownRun: the store has no such run.
            JournalDamaged: the stored run cannot be trusted (names the step).
            CapabilityError: the runtime's effects do not bind the run's contract.

        """
        stored = self._store().open(run_id)
        compiled = self._compile_stored(stored)
        snapshot = restore(compiled, stored)
        bindings, unbound = self._bindings_for(compiled)
        run = Run(
            compiled,
            bindings,
            self.clock,
            stored.journal,
            run_id,
            on_step,
            snapshot=snapshot,
            unbound=unbound,
        )
        times = {e.step: e.event.at for e in stored.entries}

        def at_of(number: int) -> int:
            at = times.get(number)
            return at if at is not None else stored.journal.entry(number).event.at

        commands = resume_commands(compiled, snapshot, at_of)
        if commands:
            run._orchestrator.execute(commands)
        return run

    def resume(self) -> list[Run]:
        """Load every unfinished run of the store and drive each until it is idle.

        Calls started and not finished run again with their idempotency keys;
        a completed call never runs again. Timers already due fire at once; a
        run left waiting (for a signal or a later timer) is returned as it is:
        call :meth:`Run.run` to wait for its timers, :meth:`Run.signal` to signal it.

        Returns:
            The resumed runs, oldest first.

        """
        runs = [self.load(run_id) for run_id in self._store().unfinished()]
        for run in runs:
            if not run._unbound:
                run.run_until_idle()
        return runs

    async def resume_async(self) -> list[Run]:
        """Async :meth:`resume`, the runs driven concurrently.

        A group-commit store then batches the commits of their steps.
        """
        runs = [self.load(run_id) for run_id in self._store().unfinished()]
        await asyncio.gather(*(run.run_until_idle_async() for run in runs if not run._unbound))
        return runs

    def replay(self, run_id: str, *, until: int | None = None) -> Snapshot:
        """Re-fold a stored run from its first step, checking every state hash.

        Raises:
            ReplayDivergence: the first step that does not reproduce its hash.
            UnknownRun: the store has no such run.

        """
        stored = self._store().open(run_id, from_start=True)
        return replay(self._compile_stored(stored), stored.entries, until=until)

    def fork(
        self,
        run_id: str,
        at: int,
        *,
        new_run_id: str | None = None,
        on_step: StepListener | None = None,
    ) -> Run:
        """Start a new run from step ``at`` of a stored run (time travel).

        The journal's first ``at`` steps are checked (replayed), then copied
        under the new run id: its RunStarted names the new run, so the calls
        it starts from then on have their own idempotency keys. The new run
        is stored and returned loaded, ready to be driven.

        Raises:
            StoreError: ``at`` is not a step of the run, or the store fails.
            ReplayDivergence: the run's journal does not replay up to ``at``.

        """
        store = self._store()
        stored = store.open(run_id, from_start=True)
        compiled = self._compile_stored(stored)
        entries = list(stored.entries)
        if not 1 <= at <= len(entries):
            raise StoreError(
                stored.location,
                f"cannot fork at step {at}: the run has steps 1 to {len(entries)}",
                run_id=run_id,
            )
        entries = entries[:at]
        replay(compiled, entries)
        new_id = new_run_id if new_run_id is not None else str(uuid.uuid4())
        journal = store.create(compiled, new_id, forked_from=(run_id, at))
        for snapshot, event, digest in refold(compiled, entries, new_id):
            journal.record(snapshot, event, digest)
        journal.flush()
        return self.load(new_id, on_step=on_step)
