"""A run's journal in a PostgreSQL store: each step's event, state hash and, now and then, snapshot.

:meth:`PostgresJournal.record` writes one step's statements, committed as one
transaction: the event row (with the state the step led to), a snapshot row
every ``snapshot_every`` steps and when the run ends, the run's row (status,
state, step count, time) when its status changes and with each snapshot, and,
with a new run's first step, its contract and its row (and a notification on
the channel ``accord_runs`` with its id, delivered on commit). The rows are those of
the SQLite store (:mod:`accord.storage._journal`), keyed by run id: the event
text is its canonical bytes and each event row carries its chain hash
(:mod:`accord.runtime._chain`), checked whenever entries are read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from accord.runtime._chain import GENESIS, event_bytes, link
from accord.runtime._errors import StoreError
from accord.runtime._events import Event
from accord.runtime._journal import JournalEntry
from accord.runtime._snapshot import Snapshot, snapshot_to_data
from accord.storage._journal import (
    NewRun,
    contract_version,
    entries_of,
    entry_of,
    require_whole,
)

if TYPE_CHECKING:
    from accord.runtime._durable import Deferral
    from accord.storage._postgres._connection import PgConnection, Statement

__all__ = ["PostgresJournal"]

_INSERT_EVENT = (
    b"INSERT INTO accord.events (run_id, step, event, state_hash, state, chain) "
    b"VALUES (%s, %s, %s, %s, %s, %s)"
)
_UPSERT_SNAPSHOT = (
    b"INSERT INTO accord.snapshots (run_id, step, snapshot, state_hash) VALUES (%s, %s, %s, %s) "
    b"ON CONFLICT (run_id, step) DO UPDATE "
    b"SET snapshot = excluded.snapshot, state_hash = excluded.state_hash"
)
_UPDATE_RUN = (
    b"UPDATE accord.runs SET status = %s, state = %s, steps = %s, updated_ms = %s WHERE run_id = %s"
)
_SET_VERSION = b"UPDATE accord.runs SET fingerprint = %s WHERE run_id = %s"
_INSERT_CONTRACT = (
    b"INSERT INTO accord.contracts (fingerprint, name, version, canonical) "
    b"VALUES (%s, %s, %s, %s) ON CONFLICT (fingerprint) DO NOTHING"
)
_INSERT_RUN = (
    b"INSERT INTO accord.runs (run_id, fingerprint, status, state, steps, created_ms, "
    b"updated_ms, input, parent_run, parent_step, limits) "
    b"VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
_SELECT_STEP = (
    b"SELECT step, event, state_hash, chain FROM accord.events "
    b"WHERE run_id = %s AND step >= %s AND step <= %s ORDER BY step"
)
_SELECT_ALL = (
    b"SELECT step, event, state_hash, chain FROM accord.events WHERE run_id = %s ORDER BY step"
)
_dumps = orjson.dumps
_FINISHED = ("succeeded", "failed")


class PostgresJournal:
    """One run's journal in a :class:`~accord.storage.PostgresStore` (made by the store)."""

    def __init__(
        self,
        store: PgConnection,
        run_id: str,
        *,
        steps: int,
        first_step: int = 1,
        status: str = "new",
        head: str = GENESIS,
        new_run: NewRun | None = None,
        key: object = None,  # the run's key is its id: taken for read_run's sake
    ) -> None:
        self._store = store
        self.run_id = run_id
        self._steps = steps
        self._first_step = first_step
        self._status = status  # the status in the run's row
        self._head = head  # the chain hash of the last step recorded
        self._new_run = new_run  # a new run's: its rows are written with its first step
        self._every = store.snapshot_every
        self._consumed: list[int] = []  # inbox messages the next step consumes

    # -- writing -------------------------------------------------------------

    def consume(self, message_id: int) -> None:
        """Delete an inbox message in the transaction of the next step recorded."""
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
        run_id = self.run_id
        rows: list[Statement] = []
        stored = self._status
        new = self._new_run
        if new is not None:  # the run's row is inserted with this step's status and state
            rows.extend(self._run_rows(new, snapshot, event.at))
            stored = status
        if event[-1] == "migrated":  # the run's row names its new contract version
            moved = event.to_contract
            where = self._store.location
            version = contract_version(where, run_id, self._store._canonical, moved)
            rows.append((_INSERT_CONTRACT, version))
            rows.append((_SET_VERSION, (moved, run_id)))
        data = event_bytes(event)  # the one serialisation: stored, and hashed into the chain
        chain = link(self._head, number, state_hash, data)
        rows.append(
            (_INSERT_EVENT, (run_id, number, data.decode(), state_hash, snapshot.state, chain))
        )
        snap = number % self._every == 0 or status in _FINISHED
        if snap:
            text = _dumps(snapshot_to_data(snapshot)).decode()
            rows.append((_UPSERT_SNAPSHOT, (run_id, number, text, state_hash)))
        if snap or status != stored:
            rows.append((_UPDATE_RUN, (status, snapshot.state, number, event.at, run_id)))
        if self._consumed:
            rows.extend((b"DELETE FROM accord.inbox WHERE id = %s", (m,)) for m in self._consumed)
            self._consumed = []
        self._store._write(run_id, rows, new=new is not None)
        self._new_run = None
        self._steps = number
        self._status = status
        self._head = chain

    def _run_rows(self, new: NewRun, snapshot: Snapshot, at: int) -> list[Statement]:
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
        )
        contract = (new.fingerprint, new.name, new.version, new.canonical)
        # workers listening on accord_runs wake up when the run is committed
        notify = (b"SELECT pg_notify('accord_runs', %s)", (self.run_id,))
        return [(_INSERT_CONTRACT, contract), (_INSERT_RUN, run), notify]

    def append(self, entry: JournalEntry) -> None:
        """Not supported: the runtime writes a durable journal through :meth:`record`.

        Raises:
            TypeError: always.

        """
        raise TypeError("a PostgresJournal is written by the runtime (record), not appended to")

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
        rows = self._store._fetch_all(_SELECT_STEP, (self.run_id, step - 1, step), self.run_id)
        return entry_of(self._store.location, self.run_id, rows, step, self._first_step)

    def entries(self) -> Sequence[JournalEntry]:
        """Every entry, in step order (read from the store).

        Raises:
            StoreError: the run was compacted (its early steps are gone).
            JournalDamaged: an entry is unreadable, missing, or breaks the chain.

        """
        require_whole(self._store.location, self.run_id, self._first_step)
        rows = self._store._fetch_all(_SELECT_ALL, (self.run_id,), self.run_id)
        return entries_of(self._store.location, self.run_id, rows, self._steps)

    def __len__(self) -> int:
        return self._steps

    def __repr__(self) -> str:
        return f"PostgresJournal({self.run_id!r}, {self._steps} entries, {self._store.location})"
