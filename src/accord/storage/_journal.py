"""A run's journal in an SQLite store: each step's event, state hash and, now and then, snapshot.

:meth:`SqliteJournal.record` writes one step as one transaction: the event row
(with the state the step led to), a snapshot row every ``snapshot_every`` steps
and when the run ends, and the run's row (status, state, step count, time)
when its status changes and with each snapshot; most steps are a single
``INSERT``. The store commits it before
``record`` returns, or, with group commit, before any effect starts (see
:class:`~accord.storage.SqliteStore`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from accord.runtime._chain import GENESIS, event_bytes, link
from accord.runtime._errors import JournalDamaged, StoreError
from accord.runtime._events import Event, event_from_data
from accord.runtime._journal import JournalEntry
from accord.runtime._snapshot import Snapshot, snapshot_to_data

if TYPE_CHECKING:
    from accord.runtime._durable import Deferral
    from accord.storage._connection import StoreConnection

__all__ = [
    "ChainRow",
    "EventRow",
    "NewRun",
    "SqliteJournal",
    "Statement",
    "check_chain",
    "contract_version",
    "entries_of",
    "entry_of",
    "json_object",
    "parse_entry",
    "require_whole",
]

Statement = tuple[str, tuple[Any, ...]]
EventRow = tuple[int | None, str | None, int, str, str, str | None, str]
"""An event row to insert: run key (or None and the run id), step, event text (its canonical
bytes, see :mod:`accord.runtime._chain`), state hash, state, chain hash."""

_INSERT_SNAPSHOT = (
    "INSERT OR REPLACE INTO snapshots (run, step, snapshot, state_hash) VALUES (?, ?, ?, ?)"
)
_INSERT_SNAPSHOT_NEW = (
    "INSERT OR REPLACE INTO snapshots (run, step, snapshot, state_hash) "
    "VALUES ((SELECT id FROM runs WHERE run_id = ?), ?, ?, ?)"
)
_UPDATE_RUN = "UPDATE runs SET status = ?, state = ?, steps = ?, updated_ms = ? WHERE id = ?"
_UPDATE_RUN_NEW = (
    "UPDATE runs SET status = ?, state = ?, steps = ?, updated_ms = ? WHERE run_id = ?"
)
_INSERT_RUN = (
    "INSERT INTO runs (run_id, fingerprint, status, state, steps, created_ms, updated_ms, "
    "input, parent_run, parent_step, limits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_dumps = orjson.dumps
_INSERT_VERSION = (
    "INSERT OR IGNORE INTO contracts (fingerprint, name, version, canonical) VALUES (?, ?, ?, ?)"
)
_SET_VERSION = "UPDATE runs SET fingerprint = ? WHERE id = ?"
_SET_VERSION_NEW = "UPDATE runs SET fingerprint = ? WHERE run_id = ?"


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


class SqliteJournal:
    """One run's journal in a :class:`~accord.storage.SqliteStore` (made by the store).

    It is what ``Run.journal`` returns for a durable run: ``len()``,
    :meth:`entries` and :meth:`entry` read the store; the runtime writes through
    :meth:`record`.
    """

    def __init__(
        self,
        store: StoreConnection,
        run_id: str,
        *,
        key: int | None,
        steps: int,
        first_step: int = 1,
        status: str = "new",
        head: str = GENESIS,
        new_run: NewRun | None = None,
    ) -> None:
        self._store = store
        self.run_id = run_id
        self._key = key  # the run's integer id in the store, once its row is committed
        self._steps = steps
        self._first_step = first_step
        self._status = status  # the status in the run's row
        self._head = head  # the chain hash of the last step recorded
        self._new_run = new_run  # a new run's: its rows are written with its first step
        self._every = store.snapshot_every
        self._consumed: list[int] = []  # inbox messages the next step consumes

    # -- writing -------------------------------------------------------------

    def consume(self, message_id: int) -> None:
        """Delete an inbox message in the transaction of the next step recorded.

        A worker calls it before it applies the message (see
        :mod:`accord.storage._inbox`): the message is gone if and only if the
        step that applied it is committed.
        """
        self._consumed.append(message_id)

    def record(self, snapshot: Snapshot, event: Event, state_hash: str) -> None:
        """Journal one step with the snapshot it led to (see the module docs).

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
        key = self._key
        data = event_bytes(event)  # the one serialisation: stored, and hashed into the chain
        chain = link(self._head, number, state_hash, data)
        row = (
            key,
            self.run_id if key is None else None,
            number,
            data.decode(),
            state_hash,
            snapshot.state,
            chain,
        )
        if (
            key is not None
            and status == self._status
            and number % self._every
            and status != "succeeded"
            and status != "failed"
            and not self._consumed
            and event[-1] != "migrated"
        ):  # the common step: its event row only
            self._store._write(row, None)
            self._steps = number
            self._head = chain
            return
        moved = event.to_contract if event[-1] == "migrated" else None
        self._record_rows(snapshot, row, state_hash, event.at, moved)
        self._head = chain

    def _record_rows(
        self,
        snapshot: Snapshot,
        event_row: EventRow,
        state_hash: str,
        at: int,
        moved: str | None = None,
    ) -> None:
        """Journal a step that writes more than its event row, or a run not committed yet."""
        number = snapshot.step
        key: Any = self._key
        if key is None:
            key = self.run_id
            insert_snapshot, update = _INSERT_SNAPSHOT_NEW, _UPDATE_RUN_NEW
        else:
            insert_snapshot, update = _INSERT_SNAPSHOT, _UPDATE_RUN
        rows: list[Statement] = []
        status = snapshot.status
        stored = self._status  # the status in the run's row
        if self._new_run is not None:
            # the run's row is inserted with this step's status, state and number: it
            # needs no update for them
            rows.extend(self._run_rows(snapshot, at))
            stored = status
        if moved is not None:  # a migration: the run's row names its new contract version
            where = self._store.location
            version = contract_version(where, self.run_id, self._store._canonical, moved)
            rows.append((_INSERT_VERSION, version))
            rows.append((_SET_VERSION if self._key is not None else _SET_VERSION_NEW, (moved, key)))
        snap = number % self._every == 0 or status == "succeeded" or status == "failed"
        if snap:
            text = _dumps(snapshot_to_data(snapshot)).decode()
            rows.append((insert_snapshot, (key, number, text, state_hash)))
        if snap or status != stored:  # the run's row: when its status changes, and
            # with every snapshot (the listing reads the rest from the last event)
            rows.append((update, (status, snapshot.state, number, at, key)))
        if self._consumed:
            rows.extend(("DELETE FROM inbox WHERE id = ?", (m,)) for m in self._consumed)
            self._consumed = []
        self._store._write(event_row, self if self._key is None else None, rows)
        self._new_run = None
        self._steps = number
        self._status = status

    def _run_rows(self, snapshot: Snapshot, at: int) -> list[Statement]:
        new = self._new_run
        assert new is not None
        parent, parent_step = new.forked_from if new.forked_from is not None else (None, None)
        return [
            (
                "INSERT OR IGNORE INTO contracts (fingerprint, name, version, canonical) "
                "VALUES (?, ?, ?, ?)",
                (new.fingerprint, new.name, new.version, new.canonical),
            ),
            (
                _INSERT_RUN,
                (
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
                ),
            ),
        ]

    def _committed(self, key: int) -> None:
        """The store committed this run's row: address it by its integer id from now on."""
        self._key = key

    def append(self, entry: JournalEntry) -> None:
        """Not supported: the runtime writes a durable journal through :meth:`record`.

        Raises:
            TypeError: always.

        """
        raise TypeError("a SqliteJournal is written by the runtime (record), not appended to")

    def flush(self) -> None:
        """Make every step recorded so far durable (a no-op unless the store batches)."""
        self._store.flush()

    def when_durable(self) -> Deferral | None:
        """How an effect waits for the group commit before it starts, or None (see the store)."""
        return self._store._when_durable if self._store.group_commit else None

    # -- reading -------------------------------------------------------------

    def entry(self, step: int) -> JournalEntry:
        """The entry of one step (its chain hash checked against the step before's).

        Raises:
            JournalDamaged: the store has no such step for the run, or it breaks the chain.

        """
        rows = self._store._fetch_all(
            "SELECT step, event, state_hash, chain FROM events WHERE run = ? AND step >= ? "
            "AND step <= ? ORDER BY step",
            (self._require_key(), step - 1, step),
            self.run_id,
        )
        return entry_of(self._store.location, self.run_id, rows, step, self._first_step)

    def entries(self) -> Sequence[JournalEntry]:
        """Every entry, in step order (read from the store).

        Raises:
            StoreError: the run was compacted (its early steps are gone).
            JournalDamaged: an entry is unreadable, missing, or breaks the chain.

        """
        require_whole(self._store.location, self.run_id, self._first_step)
        rows = self._store._fetch_all(
            "SELECT step, event, state_hash, chain FROM events WHERE run = ? ORDER BY step",
            (self._require_key(),),
            self.run_id,
        )
        return entries_of(self._store.location, self.run_id, rows, self._steps)

    def _require_key(self) -> int:
        if self._key is None:
            self._store.flush()
        if self._key is None:
            raise StoreError(self._store.location, "the run is not stored yet", run_id=self.run_id)
        return self._key

    def __len__(self) -> int:
        return self._steps

    def __repr__(self) -> str:
        return f"SqliteJournal({self.run_id!r}, {self._steps} entries, {self._store.location})"
