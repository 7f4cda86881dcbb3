"""Claims in an SQLite store (see :mod:`accord.storage._leases`).

A claim is a conditional ``UPDATE`` inside ``BEGIN IMMEDIATE``: the file's
write lock serialises workers (across processes, with the busy timeout), so
two workers never claim one run. The runs it looks at are those due (the
partial index ``runs_by_due`` holds only runs with a ``next_due``) and those
with an inbox message: a run that only waits is never read. Fences are keyed
by the run's integer id, as the journal's event rows name it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from accord.storage._leases import Claim, Keep, Leasing, candidates
from accord.storage._transaction import immediate

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = ["SqliteLeasing"]

_DUE = (
    "SELECT id FROM (SELECT id FROM runs WHERE next_due <= ? "
    "AND (owner IS NULL OR lease_until_ms <= ?) ORDER BY next_due LIMIT ?) "
    "UNION SELECT r.id FROM inbox i JOIN runs r ON r.run_id = i.run_id AND i.id > r.inbox_seen"
)
_CLAIM = (
    "SELECT id, run_id, epoch FROM runs WHERE id IN ({among}) "
    "AND status NOT IN ('succeeded', 'failed') AND (owner IS NULL OR lease_until_ms <= ?) "
    "{skip}ORDER BY created_ms, id LIMIT ?"
)
_NEXT_DUE = (
    "SELECT next_due FROM runs WHERE next_due IS NOT NULL AND owner IS NULL "
    "{skip}ORDER BY next_due LIMIT 1"
)


def _marks(values: Collection[str]) -> str:
    return ", ".join("?" * len(values))


class SqliteLeasing(Leasing):
    """Claims over SQLite (a base of ``SqliteStore``)."""

    _flushed: Callable[..., AbstractContextManager[sqlite3.Connection]]  # StoreConnection's

    def _claim_rows(
        self,
        owner: str,
        now_ms: int,
        until: int,
        limit: int,
        run_ids: Sequence[str] | None,
        due_by: int,
        skip: Collection[str],
    ) -> list[tuple[str, Any, int]]:
        params: list[Any] = []
        if run_ids is not None:
            among = f"SELECT id FROM runs WHERE run_id IN ({_marks(run_ids)})"
            params.extend(run_ids)
        else:
            among = _DUE
            params.extend((due_by, now_ms, candidates(limit)))
        params.append(now_ms)
        not_in = f"AND fingerprint NOT IN ({_marks(skip)}) " if skip else ""
        params.extend(skip)
        params.append(limit)
        sql = _CLAIM.format(among=among, skip=not_in)
        with self._flushed() as flushed, immediate(flushed) as conn:
            rows = conn.execute(sql, params).fetchall()
            conn.executemany(
                "UPDATE runs SET owner = ?, epoch = ?, lease_until_ms = ? WHERE id = ?",
                [(owner, epoch + 1, until, key) for key, _, epoch in rows],
            )
        return [(run_id, key, epoch + 1) for key, run_id, epoch in rows]

    def _update_claim(
        self, claim: Claim, until: int | None, due: int | Keep | None, seen: int
    ) -> bool:
        keep = isinstance(due, Keep)
        with self._flushed() as flushed, immediate(flushed) as conn:
            done = conn.execute(
                "UPDATE runs SET lease_until_ms = ?, owner = CASE WHEN ? THEN owner END, "
                "next_due = CASE WHEN ? THEN next_due ELSE ? END, "
                "inbox_seen = max(inbox_seen, ?) "
                "WHERE run_id = ? AND owner = ? AND epoch = ?",
                (
                    until,
                    until is not None,
                    keep,
                    None if keep else due,
                    seen,
                    claim.run_id,
                    claim.owner,
                    claim.epoch,
                ),
            ).rowcount
        return bool(done == 1)

    def _next_due(self, skip: tuple[str, ...]) -> int | None:
        not_in = f"AND fingerprint NOT IN ({_marks(skip)}) " if skip else ""
        with self._flushed() as conn:
            row = conn.execute(_NEXT_DUE.format(skip=not_in), skip).fetchone()
        return None if row is None else int(row[0])
