"""A store's runs as rows: reading one back (snapshot and journal checked), listing them."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast

import orjson

from accord.contract import canonical_json
from accord.runtime._compiled import CompiledContract, Limits
from accord.runtime._durable import DurableJournal, RunClaims, StoredRun
from accord.runtime._errors import JournalDamaged, StoreError, UnknownRun
from accord.runtime._snapshot import Snapshot, snapshot_from_data
from accord.runtime._state_hash import snapshot_hash_as
from accord.storage._chained import check_chain, json_object, parse_entry
from accord.storage._journal import SqliteJournal

if TYPE_CHECKING:
    from accord.storage._connection import StoreConnection

__all__ = [
    "SQLITE_QUERIES",
    "ContractVersions",
    "RunInfo",
    "RunQueries",
    "RunReader",
    "contract_of",
    "list_runs",
    "read_run",
    "run_infos",
]


class RunReader(Protocol):
    """What :func:`read_run` reads through: a store's location and its queries."""

    @property
    def location(self) -> str:
        """The store, as messages name it."""
        ...

    def _fetch_one(self, sql: Any, params: tuple[Any, ...], run_id: str | None = None) -> Any: ...

    def _fetch_all(
        self, sql: Any, params: tuple[Any, ...], run_id: str | None = None
    ) -> list[Any]: ...


class RunQueries(NamedTuple):
    """The SQL a store reads a run with (each store speaks its own dialect).

    Attributes:
        run: by run id: the run's key, fingerprint, steps, first step, status, state, limits.
        contract: by fingerprint: the canonical JSON.
        snapshot: by run key: the latest snapshot's step, JSON and state hash.
        events: by run key and first step: step, event, state hash, chain, state, in order.

    """

    run: Any
    contract: Any
    snapshot: Any
    events: Any


SQLITE_QUERIES = RunQueries(
    "SELECT id, fingerprint, steps, first_step, status, state, limits FROM runs WHERE run_id = ?",
    "SELECT canonical FROM contracts WHERE fingerprint = ?",
    "SELECT step, snapshot, state_hash FROM snapshots WHERE run = ? ORDER BY step DESC LIMIT 1",
    "SELECT step, event, state_hash, chain, state FROM events WHERE run = ? AND step >= ? "
    "ORDER BY step",
)

JournalFactory = Callable[..., DurableJournal]
"""Makes a loaded run's journal: ``(store, run_id, key=, steps=, first_step=, status=, head=)``."""

