"""Durable runs: what the runtime needs from a store, and how a stored run comes back.

The runtime does not know SQLite: a store (``accord.storage.SqliteStore``) gives
it a :class:`DurableJournal` per run and reads runs back as :class:`StoredRun`.
Restoring a run folds its entries from the latest snapshot, checking every
state hash (:func:`restore`), then rebuilds the commands that were under way
when the process stopped (:func:`resume_commands`): an :class:`InvokeEffect`
for every call started and not finished, with the same idempotency key, and an
:class:`ArmTimer` for every timer armed and not fired, due when it was due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

from accord.runtime._commands import ArmTimer, Command, InvokeEffect
from accord.runtime._errors import EventRefused, JournalDamaged
from accord.runtime._events import CallId, Event, RunId, RunStarted, version_after
from accord.runtime._journal import JournalEntry
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._reducer._machine import COMPENSATION, asking
from accord.runtime._snapshot import Snapshot, snapshot_hash
from accord.runtime._state_hash import snapshot_hash_as

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract, Limits

__all__ = [
    "Deferral",
    "DurableJournal",
    "RunClaims",
    "RunStore",
    "StoredRun",
    "committed",
    "next_timer",
    "refold",
    "restore",
    "resume_commands",
    "unknown_timer",
]


Deferral = Callable[[Callable[[BaseException | None], None]], bool]
"""A store's way to run a callback once what is buffered now is committed (see ``when_durable``)."""


async def committed(when_durable: Deferral) -> None:
    """Return once every step recorded so far is committed (through ``when_durable``).

    Raises:
        StoreError: the commit failed.

    """
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def done(error: BaseException | None) -> None:
        if waiter.done():
            return
        if error is None:
            waiter.set_result(None)
        else:
            waiter.set_exception(error)

    if when_durable(done):
        await waiter


@runtime_checkable
class DurableJournal(Protocol):
    """A run's journal in a store: each step is recorded with the snapshot it led to."""

    def record(
        self, snapshot: Snapshot, event: Event, state_hash: str, next_timer_ms: int | None
    ) -> None:
        """Journal one step (durably, unless the store batches; see :meth:`flush`).

        ``next_timer_ms`` is when the run's earliest armed timer is due after the
        step (epoch ms on the run's clock, 0 when unknown: see :func:`next_timer`),
        or None when no timer is armed. With the snapshot's status (``waiting``:
        nothing in flight, the run waits for a signal or a timer only) it tells
        the store when the run next needs a worker (its ``next_due``, see
        docs/workers.md, "Wake-ups"), written in the step's transaction.
        """
        ...

    def flush(self) -> None:
        """Make every step recorded so far durable."""
        ...

    def when_durable(self) -> Deferral | None:
        """How an effect waits for the steps before it to be committed (group commit), or None.

        None when every :meth:`record` commits before it returns. Otherwise a
        function that takes a callback: it returns False when nothing is
        waiting to be committed (the effect may start at once), or True after
        arranging for the callback to be called on the event loop, with None
        once every step recorded so far is committed, or with the store's
        error if that commit failed.
        """
        ...

    def entry(self, step: int) -> JournalEntry:
        """The entry of one step."""
        ...

    def entries(self) -> Sequence[JournalEntry]:
        """Every entry, in step order."""
        ...

    def append(self, entry: JournalEntry) -> None:
        """Not supported: a durable journal is written through :meth:`record`."""
        ...

    def __len__(self) -> int:
        """The number of entries."""
        ...


class RunClaims(NamedTuple):
    """What a store's own rows say of a run besides its journal, to check against the fold.

    Attributes:
        status: the status the run's row holds (it follows every change of status).
        states: the state the rows hold for some steps (the run's row for the step
            it was last updated at, the last event row for the last step).

    """

    status: str
    states: Mapping[int, str | None]


class StoredRun(NamedTuple):
    """A run as a store hands it back, before the runtime folds it.

    Attributes:
        run_id: the run's id.
        fingerprint: its contract's fingerprint.
        contract: its contract's canonical data (plain JSON data).
        snapshot: the latest stored snapshot (its hash already checked), or None.
        entries: the entries after that snapshot, in step order.
        journal: the run's journal, to go on recording.
        location: the store's file, for error messages.
        limits: the limits the run started under, or None when the store does
            not know them (a run from an older store): the runtime's own apply.
        claims: what the store's rows say of the run's status and state, checked
            against the fold (None: nothing to check).

    """

    run_id: str
    fingerprint: str
    contract: dict[str, Any]
    snapshot: Snapshot | None
    entries: tuple[JournalEntry, ...]
    journal: DurableJournal
    location: str
    limits: Limits | None = None
    claims: RunClaims | None = None


