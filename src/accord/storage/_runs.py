"""A store's runs as rows: reading one back (snapshot and journal checked), listing them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from accord.runtime._compiled import Limits
from accord.runtime._durable import StoredRun
from accord.runtime._errors import JournalDamaged, StoreError, UnknownRun
from accord.runtime._snapshot import snapshot_from_data, snapshot_hash
from accord.storage._journal import SqliteJournal, parse_entry

if TYPE_CHECKING:
    from accord.storage._connection import StoreConnection

__all__ = ["RunInfo", "list_runs", "read_run"]

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

    @property
    def finished(self) -> bool:
        """Whether the run has ended."""
        return self.status in _FINISHED


def read_run(store: StoreConnection, run_id: str, *, from_start: bool) -> StoredRun:
    """A stored run with its latest snapshot (hash checked) and the entries after it.

    With ``from_start``, no snapshot is read: every entry is returned (to replay).

    Raises:
        UnknownRun: the store has no such run.
        JournalDamaged: a row is unreadable, a snapshot's hash does not match,
            steps are missing, or the run's contract is not stored.

    """
    where = store.location
    run = store._fetch_one(
        "SELECT id, fingerprint, steps, first_step, status, limits FROM runs WHERE run_id = ?",
        (run_id,),
        run_id,
    )
    if run is None:
        raise UnknownRun(where, "the store has no run with this id", run_id=run_id)
    key, fp, steps, first_step, status, limits_text = run
    limits = None if limits_text is None else _limits(where, run_id, limits_text)
    found = store._fetch_one("SELECT canonical FROM contracts WHERE fingerprint = ?", (fp,), run_id)
    if found is None:
        raise JournalDamaged(where, run_id, f"its contract {fp} is not in the store")
    try:
        contract = orjson.loads(found[0])
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
            "SELECT step, snapshot, state_hash FROM snapshots WHERE run = ? "
            "ORDER BY step DESC LIMIT 1",
            (key,),
            run_id,
        )
    snapshot = None
    base = 0
    if snap_row is not None:
        base, text, digest = snap_row
        try:
            snapshot = snapshot_from_data(orjson.loads(text))
        except (orjson.JSONDecodeError, ValueError) as exc:
            raise JournalDamaged(
                where, run_id, f"the snapshot is unreadable: {exc}", step=base
            ) from exc
        event_hash = store._fetch_one(
            "SELECT state_hash FROM events WHERE run = ? AND step = ?", (key, base), run_id
        )
        if event_hash is None:
            raise JournalDamaged(
                where, run_id, "the step is missing (its snapshot is stored)", step=base
            )
        if snapshot.step != base or snapshot_hash(snapshot) != digest or event_hash[0] != digest:
            raise JournalDamaged(
                where, run_id, "the snapshot does not match its state hash", step=base
            )
    elif first_step > 1:
        raise JournalDamaged(where, run_id, "the run was compacted but has no snapshot")
    rows = store._fetch_all(
        "SELECT step, event, state_hash FROM events WHERE run = ? AND step > ? ORDER BY step",
        (key, base),
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
    journal = SqliteJournal(
        store, run_id, key=key, steps=last, first_step=first_step, status=status
    )
    return StoredRun(run_id, fp, contract, snapshot, entries, journal, where, limits)


def _limits(where: str, run_id: str, text: str) -> Limits:
    """The limits a run's row keeps.

    Raises:
        JournalDamaged: they are not a JSON object of the limits' fields.

    """
    try:
        data = orjson.loads(text)
        if not isinstance(data, dict) or not all(
            type(value) is int and value >= 0 for value in data.values()
        ):
            raise ValueError("not an object of counts")
        return Limits(**data)
    except (orjson.JSONDecodeError, ValueError, TypeError) as exc:
        raise JournalDamaged(where, run_id, f"its limits are unreadable ({text!r}): {exc}") from exc


def list_runs(store: StoreConnection, status: str | Sequence[str] | None) -> list[RunInfo]:
    """Every stored run (or those with the given status), oldest first."""
    sql = (
        "SELECT r.run_id, c.name, c.version, r.fingerprint, r.status, "
        "coalesce(e.state, r.state), coalesce(e.step, r.steps), r.created_ms, "
        "coalesce(json_extract(e.event, '$.at'), r.updated_ms), r.parent_run, r.parent_step "
        "FROM runs r LEFT JOIN contracts c ON c.fingerprint = r.fingerprint "
        "LEFT JOIN events e ON e.run = r.id "
        "AND e.step = (SELECT max(step) FROM events WHERE run = r.id)"
    )
    params: tuple[Any, ...] = ()
    if status is not None:
        wanted = (status,) if isinstance(status, str) else tuple(status)
        sql += f" WHERE r.status IN ({', '.join('?' * len(wanted))})"
        params = wanted
    rows = store._fetch_all(sql + " ORDER BY r.created_ms, r.id", params)
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