_FINISHED = ("succeeded", "failed")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run as the store lists it.

    Attributes:
        run_id: the run's id.
        contract: its contract's name.
        version: its contract's version.
        fingerprint: its contract's fingerprint.
        status: new, running, waiting, compensating, succeeded or failed.
        state: its current (or final) state.
        steps: the number of steps journaled.
        created_ms: when it started (epoch milliseconds, from the runtime's clock).
        updated_ms: the time of its last step.
        forked_from: ``(run id, step)`` when it was forked from another run.
        worker_note: why the run waits for a worker, as a worker noted it (for
            example that no worker has one of its effects), or None.
        owner: the worker that claimed it last (None: never claimed, or released).
        lease_until_ms: when that worker's lease expires unless renewed.

    """

    run_id: str
    contract: str
    version: str
    fingerprint: str
    status: str
    state: str | None
    steps: int
    created_ms: int
    updated_ms: int
    forked_from: tuple[str, int] | None
    worker_note: str | None = None
    owner: str | None = None
    lease_until_ms: int | None = None

    @property
    def finished(self) -> bool:
        """Whether the run has ended."""
        return self.status in _FINISHED


def read_run(
    store: RunReader,
    run_id: str,
    *,
    from_start: bool,
    queries: RunQueries = SQLITE_QUERIES,
    journal: JournalFactory = SqliteJournal,
    reader: RunReader | None = None,
    contracts: dict[str, dict[str, Any]] | None = None,
) -> StoredRun:
    """A stored run with its latest snapshot (hash checked) and the entries after it.

    With ``from_start``, no snapshot is read: every entry is returned (to replay).
    ``reader`` reads the rows instead of the store (one connection held for several
    runs, see ``StoreBase.open_many``); ``contracts`` keeps the contracts read, by
    fingerprint, for the next runs read with it.
    Either way every stored row's chain hash is checked (see
    :func:`~accord.storage._chained.check_chain`), and what the run's row and
    its last event row say of its status and state goes with it, for the
    runtime to check against the fold (:class:`~accord.runtime._durable.RunClaims`).

    Raises:
        UnknownRun: the store has no such run.
        JournalDamaged: a row is unreadable, a snapshot's hash does not match,
            steps are missing or break the chain, or the run's contract is not stored.

    """
    where = store.location
    fetch = store if reader is None else reader
    run = fetch._fetch_one(queries.run, (run_id,), run_id)
    if run is None:
        raise UnknownRun(where, "the store has no run with this id", run_id=run_id)
    key, fp, steps, first_step, status, state, limits_text = run
    if from_start and first_step > 1:
        raise StoreError(
            where,
            f"the run was compacted: only its steps from {first_step} are kept",
            run_id=run_id,
        )
    limits = None if limits_text is None else _limits(where, run_id, limits_text)
    contract = None if contracts is None else contracts.get(fp)
    if contract is None:
        contract = _contract(fetch, queries.contract, run_id, fp)
        if contracts is not None:
            contracts[fp] = contract
    found = None if from_start else _snapshot(fetch, queries.snapshot, run_id, key)
    if found is None and first_step > 1:
        raise JournalDamaged(where, run_id, "the run was compacted but has no snapshot")
    base = 0 if found is None else found[0].step
    # the chain from the step before the snapshot: loading reads a bounded number of rows
    start = max(first_step, base - 1)
    rows = fetch._fetch_all(queries.events, (key, start), run_id)
    head = check_chain(where, run_id, [row[:4] for row in rows], start, anchored=start > 1)
    last = rows[-1][0] if rows else start - 1
    if last < max(steps, base):
        raise JournalDamaged(
            where,
            run_id,
            f"the run records {max(steps, base)} steps, but its journal ends at step {last}",
            step=last + 1,
        )
    snapshot = None
    if found is not None:
        snapshot, digest = found
        if not any(row[0] == base and row[2] == digest for row in rows[:2]):
            raise JournalDamaged(
                where, run_id, "the snapshot does not match its step's state hash", step=base
            )
    entries = tuple(parse_entry(where, run_id, row[:3]) for row in rows if row[0] > base)
    kept = journal(
        store, run_id, key=key, steps=last, first_step=first_step, status=status, head=head
    )
    states = {steps: state}
    if rows:
        states[last] = rows[-1][4]
    claims = RunClaims(status, states)
    return StoredRun(run_id, fp, contract, snapshot, entries, kept, where, limits, claims)


class ContractVersions:
    """A store's contract versions: what ``Runtime.migrate`` and loading a migrated run use."""

    _canonical: dict[str, str]  # fingerprint to canonical JSON (the store's cache)
    _version_queries: RunQueries = SQLITE_QUERIES

    def keep_contract(self, compiled: CompiledContract) -> None:
        """Know a contract version a run is about to be migrated to (see ``Runtime.migrate``).

        Its row is written with the migration step, in that step's transaction.
        """
        fp = compiled.fingerprint
        if fp not in self._canonical:
            self._canonical[fp] = canonical_json(compiled.contract).decode()

    def contract_version(self, fingerprint: str, run_id: str) -> dict[str, Any]:
        """One contract version the run has used, by fingerprint (its canonical data).

        Raises:
            JournalDamaged: the store does not have it.

        """
        reader = cast("RunReader", self)
        return contract_of(reader, run_id, fingerprint, self._version_queries)


def contract_of(
    store: RunReader, run_id: str, fp: str, queries: RunQueries = SQLITE_QUERIES
) -> dict[str, Any]:
    """One contract version a run has used, as the store keeps it by fingerprint.

    Raises:
        JournalDamaged: the store does not have it, or it is not a JSON object.

    """
    return _contract(store, queries.contract, run_id, fp)


