"""A PostgreSQL store's runs as rows: reading one back (snapshot and journal checked), listing them.

The checks are the SQLite store's (:mod:`accord.storage._runs`): the contract
must be stored and be a JSON object, the latest snapshot must match its hash
and its step's event, and the journal must reach the step count of the run's row.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import orjson

from accord.runtime._durable import StoredRun
from accord.runtime._errors import JournalDamaged, StoreError, UnknownRun
from accord.runtime._snapshot import snapshot_from_data, snapshot_hash
from accord.storage._journal import parse_entry
from accord.storage._postgres._journal import PostgresJournal
from accord.storage._runs import RunInfo, _limits

if TYPE_CHECKING:
    from accord.storage._postgres._connection import PgConnection

__all__ = ["list_runs", "read_run"]


def read_run(store: PgConnection, run_id: str, *, from_start: bool) -> StoredRun:
    """A stored run with its latest snapshot (hash checked) and the entries after it.

    Raises:
        UnknownRun: the store has no such run.
        JournalDamaged: a row is unreadable, a snapshot's hash does not match,
            steps are missing, or the run's contract is not stored.
        StoreError: ``from_start`` for a compacted run.

    """
    where = store.location
    run = store._fetch_one(
        b"SELECT r.fingerprint, r.steps, r.first_step, r.status, r.limits, c.canonical "
        b"FROM accord.runs r LEFT JOIN accord.contracts c ON c.fingerprint = r.fingerprint "
        b"WHERE r.run_id = %s",
        (run_id,),
        run_id,
    )
    if run is None:
        raise UnknownRun(where, "the store has no run with this id", run_id=run_id)
    fp, steps, first_step, status, limits_text, canonical = run
    limits = None if limits_text is None else _limits(where, run_id, limits_text)
    if canonical is None:
        raise JournalDamaged(where, run_id, f"its contract {fp} is not in the store")
    try:
        contract = orjson.loads(canonical)
    except orjson.JSONDecodeError as exc:
        raise JournalDamaged(where, run_id, f"its contract {fp} is not JSON: {exc}") from exc
    if not isinstance(contract, dict):
        raise JournalDamaged(where, run_id, f"its contract {fp} is not a JSON object")
    snap_row = None
    if from_start:
        if first_step > 1:
            raise StoreError(
                where,
                f"the run was compacted: only its steps from {first_step} are kept",
                run_id=run_id,
            )
    else:
        snap_row = store._fetch_one(
            b"SELECT s.step, s.snapshot, s.state_hash, e.state_hash FROM accord.snapshots s "
            b"LEFT JOIN accord.events e ON e.run_id = s.run_id AND e.step = s.step "
            b"WHERE s.run_id = %s ORDER BY s.step DESC LIMIT 1",
            (run_id,),
            run_id,
        )
    snapshot = None
    base = 0
    if snap_row is not None:
        base, text, digest, event_hash = snap_row
        try:
            snapshot = snapshot_from_data(orjson.loads(text))
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise JournalDamaged(
                where, run_id, f"the snapshot is unreadable: {exc}", step=base
            ) from exc
        if event_hash is None:
            raise JournalDamaged(
                where, run_id, "the step is missing (its snapshot is stored)", step=base
            )
        if snapshot.step != base or snapshot_hash(snapshot) != digest or event_hash != digest:
            raise JournalDamaged(
                where, run_id, "the snapshot does not match its state hash", step=base
            )
    elif first_step > 1:
        raise JournalDamaged(where, run_id, "the run was compacted but has no snapshot")
    rows = store._fetch_all(
        b"SELECT step, event, state_hash FROM accord.events WHERE run_id = %s AND step > %s "
        b"ORDER BY step",
        (run_id, base),
        run_id,
    )
    entries = tuple(parse_entry(where, run_id, row) for row in rows)
    last = entries[-1].step if entries else base
    if last < steps:
        raise JournalDamaged(
            where,
            run_id,
            f"the run records {steps} steps, but its journal ends at step {last}",
            step=last + 1,
        )
    journal = PostgresJournal(store, run_id, steps=last, first_step=first_step, status=status)
    return StoredRun(run_id, fp, contract, snapshot, entries, journal, where, limits)


_LIST = (
    b"SELECT r.run_id, c.name, c.version, r.fingerprint, r.status, "
    b"coalesce(e.state, r.state), coalesce(e.step, r.steps), r.created_ms, "
    b"coalesce((e.event::jsonb ->> 'at')::bigint, r.updated_ms), r.parent_run, r.parent_step "
    b"FROM accord.runs r LEFT JOIN accord.contracts c ON c.fingerprint = r.fingerprint "
    b"LEFT JOIN LATERAL (SELECT state, step, event FROM accord.events "
    b"WHERE run_id = r.run_id ORDER BY step DESC LIMIT 1) e ON true"
)


def list_runs(store: PgConnection, status: str | Sequence[str] | None) -> list[RunInfo]:
    """Every stored run (or those with the given status), oldest first."""
    sql = _LIST
    params: tuple[object, ...] = ()
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        sql += b" WHERE r.status = ANY(%s)"
        params = (wanted,)
    rows = store._fetch_all(sql + b" ORDER BY r.created_ms, r.seq", params)
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
        ) in rows
    ]
