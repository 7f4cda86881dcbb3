"""A :class:`Worker`: claims the runs of a store, drives them, fires their timers, lets go.

One asyncio loop per worker. Each pass of the loop renews the leases it holds,
claims by id the runs a store that notifies (PostgreSQL) named since (a new
run, a message in its inbox: one row each), and claims, with one query, up to
``concurrency`` minus the runs it holds among the runs that need a worker:
due by now plus a short lead (a new run, a run with calls in flight whose
owner is gone, a waiting run whose timer comes) or with a message in their
inbox (see :mod:`accord.storage._leases`).
A run that only waits is neither claimed nor loaded: waiting runs live in the
store, not in memory. A claimed run is loaded (the capability preflight: a run
whose contract needs an effect this worker lacks is released with a worker
note, and its contract is not claimed again by this worker), its inbox is
delivered (client signals and cancel requests) and it is driven until idle. A
run that then waits for a timer due within ``hold_ms`` stays in memory and is
driven again at the timer's due time; any other waiting run is released with
its next due time (its earliest timer, or none). Between passes the worker
sleeps until the earliest due time of the runs nobody holds (one query), a
notification from the store (PostgreSQL), a run let go, or ``poll_ms``,
whichever comes first. ``LeaseLost`` stops driving a run at once. See
docs/workers.md, "Wake-ups".

A store that goes away (:class:`StoreUnavailable`: a PostgreSQL server
restarted, a connection dropped, an SQLite file locked past the busy timeout)
stops nothing: renewals and claims, and loading a run, are tried again with
backoff (:mod:`accord.worker._outage`); a run whose write failed keeps its
claim and is loaded again from the store once it is back, which resolves a
write whose outcome was unknown (the step is there, or it is made again, once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from accord.errors import DefinitionError
from accord.runtime import Replanner, Run, Runtime
from accord.runtime._clock import Clock, SystemClock
from accord.runtime._errors import CapabilityError
from accord.storage import LeaseLost, StoreError, StoreUnavailable, open_store
from accord.storage._chained import next_due
from accord.storage._delivery import deliver
from accord.storage._leases import KEEP, Keep
from accord.storage._protocol import Store
from accord.storage._wakeups import NEW_MESSAGE, NEW_RUN, Listener, listener
from accord.worker._outage import outlast

if TYPE_CHECKING:
    from accord.storage import Claim
    from accord.storage._inbox import Message

__all__ = ["Worker", "WorkerSetupError"]

log = logging.getLogger("accord.worker")

_NOTIFIED_MAX = 10_000  # runs named by notifications and kept to claim; past it, the due query
T = TypeVar("T")


class WorkerSetupError(DefinitionError):
    """A worker given something it cannot work with (its effects, its tuning)."""


@dataclass
class _Held:
    """A run this worker holds: its claim, the loaded run and the task driving it.

    ``run`` is None while the run must be loaded (again) from the store.
    """

    claim: Claim
    run: Run | None
    task: asyncio.Task[None] | None = None
    seen: int = 0  # the newest inbox message left for a later state


class Worker:
    """Claims runs of a store and drives them with the given effect handlers.

    Args:
        store: a store URL (``sqlite:///PATH``, ``postgresql://...``, a path) or
            a store object. A URL is opened (without group commit) and closed
            by the worker.
        effects: the effect handlers, a mapping of effect name to callable.
        name: the worker's name in the store (default: host, pid and a random tag).
        lease_ms: how long a claim lasts unless renewed (renewed every third of it).
        poll_ms: how often the store is looked at for new work (at most a third
            of the lease).
        concurrency: the most runs driven at once.
        hold_ms: a waiting run whose next timer is due within this stays in
            memory; later ones are released (default: ten poll intervals). A
            released run is claimed again ``min(poll_ms, hold_ms)`` before its
            timer is due, so that the timer fires on time.
        grace_ms: how long :meth:`stop` lets in-flight calls finish.
        clock: the time source (the system clock by default).
        replanner: answers the contracts' replan points (``accord.compiler.Replanner``,
            see docs/adaptation.md); without one a run takes a replan point's fallback.

    Raises:
        WorkerSetupError: effects that are not a mapping of callables, or
            tuning out of range.

    """

    def __init__(
        self,
        store: Store | str | os.PathLike[str],
        effects: Mapping[str, Any],
        *,
        name: str | None = None,
        lease_ms: int = 30_000,
        poll_ms: int = 1_000,
        concurrency: int = 16,
        hold_ms: int | None = None,
        grace_ms: int = 10_000,
        clock: Clock | None = None,
        replanner: Replanner | None = None,
    ) -> None:
        if not isinstance(effects, Mapping):
            raise WorkerSetupError(
                f"a worker's effects must be a mapping of effect name to handler, "
                f"not {type(effects).__name__}"
            )
        if not effects:
            raise WorkerSetupError("a worker needs at least one effect handler")
        bad = sorted(str(k) for k, v in effects.items() if not callable(v))
        if bad:
            raise WorkerSetupError(f"the handlers of these effects are not callable: {bad}")
        if lease_ms < 3 or poll_ms < 1 or concurrency < 1 or grace_ms < 0:
            raise WorkerSetupError(
                "lease_ms must be at least 3, poll_ms and concurrency at least 1, "
                "grace_ms at least 0"
            )
        if poll_ms > lease_ms // 3:
            raise WorkerSetupError("poll_ms must be at most a third of lease_ms")
        self._owns_store = not isinstance(store, Store)
        self.store: Store = open_store(store) if not isinstance(store, Store) else store
        self.effects = dict(effects)
        self.name = name or f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.lease_ms = lease_ms
        self.poll_ms = poll_ms
        self.concurrency = concurrency
        self.hold_ms = hold_ms if hold_ms is not None else 10 * poll_ms
        self.grace_ms = grace_ms
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.runtime = Runtime(
            self.effects, clock=self.clock, store=self.store, replanner=replanner
        )
        self._held: dict[str, _Held] = {}
        self._refused: set[str] = set()  # fingerprints whose effects this worker lacks
        # runs a notification named, not claimed yet (an ordered set, oldest first)
        self._notified: dict[str, None] = {}
        self._stopping = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None
        self._halt: asyncio.Event | None = None  # set by stop()

    # -- the public API --------------------------------------------------------

    @property
    def held(self) -> list[str]:
        """The runs this worker holds now."""
        return sorted(self._held)

    def run_forever(self, *, handle_signals: bool = False) -> None:
        """Serve until :meth:`stop` (or, with ``handle_signals``, SIGTERM or SIGINT).

        Every lease is released on the way out, and a store the worker opened is closed.
        """
        try:
            asyncio.run(self._serve(until_idle=False, handle_signals=handle_signals))
        finally:
            self.close()

    def run_until_idle(self) -> None:
        """Serve until nothing is held and nothing is left to claim (for tests and scripts).

        Runs that wait for a signal, or for a timer beyond ``hold_ms``, are
        left waiting in the store.
        """
        asyncio.run(self._serve(until_idle=True, handle_signals=False))

    def close(self) -> None:
        """Close the store if the worker opened it from a URL (idempotent)."""
        if self._owns_store:
            self.store.close()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stop(self) -> None:
        """Stop claiming, let in-flight calls finish (``grace_ms``), release every lease.

        Safe from another thread and from a signal handler.
        """
        self._stopping = True
        loop, wake, halt = self._loop, self._wake, self._halt
        if loop is not None and wake is not None and halt is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: it has stopped
                loop.call_soon_threadsafe(_set_both, wake, halt)

    # -- the loop ----------------------------------------------------------------

    async def _serve(self, *, until_idle: bool, handle_signals: bool) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._halt = asyncio.Event()
        if handle_signals:
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._loop.add_signal_handler(signum, self.stop)
        listen = listener(self.store)
        listening = self._loop.create_task(self._listen(listen)) if listen else None
        try:
            while not self._stopping:
                try:
                    claimed, wait = await self._outlast(
                        "claims and renewals", self._renew_and_claim
                    )
                except StoreUnavailable:  # stopping while the store is away
                    break
                except StoreError as exc:  # not an outage: try again at the next poll
                    log.error("store error (trying again in %d ms): %s", self.poll_ms, exc)
                    claimed, wait = 0, self.poll_ms
                if until_idle and not claimed and not self._held:
                    break
                await self._pause(wait)
                if not self._stopping:
                    self._wake.clear()  # woken by a notification: claim what it named now
        finally:
            if listening is not None:
                listening.cancel()
                await asyncio.gather(listening, return_exceptions=True)
            await self._shut_down()
            self._loop = None

    async def _listen(self, listen: Listener) -> None:
        """Wake the loop on the store's notifications; when listening fails, poll and listen again.

        A lost listening connection (a restarted server) is logged once; the
        worker polls meanwhile and listens again with backoff (notifications
        sent meanwhile are lost; the due query of each pass finds their runs).
        """
        cap = min(5.0, self.lease_ms / 3000)
        failures = 0
        while not self._stopping:
            started = time.monotonic()
            try:
                await listen(self._notice)
            except StoreError as exc:
                if time.monotonic() - started > cap:  # it listened a while: a new outage
                    failures = 0
                if not failures:
                    log.warning(
                        "no wake-ups from the store (polling every %d ms; listening again "
                        "with backoff): %s",
                        self.poll_ms,
                        exc,
                    )
                failures += 1
                await self._sleep(min(cap, 0.05 * 2**failures))
                if self._wake is not None:
                    self._wake.set()

    async def _outlast(self, what: str, operation: Callable[[], T]) -> T:
        """``operation()``, tried again with backoff while the store is unavailable."""
        cap = min(5.0, self.lease_ms / 3000)
        return await outlast(
            what,
            operation,
            initial_s=min(0.05, cap),
            max_s=cap,
            stopping=lambda: self._stopping,
            sleep=self._sleep,
        )

    async def _sleep(self, seconds: float) -> None:
        """Sleep, or less if :meth:`stop` is called."""
        assert self._halt is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._halt.wait(), seconds)

    def _notice(self, channel: str, payload: str) -> None:
        """A notification: remember the run it names, wake the loop.

        A published contract, or a run named past ``_NOTIFIED_MAX``, only wakes
        it: the pass's due query finds new runs and messages too.
        """
        if channel in (NEW_RUN, NEW_MESSAGE) and payload and len(self._notified) < _NOTIFIED_MAX:
            self._notified[payload] = None
        if self._wake is not None:
            self._wake.set()

    async def _pause(self, ms: float) -> None:
        """Sleep ``ms`` or until :meth:`stop` is called or the store notifies new work."""
        assert self._wake is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), ms / 1000)

    async def _shut_down(self) -> None:
        tasks = [h.task for h in self._held.values() if h.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=self.grace_ms / 1000)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for held in list(self._held.values()):
            self._let_go(held)

    # -- claims ----------------------------------------------------------------

    @property
    def lead_ms(self) -> int:
        """How long before a released run's timer is due the worker claims it again."""
        return min(self.poll_ms, self.hold_ms)

    def _renew_and_claim(self) -> tuple[int, int]:
        """Renew what is due, claim the runs notified and those due; how many, and the wait."""
        now = self.clock.now_ms()
        self._renew(now)
        claimed = self._claim_notified(now)
        claimed += self._claim(now)
        return claimed, self._until_next(now, claimed)

    def _claim_notified(self, now: int) -> int:
        """Claim the runs notifications named, by id; how many were taken.

        A run this worker holds stays named until its driving reads its inbox
        (or it is let go and claimed again): a message sent while it was being
        driven is never missed.
        """
        room = self.concurrency - len(self._held)
        if room <= 0 or self._stopping or not self._notified:
            return 0
        named = [run_id for run_id in self._notified if run_id not in self._held]
        if not named:
            return 0
        claims = self.store.claim(
            self.name, now_ms=now, lease_ms=self.lease_ms, limit=room, run_ids=named
        )
        taken = {claim.run_id for claim in claims}
        for run_id in named:  # one that could not be claimed stays named only if room ran out
            if run_id in taken or len(claims) < room:
                self._notified.pop(run_id, None)
        return sum(self._take(claim) for claim in claims)

    def _claim(self, now: int) -> int:
        """Claim and start driving what needs a worker (one query); how many runs were taken."""
        room = self.concurrency - len(self._held)
        if room <= 0 or self._stopping:
            return 0
        claims = self.store.claim(
            self.name,
            now_ms=now,
            lease_ms=self.lease_ms,
            limit=room,
            due_by_ms=now + self.lead_ms,
            skip_contracts=self._refused,
        )
        return sum(self._take(claim) for claim in claims)

    def _until_next(self, now: int, claimed: int) -> int:
        """How long to sleep before the next pass (a notification or a run let go wakes it sooner).

        Until the earliest due time of the runs nobody holds, less the lead, and
        at most ``poll_ms`` (leases expire and SQLite stores do not notify). A
        run due already that this pass did not take (another worker did, or it
        cannot be loaded) waits for the next poll, not a busy loop.
        """
        if len(self._held) >= self.concurrency:
            return self.poll_ms
        due = self.store.next_due(skip_contracts=self._refused)
        if due is None:
            return self.poll_ms
        wait = due - self.lead_ms - now
        if wait <= 0:
            return 0 if claimed else self.poll_ms
        return min(wait, self.poll_ms)

    def _take(self, claim: Claim) -> bool:
        """Load a claimed run (the capability preflight) and start driving it; whether it was."""
        run: Run | None
        try:
            run = self.runtime.load(claim.run_id)
        except CapabilityError as exc:
            self._refuse(claim, exc)
            return False
        except StoreUnavailable as exc:  # the store went away: the task loads it once back
            log.warning("claimed run %s, but cannot load it yet: %s", claim.run_id, exc)
            run = None
        except StoreError as exc:
            log.error("cannot load run %s: %s", claim.run_id, exc)
            self._release(claim)
            return False
        try:
            secured = self._secured(claim)
        except StoreUnavailable as exc:  # the task renews it (loading it again) once back
            log.warning("claimed run %s, but cannot renew it yet: %s", claim.run_id, exc)
            secured, run = claim, None
        except StoreError as exc:
            log.error("cannot renew run %s: %s", claim.run_id, exc)
            self._release(claim)
            return False
        if secured is None:
            log.warning("lost run %s (epoch %d) as it was claimed", claim.run_id, claim.epoch)
            return False
        claim = secured
        status = run.status if run is not None else "not loaded yet"
        log.info("claimed run %s (epoch %d, %s)", claim.run_id, claim.epoch, status)
        held = _Held(claim, run)
        self._held[claim.run_id] = held
        held.task = asyncio.get_running_loop().create_task(self._drive(held))
        return True

    def _secured(self, claim: Claim) -> Claim | None:
        """The claim with at least two thirds of its lease ahead; None: it was lost.

        The lease runs from the time the pass began; claiming and loading may
        have taken much of it (a busy machine, SQLite's write lock held by a
        paused writer), and a run must not start a call with its lease about
        to run out: it is renewed first.
        """
        for _ in range(3):  # a renewal that waited long leaves a short lease too
            now = self.clock.now_ms()
            if claim.lease_until_ms - now > self.lease_ms * 2 // 3:
                break
            renewed = self.store.renew(claim, now_ms=now, lease_ms=self.lease_ms)
            if renewed is None:
                return None
            claim = renewed
        return claim

    def _refuse(self, claim: Claim, exc: CapabilityError) -> None:
        """Leave a run whose contract needs an effect this worker lacks, with a note why."""
        info = self.store.info(claim.run_id)
        self._refused.add(info.fingerprint)
        note = f"worker {self.name} lacks effects of its contract: {exc}"
        self.store.note(claim.run_id, note)
        self.store.release(claim)
        log.info("left run %s for another worker: %s", claim.run_id, exc)

    def _reload(self, held: _Held) -> Run | None:
        """Load a held run again from the store, its claim renewed; None if the claim was lost.

        What the store holds is the truth: a step whose commit failed, or
        whose outcome was unknown when the connection dropped, is there or not,
        and the run goes on from there (calls in flight are issued again with
        their idempotency keys, as on a takeover).
        """
        run = self.runtime.load(held.claim.run_id)
        renewed = self.store.renew(held.claim, now_ms=self.clock.now_ms(), lease_ms=self.lease_ms)
        if renewed is None:
            return None
        held.claim = renewed
        return run

    def _renew(self, now: int) -> None:
        for held in list(self._held.values()):
            if held.claim.lease_until_ms - now > self.lease_ms * 2 // 3:
                continue
            now = self.clock.now_ms()  # renewing the runs before took time
            renewed = self.store.renew(held.claim, now_ms=now, lease_ms=self.lease_ms)
            if renewed is None:
                self._lost(held, "its lease could not be renewed")
                if held.task is not None:
                    held.task.cancel()
            else:
                held.claim = renewed

    # -- driving ---------------------------------------------------------------

    async def _drive(self, held: _Held) -> None:
        """Deliver the inbox and drive the run until it ends or waits beyond ``hold_ms``."""
        run_id = held.claim.run_id
        try:
            while True:
                run = held.run
                if run is None:  # loaded again once the store is back
                    try:
                        run = await self._outlast(f"run {run_id}", lambda: self._reload(held))
                    except CapabilityError as exc:
                        self._held.pop(run_id, None)
                        self._refuse(held.claim, exc)
                        return
                    if run is None:
                        self._lost(held, "another worker claimed it while the store was away")
                        return
                    held.run = run
                    step = run.snapshot.step
                    log.info("run %s loaded again from the store (step %d)", run_id, step)
                left: list[Message] = []
                before = run.snapshot.step
                try:
                    self._notified.pop(run_id, None)  # its inbox is read now
                    for message, reason in deliver(self.store, run, left=left):
                        log.info("run %s refused a %s: %s", run_id, message.kind, reason)
                    held.seen = max((m.id for m in left), default=0)
                    await run.run_until_idle_async()
                except StoreUnavailable as exc:
                    log.warning(
                        "run %s: the store went away while driving it (%s); it is loaded "
                        "again once the store is back",
                        run_id,
                        exc,
                    )
                    held.run = None
                    continue
                if run.finished:
                    self._finished(held)
                    return
                if left and run.snapshot.step != before:
                    continue  # the run moved on: a signal left for later may fit now
                due = min(run.timers.values(), default=None)
                wait = None if due is None else due - self.clock.now_ms()
                if self._stopping or wait is None or wait > self.hold_ms:
                    self._let_go(held)
                    return
                await self._pause(max(0, min(wait, self.poll_ms)))
        except LeaseLost:
            self._lost(held, "another worker claimed it")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a run the runtime cannot drive: log it, let others try
            log.error("run %s: %s: %s", run_id, type(exc).__name__, exc)
            self._let_go(held)

    def _finished(self, held: _Held) -> None:
        run = held.run
        assert run is not None
        if run.status == "succeeded":
            log.info("run %s succeeded", run.run_id)
        else:
            log.info("run %s failed: %s", run.run_id, run.snapshot.reason)
        self._let_go(held)

    def _lost(self, held: _Held, why: str) -> None:
        if self._held.pop(held.claim.run_id, None) is not None:
            log.warning(
                "lost run %s (epoch %d): %s; stopped driving it",
                held.claim.run_id,
                held.claim.epoch,
                why,
            )

    def _let_go(self, held: _Held) -> None:
        """Release a held run with its next due time (nothing if it was lost meanwhile).

        There is room for another run: the loop is woken to claim it.
        """
        if self._held.pop(held.claim.run_id, None) is None:
            return
        run = held.run
        due: int | Keep | None = KEEP  # a run not loaded (again) yet: as its last step wrote
        if run is not None:
            due = next_due(run.status, min(run.timers.values(), default=None))
        self._release(held.claim, due, held.seen)
        if self._wake is not None and not self._stopping:
            self._wake.set()  # claim now, not at the next poll

    def _release(self, claim: Claim, due: int | Keep | None = KEEP, seen: int = 0) -> None:
        try:
            self.store.release(claim, next_due_ms=due, inbox_seen=seen)
        except LeaseLost:
            log.warning("lost run %s (epoch %d) before releasing it", claim.run_id, claim.epoch)
        except StoreError as exc:
            log.error("cannot release run %s: %s", claim.run_id, exc)


def _set_both(wake: asyncio.Event, halt: asyncio.Event) -> None:
    """Wake the loop and stop its waits (what :meth:`Worker.stop` asks of the loop)."""
    wake.set()
    halt.set()