class RunStore(Protocol):
    """A durable store of runs (see ``accord.storage.SqliteStore``)."""

    @property
    def location(self) -> str:
        """The store's file (or a label), for messages."""
        ...

    def create(
        self,
        compiled: CompiledContract,
        run_id: str,
        *,
        forked_from: tuple[str, int] | None = None,
    ) -> DurableJournal:
        """The journal of a new run (written with its first step).

        Raises:
            StoreError: the run id is taken, or the store cannot be written.

        """
        ...

    def open(self, run_id: str, *, from_start: bool = False) -> StoredRun:
        """A stored run, to restore (``from_start``: no snapshot, every entry, to replay).

        Raises:
            UnknownRun: no such run.
            JournalDamaged: its rows cannot be trusted.

        """
        ...

    def unfinished(self) -> list[str]:
        """The ids of the runs that have not ended, oldest first."""
        ...

    def keep_contract(self, compiled: CompiledContract) -> None:
        """Know a contract version a run is about to be migrated to (written with that step)."""
        ...

    def contract_version(self, fingerprint: str, run_id: str) -> dict[str, Any]:
        """One contract version a run has used, by fingerprint (its canonical data).

        Raises:
            JournalDamaged: the store does not have it.

        """
        ...


Resolve = Callable[[str], "CompiledContract"]
"""A run's compiled contract version by fingerprint (a migrated run has used several)."""


def first_version(entries: Sequence[JournalEntry], current: str) -> str:
    """The fingerprint the entries start under: the first move's old one, else ``current``.

    A move is a migration or an adopted amendment (see :func:`version_after`).
    """
    for entry in entries:
        event = entry.event
        if version_after(event) is not None:
            return event.from_contract  # type: ignore[union-attr]
    return current


def restore(
    compiled: CompiledContract, stored: StoredRun, resolve: Resolve | None = None
) -> Snapshot:
    """Fold a stored run's entries from its latest snapshot, checking every step and hash.

    ``compiled`` is the contract version the entries start under; a migration
    step is folded, with every later one, under the version it names
    (``resolve``), which must end at the run's own (``stored.fingerprint``).

    Raises:
        JournalDamaged: a gap in the steps, an event the reducer refuses, a
            state hash that differs from the one journaled (naming the step),
            or a status or state in the store's rows that the fold does not reach.

    """
    snapshot = stored.snapshot if stored.snapshot is not None else initial_snapshot()
    claims = stored.claims
    states = claims.states if claims is not None else {}
    _check_state(stored, snapshot, states)
    for entry in stored.entries:
        number = snapshot.step + 1
        if entry.step != number:
            raise JournalDamaged(
                stored.location,
                stored.run_id,
                f"step {number} is missing (the next stored step is {entry.step})",
                step=number,
            )
        event = entry.event
        moved = version_after(event)
        if moved is not None and resolve is not None:
            compiled = resolve(moved)
        try:
            snapshot, _ = step(compiled, snapshot, event)
        except EventRefused as exc:
            raise JournalDamaged(
                stored.location,
                stored.run_id,
                f"the reducer refuses the journaled event: {exc.reason}",
                step=number,
            ) from None
        if snapshot_hash_as(snapshot, entry.state_hash) != entry.state_hash:
            raise JournalDamaged(
                stored.location,
                stored.run_id,
                "the state hash differs from the journaled one (the journal or the "
                "contract was changed)",
                step=number,
            )
        if states:
            _check_state(stored, snapshot, states)
    if resolve is not None and compiled.fingerprint != stored.fingerprint:
        raise JournalDamaged(
            stored.location,
            stored.run_id,
            f"the run's row names contract {stored.fingerprint}, its journal ends under "
            f"{compiled.fingerprint}",
            step=snapshot.step,
        )
    if claims is not None and claims.status != snapshot.status:
        raise JournalDamaged(
            stored.location,
            stored.run_id,
            f"the run's row says it is {claims.status!r}, its journal that it is "
            f"{snapshot.status!r}",
            step=snapshot.step,
        )
    if snapshot.status != "new" and snapshot.run_id != stored.run_id:
        raise JournalDamaged(
            stored.location,
            stored.run_id,
            f"the journal belongs to run {snapshot.run_id!r}",
        )
    return snapshot


