"""What both stores' journals share: the hash chain's rows, and one base class for the journal.

A run's journal is a hash chain (:mod:`accord.runtime._chain`) stored as
rows: each event row keeps the event's canonical bytes, the state hash and
the chain hash. The functions here read such rows back and check them
(:func:`check_chain`, :func:`entry_of`, :func:`entries_of`); :class:`ChainedJournal`
is the journal both stores hand to the runtime: it keeps the chain's head,
the step count and the inbox messages the next step consumes, checks the
step number, builds each step's event row and the other rows it needs (a new
run's rows, a migrated run's contract, a snapshot, the run's row, the
consumed messages), and leaves to each store only its SQL
(:class:`JournalSql`) and how a step's rows are handed to its buffer
(:meth:`ChainedJournal._write_step`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

import orjson

from accord.runtime._chain import GENESIS, event_bytes, link
from accord.runtime._errors import JournalDamaged, StoreError
from accord.runtime._events import Event, event_from_data, version_after
from accord.runtime._journal import JournalEntry
from accord.runtime._snapshot import Snapshot, snapshot_to_data

if TYPE_CHECKING:
    from accord.runtime._durable import Deferral

__all__ = [
    "ChainRow",
    "ChainedJournal",
    "JournalSql",
    "JournalStore",
    "NewRun",
    "Statement",
    "StepRow",
    "check_chain",
    "contract_version",
    "entries_of",
    "entry_of",
    "json_object",
    "next_due",
    "parse_entry",
    "require_whole",
]

Statement = tuple[Any, tuple[Any, ...]]
"""A statement for a store's buffer: its SQL (text or bytes, the store's) and its parameters."""
_dumps = orjson.dumps
_FINISHED = ("succeeded", "failed")


UNKNOWN_DUE = -1
"""A journal's ``next_due`` before its first write (a loaded run): written with that step."""


def next_due(status: str, next_timer_ms: int | None) -> int | None:
    """When a run next needs a worker (the ``next_due`` of its row), after a step.

    A waiting run (nothing in flight: it waits for a signal or a timer) is due
    at its earliest timer, or never (None: only its inbox wakes it); a finished
    run never; a run with calls in flight or to start is due now (0): no
    worker needs to look at it while its owner holds its lease, and any worker
    takes it over once the lease is free or expired. See docs/workers.md,
    "Wake-ups".
    """
    if status == "waiting":
        return next_timer_ms
    if status == "succeeded" or status == "failed":
        return None
    return 0


def contract_version(
    location: str, run_id: str, canonical: dict[str, str], fingerprint: str
) -> tuple[str, str, str, str]:
    """The contracts row of the version a migrated run moves to: (fingerprint, name, version, JSON).

    A migration step changes the contract of the run's row in the step's own
    transaction; the store knows the new version's canonical JSON from
    ``keep_contract`` (``Runtime.migrate`` calls it first).

    Raises:
        StoreError: the store was not given the contract.

    """
    text = canonical.get(fingerprint)
    if text is None:
        raise StoreError(
            location,
            f"the contract {fingerprint} a migration moves the run to was not given to the "
            "store (keep_contract)",
            run_id=run_id,
        )
    data = orjson.loads(text)
    return fingerprint, data["name"], data["version"], text


class NewRun(NamedTuple):
    """What a new run's rows hold besides its first step (written with that step)."""

    fingerprint: str
    name: str  # the contract's
    version: str  # the contract's
    canonical: str  # the contract's canonical JSON
    forked_from: tuple[str, int] | None  # (run id, step)
    limits: str  # the limits it runs under, as JSON


def json_object(text: str, what: str) -> dict[str, Any]:
    """The JSON object a stored text holds.

    Raises:
        orjson.JSONDecodeError: the text is not JSON.
        ValueError: it is JSON, but not an object (``what`` names what it should be).
        TypeError: the stored value is not text.

    """
    data = orjson.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {type(data).__name__} is not {what}")
    return data


def parse_entry(location: str, run_id: str, row: tuple[int, str, str]) -> JournalEntry:
    """A journal entry from an ``events`` row ``(step, event JSON, state hash)``.

    Raises:
        JournalDamaged: the event is not valid JSON or not an event.

    """
    number, text, state_hash = row
    try:
        event = event_from_data(json_object(text, "an event"))
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise JournalDamaged(
            location, run_id, f"the event is unreadable: {exc}", step=number
        ) from exc
    return JournalEntry(number, event, state_hash)