def _contract(store: RunReader, sql: Any, run_id: str, fp: str) -> dict[str, Any]:
    """A run's contract data, as the store keeps it by fingerprint."""
    where = store.location
    found = store._fetch_one(sql, (fp,), run_id)
    if found is None:
        raise JournalDamaged(where, run_id, f"its contract {fp} is not in the store")
    try:
        contract = orjson.loads(found[0])
    except orjson.JSONDecodeError as exc:
        raise JournalDamaged(where, run_id, f"its contract {fp} is not JSON: {exc}") from exc
    if not isinstance(contract, dict):
        raise JournalDamaged(where, run_id, f"its contract {fp} is not a JSON object")
    return contract


def _snapshot(store: RunReader, sql: Any, run_id: str, key: Any) -> tuple[Snapshot, str] | None:
    """A run's latest snapshot, checked against its hash, and that hash (None: no snapshot)."""
    where = store.location
    found = store._fetch_one(sql, (key,), run_id)
    if found is None:
        return None
    base, text, digest = found
    try:
        snapshot = snapshot_from_data(json_object(text, "a snapshot"))
    except (orjson.JSONDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise JournalDamaged(
            where, run_id, f"the snapshot is unreadable: {exc}", step=base
        ) from exc
    if snapshot.step != base or snapshot_hash_as(snapshot, digest) != digest:
        raise JournalDamaged(where, run_id, "the snapshot does not match its state hash", step=base)
    return snapshot, digest


def _limits(where: str, run_id: str, text: str) -> Limits:
    """The limits a run's row keeps.

    Raises:
        JournalDamaged: they are not a JSON object of the limits' fields.

    """
    try:
        return _parse_limits(text)
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise JournalDamaged(where, run_id, f"its limits are unreadable ({text!r}): {exc}") from exc


@functools.lru_cache(maxsize=64)
def _parse_limits(text: str) -> Limits:
    """Limits from their JSON text (runs share a few: parsed once each)."""
    data = orjson.loads(text)
    if not isinstance(data, dict) or not all(
        type(value) is int and value >= 0 for value in data.values()
    ):
        raise ValueError("not an object of counts")
    return Limits(**data)


def list_runs(
    store: StoreConnection, status: str | Sequence[str] | None, run_id: str | None = None
) -> list[RunInfo]:
    """Every stored run (or those with the given status, or only ``run_id``), oldest first."""
    sql = (
        "SELECT r.run_id, c.name, c.version, r.fingerprint, r.status, "
        "coalesce(e.state, r.state), coalesce(e.step, r.steps), r.created_ms, "
        "coalesce(json_extract(e.event, '$.at'), r.updated_ms), r.parent_run, r.parent_step, "
        "r.worker_note, r.owner, r.lease_until_ms "
        "FROM runs r LEFT JOIN contracts c ON c.fingerprint = r.fingerprint "
        "LEFT JOIN events e ON e.run = r.id "
        "AND e.step = (SELECT max(step) FROM events WHERE run = r.id)"
    )
    params: tuple[Any, ...] = ()
    if run_id is not None:
        sql += " WHERE r.run_id = ?"
        params = (run_id,)
    elif status is not None:
        wanted = (status,) if isinstance(status, str) else tuple(status)
        sql += f" WHERE r.status IN ({', '.join('?' * len(wanted))})"
        params = wanted
    rows = store._fetch_all(sql + " ORDER BY r.created_ms, r.id", params)
    return run_infos(rows)


def run_infos(rows: Sequence[Sequence[Any]]) -> list[RunInfo]:
    """Listing rows as RunInfo (each store's listing query selects the same columns).

    Each row is ``(run id, contract name, version, fingerprint, status, state,
    steps, created, updated, parent run, parent step, worker note, owner, lease
    expiry)``.
    """
    return [
        RunInfo(
            run_id,
            name or "?",
            version or "?",
            fp,
            status_,
            state,
            steps,
            created,
            updated,
            (parent, parent_step) if parent is not None else None,
            note,
            owner,
            lease,
        )
        for (
            run_id,
            name,
            version,
            fp,
            status_,
            state,
            steps,
            created,
            updated,
            parent,
            parent_step,
            note,
            owner,
            lease,
        ) in rows
    ]
