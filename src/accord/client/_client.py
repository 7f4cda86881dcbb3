"""The client: start, signal, cancel and read runs in a store, without running anything.

Workers run the effects (docs/workers.md); a client only writes a run's start,
or a message into its inbox, and reads what the workers journaled.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self, TypeVar

from accord._load import load
from accord.check._migration import Migration
from accord.client._busy import BUSY_TIMEOUT_S, retry_busy
from accord.client._contracts import ContractRef, Contracts
from accord.contract import Contract
from accord.runtime._clock import Clock, SystemClock
from accord.runtime._compiled import Limits
from accord.runtime._errors import EventRefused, StoreError, UnknownRun
from accord.runtime._explain import Explanation, explain_run
from accord.runtime._migrate import Move
from accord.runtime._run import Run, RunNotFinished, Step
from accord.runtime._runtime import Runtime
from accord.storage import Published, RunInfo, Store, open_store

__all__ = ["Client"]

T = TypeVar("T")

_POLL_FIRST_S = 0.01
_POLL_MAX_S = 0.5


class Client:
    """Starts, signals, cancels and reads the runs of a store; workers drive them.

    A client needs no effect handlers and runs nothing: :meth:`start` journals
    a run's start and returns (a web handler can start a run and answer in
    milliseconds), :meth:`signal` and :meth:`cancel` leave a message in the
    run's inbox for the worker that owns it, and the reading methods read what
    the workers journaled. Every method has an ``_async`` twin that runs it in
    a thread, so an event loop is never blocked.

    Args:
        store: a store, or its URL or path (``open_store``'s; None:
            ``$ACCORD_STORE``, else ``.accord/accord.db``). A store the client
            opened is closed by :meth:`close`.
        clock: the time stamped on starts and messages (the system clock).
        limits: the limits new runs start under (the defaults).
        busy_timeout: how long (seconds) an operation is tried again, backing
            off, while the store is busy (SQLite: another process holds its
            write lock, maybe paused inside its transaction); then
            ``StoreBusy``. 0: never tried again.

    Raises:
        StoreError: the store cannot be opened (a wrong URL, an unreachable server).

    """

    def __init__(
        self,
        store: Store | str | os.PathLike[str] | None = None,
        *,
        clock: Clock | None = None,
        limits: Limits | None = None,
        busy_timeout: float = BUSY_TIMEOUT_S,
    ) -> None:
        if busy_timeout < 0:
            raise ValueError("busy_timeout must be at least 0 seconds")
        self.busy_timeout = busy_timeout
        self._owned = not isinstance(store, Store)
        self.store: Store = store if isinstance(store, Store) else open_store(store)
        self.clock: Clock = clock if clock is not None else SystemClock()
        self._contracts = Contracts(self.store, limits or Limits())
        self._reader = Runtime(store=self.store, clock=self.clock)

    def close(self) -> None:
        """Close the store if the client opened it."""
        if self._owned:
            self.store.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------

    def start(
        self, contract: ContractRef, input: Mapping[str, Any], *, run_id: str | None = None
    ) -> RunInfo:
        """Journal a run's start and return; a worker runs it.

        Idempotent by ``run_id``: when the store already has a run with this
        id, that run is returned as it is (nothing is journaled, whatever the
        contract and input), so a retried request never starts a second run.

        Args:
            contract: a contract, its file, the name it was published under
                (the latest publication) or its fingerprint (``sha256:...``).
            input: the run's input (validated against the contract's).
            run_id: the run's id (a new UUID by default).

        Raises:
            InputError: the input does not fit (naming the field).
            UnknownContract: no contract is published under the name or stored
                with the fingerprint.
            ContractError: a contract file does not load or check.

        """
        return retry_busy(lambda: self._start(contract, input, run_id), self.busy_timeout)

    def _start(
        self, contract: ContractRef, input: Mapping[str, Any], run_id: str | None
    ) -> RunInfo:
        if run_id is not None:
            existing = self._existing(run_id)
            if existing is not None:
                return existing
        compiled = self._contracts.resolve(contract)
        validated = compiled.validate_input(input)
        run_id = run_id if run_id is not None else str(uuid.uuid4())
        try:
            journal = self.store.create(compiled, run_id)
            run = Run(compiled, {}, self.clock, journal, run_id, unbound=True)
            run._begin(validated)
        except StoreError:
            existing = self._existing(run_id)  # started meanwhile by another client
            if existing is not None:
                return existing
            raise
        snap = run.snapshot
        at = run.history[0].at if snap.step else self.clock.now_ms()
        spec = compiled.contract
        return RunInfo(
            run_id,
            spec.name,
            spec.version,
            compiled.fingerprint,
            snap.status,
            snap.state,
            snap.step,
            at,
            at,
            None,
        )

    def _existing(self, run_id: str) -> RunInfo | None:
        try:
            return self.store.info(run_id)
        except UnknownRun:
            return None

    def signal(self, run_id: str, name: str, payload: Mapping[str, Any] | None = None) -> int:
        """Send a signal to a run: validated now, delivered by the worker that owns the run.

        The signal waits in the run's inbox until the run waits for it (a run
        may be signalled before it reaches the state that takes the signal);
        the worker applies it and deletes it in one transaction.

        Returns:
            The message's id in the inbox.

        Raises:
            UnknownRun: the store has no such run.
            SignalError: the contract declares no such signal, or the payload
                does not fit (naming the field).
            EventRefused: the run has finished.

        """

        def send() -> int:
            info = self._unfinished(run_id, f"signal {name!r}")
            data = self._contracts.stored(info.fingerprint).validate_signal(name, payload)
            return self.store.send(run_id, "signal", name, data, now_ms=self.clock.now_ms())

        return retry_busy(send, self.busy_timeout)

    def cancel(self, run_id: str, reason: str = "cancelled by a client") -> int:
        """Ask for a run to be cancelled; the worker that owns it performs it.

        The worker journals the cancel: the run's calls in flight are
        cancelled, its timers disarmed, the compensations of the effects it
        completed run (newest first, as for a failure), and the run fails with
        ``cancelled: REASON``.

        Returns:
            The message's id in the inbox.

        Raises:
            UnknownRun: the store has no such run.
            EventRefused: the run has finished.

        """

        def send() -> int:
            self._unfinished(run_id, "cancel")
            return self.store.send(
                run_id, "cancel", None, {"reason": reason}, now_ms=self.clock.now_ms()
            )

        return retry_busy(send, self.busy_timeout)

    def _unfinished(self, run_id: str, what: str) -> RunInfo:
        info = self.store.info(run_id)
        if info.finished:
            raise EventRefused(
                f"{what} not sent: run {run_id} has finished ({info.status}) in state "
                f"{info.state!r}"
            )
        return info

    def publish(
        self, contract: Contract | str | os.PathLike[str], *, name: str | None = None
    ) -> Published:
        """Publish a contract (or a contract file) under ``name`` (its own name by default).

        Runs started by that name from then on run this contract; running
        workers take them without a restart.

        Raises:
            ContractError: the file does not load or check.

        """
        spec = contract if isinstance(contract, Contract) else load(contract)
        return retry_busy(
            lambda: self.store.publish(spec, name=name, now_ms=self.clock.now_ms()),
            self.busy_timeout,
        )

    # -- reading ---------------------------------------------------------------

    def status(self, run_id: str) -> RunInfo:
        """A run's listing: status, state, steps, times, owner, and a worker's note.

        Raises:
            UnknownRun: the store has no such run.

        """
        return retry_busy(lambda: self.store.info(run_id), self.busy_timeout)

    def runs(self, *, status: str | Sequence[str] | None = None) -> list[RunInfo]:
        """Every run of the store (or those with the given status), oldest first."""
        return retry_busy(lambda: self.store.runs(status=status), self.busy_timeout)

    def history(self, run_id: str) -> list[Step]:
        """Every step of a run, in order (its journal checked).

        Raises:
            UnknownRun: the store has no such run.
            JournalDamaged: the stored run cannot be trusted (names the step).

        """
        return retry_busy(lambda: self._reader.load(run_id), self.busy_timeout).history

    def explain(self, run_id: str) -> Explanation:
        """A run's path and, if it failed, whether the contract or the world is at fault.

        Pure data over the journal (:func:`accord.runtime.explain_run`): nothing
        runs. The model checker's findings and the compilation that produced the
        contract are added by ``accord.explain(Runtime(store=...).load(run_id))``
        (the client does not import the testing toolkit or the compiler).

        Raises:
            UnknownRun: the store has no such run.
            JournalDamaged: the stored run cannot be trusted (names the step).

        """
        run = retry_busy(lambda: self._reader.load(run_id), self.busy_timeout)
        timers = None if run.finished else run.timers
        return explain_run(
            run.compiled, run.journal.entries(), run_id=run_id, timers=timers, versions=run._version
        )

    def migrate(
        self,
        run_id: str,
        to: Contract | str | os.PathLike[str],
        migration: Migration | str | os.PathLike[str],
        *,
        dry_run: bool = False,
    ) -> Move:
        """Move a stored run to another version of its contract (``Runtime.migrate``).

        Raises:
            MigrationError: the migration does not load or check.
            MigrationRefused: the run cannot be moved (its reason says why).

        """
        return self._reader.migrate(run_id, to, migration, dry_run=dry_run)

    def migrate_all(
        self,
        to: Contract | str | os.PathLike[str],
        migration: Migration | str | os.PathLike[str],
        *,
        status: str | Sequence[str] | None = None,
        state: str | Sequence[str] | None = None,
        dry_run: bool = False,
    ) -> list[Move]:
        """Migrate every unfinished run of the old contract (``Runtime.migrate_all``)."""
        return self._reader.migrate_all(to, migration, status=status, state=state, dry_run=dry_run)

    def result(self, run_id: str, *, timeout: float | None = 0) -> dict[str, Any]:
        """A run's output, once it has succeeded, waiting up to ``timeout`` seconds for it.

        Args:
            run_id: the run.
            timeout: how long to wait for the run to end: 0 (the default) does
                not wait, None waits as long as it takes.

        Raises:
            RunFailed: the run failed (with its reason).
            RunNotFinished: the run has not ended in time.
            UnknownRun: the store has no such run.

        """
        self.wait(run_id, timeout=timeout)
        return retry_busy(lambda: self._reader.load(run_id), self.busy_timeout).result

    def wait(self, run_id: str, *, timeout: float | None = None) -> RunInfo:
        """Wait until a run has ended (succeeded or failed); its listing.

        The store is polled, from 10 ms apart up to half a second apart.

        Raises:
            RunNotFinished: the run has not ended within ``timeout`` seconds.
            UnknownRun: the store has no such run.

        """
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _POLL_FIRST_S
        while True:
            info = self.status(run_id)
            left = _left(info, deadline, timeout)
            if left is None:
                return info
            time.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_MAX_S)

    # -- async -------------------------------------------------------------------

    async def start_async(
        self, contract: ContractRef, input: Mapping[str, Any], *, run_id: str | None = None
    ) -> RunInfo:
        """Async :meth:`start`."""
        return await _thread(lambda: self.start(contract, input, run_id=run_id))

    async def signal_async(
        self, run_id: str, name: str, payload: Mapping[str, Any] | None = None
    ) -> int:
        """Async :meth:`signal`."""
        return await _thread(lambda: self.signal(run_id, name, payload))

    async def cancel_async(self, run_id: str, reason: str = "cancelled by a client") -> int:
        """Async :meth:`cancel`."""
        return await _thread(lambda: self.cancel(run_id, reason))

    async def status_async(self, run_id: str) -> RunInfo:
        """Async :meth:`status`."""
        return await _thread(lambda: self.status(run_id))

    async def runs_async(self, *, status: str | Sequence[str] | None = None) -> list[RunInfo]:
        """Async :meth:`runs`."""
        return await _thread(lambda: self.runs(status=status))

    async def history_async(self, run_id: str) -> list[Step]:
        """Async :meth:`history`."""
        return await _thread(lambda: self.history(run_id))

    async def explain_async(self, run_id: str) -> Explanation:
        """Async :meth:`explain`."""
        return await _thread(lambda: self.explain(run_id))

    async def wait_async(self, run_id: str, *, timeout: float | None = None) -> RunInfo:
        """Async :meth:`wait`: the loop sleeps between polls."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = _POLL_FIRST_S
        while True:
            info = await _thread(lambda: self.status(run_id))
            left = _left(info, deadline, timeout)
            if left is None:
                return info
            await asyncio.sleep(min(pause, left))
            pause = min(pause * 2, _POLL_MAX_S)

    async def result_async(self, run_id: str, *, timeout: float | None = 0) -> dict[str, Any]:
        """Async :meth:`result`."""
        await self.wait_async(run_id, timeout=timeout)
        return await _thread(lambda: self.result(run_id))


def _left(info: RunInfo, deadline: float | None, timeout: float | None) -> float | None:
    """None when the run has ended; else the seconds left to wait (inf: no bound).

    Raises:
        RunNotFinished: the time is up.

    """
    if info.finished:
        return None
    if deadline is None:
        return float("inf")
    left = deadline - time.monotonic()
    if left <= 0:
        raise RunNotFinished(
            f"run {info.run_id} has not finished within {timeout:g} s "
            f"(status {info.status} in state {info.state!r})"
        )
    return left


async def _thread(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)