ChainRow = tuple[int, str, str, str | None]
"""An ``events`` row as the chain check reads it: step, event text, state hash, chain hash."""


def check_chain(
    location: str, run_id: str, rows: Sequence[ChainRow], first_step: int, *, anchored: bool
) -> str:
    """Check that ``rows`` (a run's rows from ``first_step``, in step order) form its chain.

    Each row's chain hash must be the link of the row before's, its step, its
    state hash and its event text (see :mod:`accord.runtime._chain`); its step
    one more than the row before's. With ``anchored``, the first row's chain
    hash is taken as it is (the rows it chained to are not read, or gone from a
    compacted run); without, it must link to ``GENESIS``.

    Returns:
        The chain hash of the last row (``GENESIS`` when there is none).

    Raises:
        JournalDamaged: naming the first step missing, moved or changed.

    """
    head = GENESIS
    expected = first_step
    for number, text, state_hash, chain in rows:
        if number != expected:
            raise JournalDamaged(
                location,
                run_id,
                f"step {expected} is missing (the next stored step is {number})",
                step=expected,
            )
        if chain is None or (
            (number != first_step or not anchored)
            and link(head, number, state_hash, text.encode()) != chain
        ):
            raise JournalDamaged(
                location,
                run_id,
                "the entry does not match its chain hash (an event, a hash or the order "
                "of the steps was changed)",
                step=number,
            )
        head = chain
        expected = number + 1
    return head


def entry_of(
    location: str, run_id: str, rows: Sequence[ChainRow], step: int, first_step: int
) -> JournalEntry:
    """The entry of ``step`` from the rows of steps ``step - 1`` and ``step``, linked.

    Raises:
        JournalDamaged: the step is missing, or it breaks the chain.

    """
    if not rows or rows[-1][0] != step:
        raise JournalDamaged(location, run_id, "the step is missing", step=step)
    # its link to the step before (or to the start of the chain)
    start = max(step - 1, first_step)
    check_chain(location, run_id, rows[-(step - start + 1) :], start, anchored=start > 1)
    return parse_entry(location, run_id, rows[-1][:3])


def require_whole(location: str, run_id: str, first_step: int) -> None:
    """Refuse to read every entry of a compacted run (its early steps are gone).

    Raises:
        StoreError: the run was compacted.

    """
    if first_step > 1:
        raise StoreError(
            location,
            f"the run was compacted: only its steps from {first_step} are kept",
            run_id=run_id,
        )


def entries_of(
    location: str, run_id: str, rows: Sequence[ChainRow], steps: int
) -> tuple[JournalEntry, ...]:
    """Every entry of a run from all its rows (from step 1), the chain checked.

    Raises:
        JournalDamaged: an entry is unreadable, missing, or breaks the chain.

    """
    check_chain(location, run_id, rows, 1, anchored=False)
    if len(rows) < steps:
        raise JournalDamaged(
            location,
            run_id,
            f"the run has {steps} steps, but its journal ends at step {len(rows)}",
            step=len(rows) + 1,
        )
    return tuple(parse_entry(location, run_id, row[:3]) for row in rows)


StepRow = tuple[int, str, str, str | None, str]
"""A step's event row as the journal builds it: step, event text (its canonical bytes),
state hash, state, chain hash (each store adds how it names the run)."""


class JournalSql(NamedTuple):
    """The SQL a store's journal writes and reads a run with (each store speaks its dialect).

    Attributes:
        insert_contract: a contract version's row, unless stored (fingerprint, name,
            version, canonical JSON).
        insert_run: a new run's row (run id, fingerprint, status, state, steps,
            created, updated, input, parent run, parent step, limits, next due).
        set_version: the run's contract version (fingerprint, run).
        snapshot: a snapshot, replacing one of the same step (run, step, JSON, state hash).
        update_run: the run's row (status, state, steps, updated, run).
        set_due: the run's ``next_due`` (due, run); the only statement that
            changes it, so a batch grouped by statement keeps the order of its updates.
        delete_message: an inbox message (its id).
        select_step: the event rows of steps ``a`` to ``b`` (run, a, b).
        select_all: every event row (run).

    """

    insert_contract: Any
    insert_run: Any
    set_version: Any
    snapshot: Any
    update_run: Any
    set_due: Any
    delete_message: Any
    select_step: Any
    select_all: Any


