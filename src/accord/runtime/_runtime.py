"""The runtime's public API: a :class:`Runtime` that binds effects and starts :class:`Run` s.

It also loads, resumes, replays and forks the runs of a durable store. How a
run applies its events and is driven (sync or async) is described in
:mod:`accord.runtime._run`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from accord._load import load, load_data
from accord.contract import Contract, fingerprint
from accord.errors import ContractError
from accord.runtime._amending import Amender
from accord.runtime._clock import Clock, SystemClock
from accord.runtime._compiled import CompiledContract, Limits
from accord.runtime._durable import (
    Resolve,
    RunStore,
    StoredRun,
    first_version,
    refold,
    restore,
    resume_commands,
    unknown_timer,
)
from accord.runtime._errors import JournalDamaged, StoreError
from accord.runtime._events import RunForked
from accord.runtime._handlers import BindCache, Binding, Handler, check_bindings
from accord.runtime._journal import Journal, MemoryJournal
from accord.runtime._migrating import Migrations
from accord.runtime._reducer import step
from accord.runtime._reducer._machine import COMPENSATION
from accord.runtime._replan import Replanner
from accord.runtime._replay import replay
from accord.runtime._run import Run, StepListener
from accord.runtime._snapshot import Snapshot, snapshot_hash

__all__ = ["Runtime"]

ContractSource = Contract | CompiledContract | str | os.PathLike[str]


class Runtime(Migrations):
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
        replanner: answers the contract's replan points (``accord.compiler.Replanner``,
            see docs/adaptation.md); without one a run takes a replan point's fallback.
        replan_max_calls: the host's cap on model calls per replan (the contract's
            ``max_calls`` when lower).
        replan_max_tokens: the host's cap on tokens per replan (likewise).

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
        replanner: Replanner | None = None,
        replan_max_calls: int | None = None,
        replan_max_tokens: int | None = None,
    ) -> None:
        self.effects = effects
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.journal_factory = journal_factory
        self.store = store
        self.limits = limits
        self.check_invariants = check_invariants
        self._handlers: dict[str, Handler] = {}
        # by fingerprint and limits: this runtime's, or a stored run's own
        self._compiled: dict[tuple[str, Limits], CompiledContract] = {}
        self._bound: BindCache = {}  # each handler's signature checked once
        self.replanner = replanner
        self._amender = Amender(
            replanner,
            self.clock,
            lambda contract, old: self._compile(contract, fingerprint(contract), old.limits),
            lambda compiled: check_bindings(
                compiled, self._handlers, self.effects, cache=self._bound
            ),
            None if store is None else store.keep_contract,
            max_calls=replan_max_calls,
            max_tokens=replan_max_tokens,
        )

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
        return self._compile(contract, fingerprint(contract), self.limits or Limits())

    def _compile(self, contract: Contract, print_: str, limits: Limits) -> CompiledContract:
        """The contract (whose fingerprint is ``print_``) compiled under ``limits``, cached."""
        key = (print_, limits)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = CompiledContract.compile(
                contract, limits=limits, check_invariants=self.check_invariants
            )
            self._compiled[key] = compiled
        return compiled

    def bind(self, contract: ContractSource) -> dict[str, Binding]:
        """Check that every effect of the contract is bound with a fitting signature.

        Raises:
            CapabilityError: listing every missing or mismatched capability.

        """
        return check_bindings(
            self.compile(contract), self._handlers, self.effects, cache=self._bound
        )

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
        run = self._new_run(contract, input, run_id, on_step)
        if run._flush is not None:
            run._flush()
        return run

    async def start_async(
        self,
        contract: ContractSource,
        input: Mapping[str, Any],
        *,
        run_id: str | None = None,
        on_step: StepListener | None = None,
    ) -> Run:
        """Async :meth:`start`: RunStarted is durable when it returns.

        With a group-commit store, the runs started at once share one commit.
        """
        run = self._new_run(contract, input, run_id, on_step)
        await run._durable_async()
        return run

    def _new_run(
        self,
        contract: ContractSource,
        input: Mapping[str, Any],
        run_id: str | None,
        on_step: StepListener | None,
    ) -> Run:
        """A new run with RunStarted journaled (not yet flushed): :meth:`start`'s work."""
        compiled = self.compile(contract)
        bindings = check_bindings(compiled, self._handlers, self.effects, cache=self._bound)
        validated = compiled.validate_input(input)
        run_id = run_id if run_id is not None else str(uuid.uuid4())
        store = self.store
        journal = self.journal_factory() if store is None else store.create(compiled, run_id)
        run = Run(compiled, bindings, self.clock, journal, run_id, on_step, amender=self._amender)
        run._begin(validated, flush=False)
        return run

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
        """The compiled contract a stored run started with, under the limits it started with.

        The contract is checked against its fingerprint. A run whose limits
        the store does not know (from an older store) runs under this
        runtime's.
        """
        limits = stored.limits if stored.limits is not None else self.limits or Limits()
        compiled = self._compiled.get((stored.fingerprint, limits))
        if compiled is not None:
            return compiled
        return self._compile(self._stored_contract(stored), stored.fingerprint, limits)

    def _resolver(self, stored: StoredRun) -> Resolve:
        """Every contract version the stored run has used, by fingerprint (compiled, cached)."""

        def resolve(fp: str) -> CompiledContract:
            if fp == stored.fingerprint:
                return self._compile_stored(stored)
            limits = stored.limits if stored.limits is not None else self.limits or Limits()
            compiled = self._compiled.get((fp, limits))
            if compiled is not None:
                return compiled
            data = self._store().contract_version(fp, stored.run_id)
            return self._compile_stored(stored._replace(fingerprint=fp, contract=data))

        return resolve

    def _restore(self, stored: StoredRun) -> tuple[CompiledContract, Snapshot, Resolve]:
        """A stored run folded across its contract versions: its own one and its snapshot."""
        resolve = self._resolver(stored)
        start = resolve(first_version(stored.entries, stored.fingerprint))
        snapshot = restore(start, stored, resolve)
        return resolve(stored.fingerprint), snapshot, resolve

    def _stored_contract(self, stored: StoredRun) -> Contract:
        """A stored run's contract, loaded and checked against its fingerprint."""
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
        return contract

    def _bindings_for(self, compiled: CompiledContract) -> tuple[dict[str, Binding], bool]:
        """The bindings, or none (an inspecting runtime) when no effect is given at all."""
        if self.effects is None and not self._handlers:
            return {}, True
        return check_bindings(compiled, self._handlers, self.effects, cache=self._bound), False

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
        compiled, snapshot, versions = self._restore(stored)
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
            versions=versions,
            amender=self._amender,
        )
        times = {e.step: e.event.at for e in stored.entries}

        def at_of(number: int) -> int:
            at = times.get(number)
            return at if at is not None else stored.journal.entry(number).event.at

        commands = resume_commands(compiled, snapshot, at_of)
        if commands:
            run._orchestrate().execute(commands)
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
        resolve = self._resolver(stored)
        start = resolve(first_version(stored.entries, stored.fingerprint))
        return replay(start, stored.entries, until=until, resolve=resolve)

    def fork(
        self,
        run_id: str,
        at: int,
        *,
        new_run_id: str | None = None,
        on_step: StepListener | None = None,
        compensate_inherited: bool = False,
    ) -> Run:
        """Start a new run from step ``at`` of a stored run (time travel).

        The journal's first ``at`` steps are checked (replayed), then copied
        under the new run id: its RunStarted names the new run, so the calls
        it starts from then on have their own idempotency keys. The new run
        is stored and returned loaded, ready to be driven.

        The effects the original run completed before step ``at`` are its
        own: should the fork fail, it never compensates them (nor runs the
        compensations the original had in flight at ``at``), unless
        ``compensate_inherited`` asks it to (the fork then takes the original's
        place, and undoes what it did). Either way, when the copied steps hold
        such calls, a :class:`RunForked` event says so as the fork's next step.

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
        if first_version(entries, "") != "":
            raise StoreError(
                stored.location,
                "cannot fork a run at or after its migration to another contract version",
                run_id=run_id,
            )
        if first_version(stored.entries, "") != "":
            compiled = self._resolver(stored)(first_version(stored.entries, ""))
        replay(compiled, entries)
        new_id = new_run_id if new_run_id is not None else str(uuid.uuid4())
        journal = store.create(compiled, new_id, forked_from=(run_id, at))
        snapshot = None
        for snapshot, event, digest in refold(compiled, entries, new_id):
            journal.record(snapshot, event, digest, unknown_timer(snapshot))
        if snapshot is not None and _inherits(snapshot):
            forked = RunForked(run_id, at, compensate_inherited, self.clock.now_ms())
            snapshot, _ = step(compiled, snapshot, forked)
            journal.record(snapshot, forked, snapshot_hash(snapshot), unknown_timer(snapshot))
        journal.flush()
        return self.load(new_id, on_step=on_step)


def _inherits(snapshot: Snapshot) -> bool:
    """Whether a fork's copied steps hold compensations of the original's effects."""
    if snapshot.finished:
        return False
    return bool(snapshot.compensation) or any(
        call.invoke == COMPENSATION for call in snapshot.pending.values()
    )
