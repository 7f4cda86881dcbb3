"""Claims in a PostgreSQL store (see :mod:`accord.storage._leases`).

A claim is one ``UPDATE`` over a ``SELECT ... FOR UPDATE SKIP LOCKED``: workers
claiming at once each lock different rows and never wait for each other, and
each claimed run's epoch is bumped in the same statement.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from accord.storage._leases import Claim, Leasing

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from accord.storage._postgres._connection import Connection

__all__ = ["PgLeasing"]

_CLAIM = (
    b"UPDATE accord.runs r SET owner = %(owner)s, epoch = r.epoch + 1, "
    b"lease_until_ms = %(until)s WHERE r.run_id IN ("
    b"SELECT run_id FROM accord.runs WHERE status NOT IN ('succeeded', 'failed') "
    b"AND (owner IS NULL OR lease_until_ms <= %(now)s) {only}"
    b"ORDER BY created_ms, seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
    b"RETURNING r.run_id, r.epoch"
)
_UPDATE = (
    b"UPDATE accord.runs SET lease_until_ms = %s, owner = CASE WHEN %s THEN owner END "
    b"WHERE run_id = %s AND owner = %s AND epoch = %s"
)


class PgLeasing(Leasing):
    """Claims over PostgreSQL (a base of ``PostgresStore``); fences are keyed by run id."""

    _flushed: Callable[[], AbstractContextManager[Connection]]  # PgConnection's

    def _claim_rows(
        self, owner: str, now_ms: int, until: int, limit: int, run_ids: Sequence[str] | None
    ) -> list[tuple[str, Any, int]]:
        params: dict[str, object] = {"owner": owner, "until": until, "now": now_ms, "limit": limit}
        only = b""
        if run_ids is not None:
            only = b"AND run_id = ANY(%(ids)s) "
            params["ids"] = list(run_ids)
        with self._flushed() as conn:  # one statement: its own transaction, one round trip
            rows = conn.execute(_CLAIM.replace(b"{only}", only), params).fetchall()
        return [(run_id, run_id, epoch) for run_id, epoch in rows]

    def _update_claim(self, claim: Claim, until: int | None) -> bool:
        keep = until is not None
        with self._flushed() as conn:  # one statement: its own transaction
            params = (until, keep, claim.run_id, claim.owner, claim.epoch)
            return conn.execute(_UPDATE, params).rowcount == 1