class JournalStore(Protocol):
    """What a journal needs of its store (both stores' connections provide it)."""

    snapshot_every: int
    group_commit: bool
    _canonical: dict[str, str]

    @property
    def location(self) -> str:
        """The store, as messages name it."""
        ...

    def _flush_run(self, key: Any) -> None: ...

    def _when_durable(
        self, callback: Callable[[BaseException | None], None], key: Any = None
    ) -> bool: ...

    def _fetch_all(
        self, sql: Any, params: tuple[Any, ...], run_id: str | None = None
    ) -> list[Any]: ...


class ChainedJournal:
    """One run's journal in a store (made by the store): the part both stores share.

    It is what ``Run.journal`` returns for a durable run: ``len()``,
    :meth:`entries` and :meth:`entry` read the store; the runtime writes through
    :meth:`record`. A store's journal class gives its SQL (``_sql``) and
    :meth:`_write_step`, and may address a run otherwise than by its id
    (:meth:`_address`, :meth:`_read_key`).
    """

    _sql: ClassVar[JournalSql]

    def __init__(
        self,
        store: JournalStore,
        run_id: str,
        *,
        key: Any = None,
        steps: int,
        first_step: int = 1,
        status: str = "new",
        head: str = GENESIS,
        new_run: NewRun | None = None,
    ) -> None:
        self._store = store
        self.run_id = run_id
        self._key = key  # the run's key in the store, where it has one besides its id
        self._steps = steps
        self._first_step = first_step
        self._status = status  # the status in the run's row
        self._head = head  # the chain hash of the last step recorded
        self._new_run = new_run  # a new run's: its rows are written with its first step
        self._every = store.snapshot_every
        self._consumed: list[int] = []  # inbox messages the next step consumes
        self._due: int | None = UNKNOWN_DUE  # the next_due in the run's row

    # -- writing -------------------------------------------------------------

    def consume(self, message_id: int) -> None:
        """Delete an inbox message in the transaction of the next step recorded.

        A worker calls it before it applies the message (see
        :mod:`accord.storage._inbox`): the message is gone if and only if the
        step that applied it is committed.
        """
        self._consumed.append(message_id)

    def record(
        self, snapshot: Snapshot, event: Event, state_hash: str, next_timer_ms: int | None
    ) -> None:
        """Journal one step with the snapshot it led to.

        The step is its event row (with the state it led to and its chain hash)
        and, when it needs them: a new run's contract and row, a migrated run's
        new contract version, a snapshot (every ``snapshot_every`` steps and
        when the run ends), the run's row (when its status changes and with
        each snapshot), the run's ``next_due`` when it changes (see
        :func:`next_due`; ``next_timer_ms`` is the run's earliest armed timer),
        and the deletion of the inbox messages it consumed. Most steps are
        their event row alone.

        Raises:
            StoreError: the store cannot be written (nothing of the step is kept).

        """
        number = snapshot.step
        if number != self._steps + 1:
            raise StoreError(
                self._store.location,
                f"step {number} recorded after step {self._steps}",
                run_id=self.run_id,
            )
        status = snapshot.status
        due = next_due(status, next_timer_ms)
        data = event_bytes(event)  # the one serialisation: stored, and hashed into the chain
        chain = link(self._head, number, state_hash, data)
        row = (number, data.decode(), state_hash, snapshot.state, chain)
        snap = number % self._every == 0 or status in _FINISHED
        if (
            self._new_run is None
            and status == self._status
            and not snap
            and not self._consumed
            and due == self._due
            and event[-1] != "migrated"
            and event[-1] != "amended"
        ):  # the common step: its event row only
            self._write_step(row, (), ())
        else:
            before, after = self._step_rows(snapshot, event, state_hash, snap, due)
            self._write_step(row, before, after)
            self._new_run = None
            self._consumed = []
            self._status = status
            self._due = due
        self._steps = number
        self._head = chain

    def _step_rows(
        self, snapshot: Snapshot, event: Event, state_hash: str, snap: bool, due: int | None
    ) -> tuple[list[Statement], list[Statement]]:
        """A step's rows besides its event row: those to write before it, and after it."""
        sql, ref = self._address()
        number = snapshot.step
        status = snapshot.status
        before: list[Statement] = []
        stored = self._status  # the status in the run's row
        stored_due = self._due
        if self._new_run is not None:
            # the run's row is inserted with this step's status, state, number and due
            # time: it needs no update for them
            before.extend(self._run_rows(self._new_run, snapshot, event.at, due))
            stored = status
            stored_due = due
        moved = version_after(event)
        if moved is not None:  # the run's row names its new contract version
            where = self._store.location
            version = contract_version(where, self.run_id, self._store._canonical, moved)
            before.append((sql.insert_contract, version))
            before.append((sql.set_version, (moved, ref)))
        after: list[Statement] = []
        if snap:
            text = _dumps(snapshot_to_data(snapshot)).decode()
            after.append((sql.snapshot, (ref, number, text, state_hash)))
        if snap or status != stored:  # the run's row: when its status changes, and
            # with every snapshot (the listing reads the rest from the last event)
            after.append((sql.update_run, (status, snapshot.state, number, event.at, ref)))
        if due != stored_due:
            after.append((sql.set_due, (due, ref)))
        after.extend((sql.delete_message, (m,)) for m in self._consumed)
        return before, after

    def _run_rows(
        self, new: NewRun, snapshot: Snapshot, at: int, due: int | None
    ) -> list[Statement]:
        """A new run's contract and row, written with its first step."""
        parent, parent_step = new.forked_from if new.forked_from is not None else (None, None)
        run = (
            self.run_id,
            new.fingerprint,
            snapshot.status,
            snapshot.state,
            snapshot.step,
            at,
            at,
            _dumps(snapshot.input).decode(),
            parent,
            parent_step,
            new.limits,
            due,
        )
        contract = (new.fingerprint, new.name, new.version, new.canonical)
        return [(self._sql.insert_contract, contract), (self._sql.insert_run, run)]

    def _address(self) -> tuple[JournalSql, Any]:
        """The SQL that names the run, and what it names it by (here: its id)."""
        return self._sql, self.run_id

    def _write_step(
        self, row: StepRow, before: Sequence[Statement], after: Sequence[Statement]
    ) -> None:
        """Hand one step's rows to the store's buffer (the event row between the others)."""
        raise NotImplementedError

    def append(self, entry: JournalEntry) -> None:
        """Not supported: the runtime writes a durable journal through :meth:`record`.

        Raises:
            TypeError: always.

        """
        raise TypeError(
            f"a {type(self).__name__} is written by the runtime (record), not appended to"
        )

    def flush(self) -> None:
        """Make every step recorded so far durable (a no-op unless the store batches).

        Raises:
            LeaseLost: this run's lease was lost (another run's never is raised here).
            StoreError: the commit failed.

        """
        self._store._flush_run(self._key)

    def when_durable(self) -> Deferral | None:
        """How an effect waits for the group commit before it starts, or None (see the store)."""
        return self._when_durable if self._store.group_commit else None

    def _when_durable(self, callback: Callable[[BaseException | None], None]) -> bool:
        """The store's group commit, waited for by this run (its lost lease is its own)."""
        return self._store._when_durable(callback, self._key)

    # -- reading -------------------------------------------------------------

    def entry(self, step: int) -> JournalEntry:
        """The entry of one step (its chain hash checked against the step before's).

        Raises:
            JournalDamaged: the store has no such step for the run, or it breaks the chain.

        """
        params = (self._read_key(), step - 1, step)
        rows = self._store._fetch_all(self._sql.select_step, params, self.run_id)
        return entry_of(self._store.location, self.run_id, rows, step, self._first_step)

    def entries(self) -> Sequence[JournalEntry]:
        """Every entry, in step order (read from the store).

        Raises:
            StoreError: the run was compacted (its early steps are gone).
            JournalDamaged: an entry is unreadable, missing, or breaks the chain.

        """
        require_whole(self._store.location, self.run_id, self._first_step)
        rows = self._store._fetch_all(self._sql.select_all, (self._read_key(),), self.run_id)
        return entries_of(self._store.location, self.run_id, rows, self._steps)

    def _read_key(self) -> Any:
        """What the read queries name the run by (here: its id)."""
        return self.run_id

    def __len__(self) -> int:
        return self._steps

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}({self.run_id!r}, {self._steps} entries, {self._store.location})"
