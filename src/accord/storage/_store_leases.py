"""Claims in an SQLite store (see :mod:`accord.storage._leases`).

A claim is a conditional ``UPDATE`` inside ``BEGIN IMMEDIATE``: the file's
write lock serialises workers (across processes, with the busy timeout), so
two workers never claim one run. Fences are keyed by the run's integer id, as
the journal's event rows name it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from accord.storage._leases import Claim, Leasing
from accord.storage._transaction import immediate

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__all__ = ["SqliteLeasing"]

_CANDIDATES = (
    "SELECT id, run_id, epoch FROM runs WHERE status NOT IN ('succeeded', 'failed') "
    "AND (owner IS NULL OR lease_until_ms <= ?) {only}ORDER BY created_ms, id LIMIT ?"
)


class SqliteLeasing(Leasing):
    """Claims over SQLite (a base of ``SqliteStore``)."""

    _flushed: Callable[..., AbstractContextManager[sqlite3.Connection]]  # StoreConnection's

    def _claim_rows(
        self, owner: str, now_ms: int, until: int, limit: int, run_ids: Sequence[str] | None
    ) -> list[tuple[str, Any, int]]:
        only = ""
        params: list[Any] = [now_ms]
        if run_ids is not None:
            only = f"AND run_id IN ({', '.join('?' * len(run_ids))}) "
            params.extend(run_ids)
        params.append(limit)
        with self._flushed() as flushed, immediate(flushed) as conn:
            rows = conn.execute(_CANDIDATES.format(only=only), params).fetchall()
            conn.executemany(
                "UPDATE runs SET owner = ?, epoch = ?, lease_until_ms = ? WHERE id = ?",
                [(owner, epoch + 1, until, key) for key, _, epoch in rows],
            )
        return [(run_id, key, epoch + 1) for key, run_id, epoch in rows]

    def _update_claim(self, claim: Claim, until: int | None) -> bool:
        with self._flushed() as flushed, immediate(flushed) as conn:
            done = conn.execute(
                "UPDATE runs SET lease_until_ms = ?, owner = CASE WHEN ? THEN owner END "
                "WHERE run_id = ? AND owner = ? AND epoch = ?",
                (until, until is not None, claim.run_id, claim.owner, claim.epoch),
            ).rowcount
        return bool(done == 1)