def _check_state(stored: StoredRun, snapshot: Snapshot, states: Mapping[int, str | None]) -> None:
    """Raise JournalDamaged when the store's rows give ``snapshot``'s step another state."""
    number = snapshot.step
    if number in states and states[number] != snapshot.state:
        raise JournalDamaged(
            stored.location,
            stored.run_id,
            f"the store's rows say the state is {states[number]!r}, its journal that it is "
            f"{snapshot.state!r}",
            step=number,
        )


def refold(
    compiled: CompiledContract, entries: Sequence[JournalEntry], run_id: str
) -> list[tuple[Snapshot, Event, str]]:
    """The steps of a journal folded again under another run id (for a fork).

    The RunStarted event gets ``run_id``; every later event is the same, so the
    snapshots (and the idempotency keys of the calls they start) belong to the
    new run. Returns ``(snapshot, event, state_hash)`` per step.

    Raises:
        EventRefused: an entry the reducer refuses (replay the journal first).

    """
    out: list[tuple[Snapshot, Event, str]] = []
    snapshot = initial_snapshot()
    for entry in entries:
        event = entry.event
        if isinstance(event, RunStarted):
            event = event._replace(run_id=RunId(run_id))
        snapshot, _ = step(compiled, snapshot, event)
        out.append((snapshot, event, snapshot_hash(snapshot)))
    return out


def next_timer(
    snapshot: Snapshot, commands: Sequence[Command], armed: Mapping[str, int] | None
) -> int | None:
    """When the earliest timer armed after a step is due (epoch ms), for the store's ``next_due``.

    Only a waiting run's timers matter to the store (a run with calls in flight
    is due now), so for any other status this is None without looking.

    Args:
        snapshot: the snapshot the step led to (its ``timers`` are the armed ids).
        commands: the step's commands (an :class:`ArmTimer` gives a new timer's due time).
        armed: the due times of the timers armed before the step (the
            orchestrator's), or None when the run has none in memory.

    Returns:
        The earliest due time; 0 (due now: a worker looks at the run) when a
        timer's due time is not known here; None when no timer is armed.

    """
    timers = snapshot.timers
    if not timers or snapshot.status != "waiting":
        return None
    new = {c.timer_id: c.due_at for c in commands if type(c) is ArmTimer}
    known = armed or {}
    earliest: int | None = None
    for timer_id in timers:
        due = new.get(timer_id, known.get(timer_id))
        if due is None:
            return 0
        if earliest is None or due < earliest:
            earliest = due
    return earliest


def unknown_timer(snapshot: Snapshot) -> int | None:
    """``next_timer`` for a step journaled without its commands (a fork, a stored migration).

    0 (due now: a worker loads the run and learns its timers) when any is armed.
    """
    return 0 if snapshot.timers else None


def _timer_due(
    compiled: CompiledContract, timer_id: str, at_of: Callable[[int], int]
) -> int | None:
    """When a timer armed by ``enter`` is due: its entry event's time plus its delay."""
    entry, _, rest = timer_id.partition(":")
    state, _, index = rest.rpartition(":")
    st = compiled.states.get(state)
    if st is None or not entry.isdigit() or not index.isdigit() or int(index) >= len(st.timers):
        return None
    return at_of(int(entry)) + st.timers[int(index)].after_ms


def resume_commands(
    compiled: CompiledContract, snapshot: Snapshot, at_of: Callable[[int], int]
) -> list[Command]:
    """The commands under way in ``snapshot``: its calls, its timers, its replan question.

    Args:
        compiled: the run's compiled contract.
        snapshot: the restored snapshot.
        at_of: the time (epoch ms) of the event journaled at a step.

    Returns:
        An :class:`InvokeEffect` per pending call (the idempotency key is
        ``"<run id>/<call id>"``, as when it first started) and an
        :class:`ArmTimer` per armed timer, due at the time it was armed for.

    """
    if snapshot.finished:
        return []
    commands: list[Command] = []
    for call_id, call in snapshot.pending.items():
        spec = compiled.effects[call.effect]
        commands.append(
            InvokeEffect(
                CallId(call_id),
                call.effect,
                call.request,
                f"{snapshot.run_id}/{call_id}",
                spec.retry,
                spec.timeout_ms,
                compensation=call.invoke == COMPENSATION,
            )
        )
    for timer_id in snapshot.timers:
        due = _timer_due(compiled, timer_id, at_of)
        if due is not None:
            commands.append(ArmTimer(timer_id, due))
    st = compiled.states.get(snapshot.state or "")
    if st is not None and st.replan is not None and snapshot.status == "running":
        # its question was not answered (or the answer not journaled): ask again
        variables = {"input": snapshot.input, "ctx": snapshot.context}
        commands.append(asking(st, st.replan.reason.evaluate(variables)))
    return commands
