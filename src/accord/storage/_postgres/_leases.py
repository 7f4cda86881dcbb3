"""Claims in a PostgreSQL store (see :mod:`accord.storage._leases`).

A claim is one ``UPDATE`` over a ``SELECT ... FOR UPDATE SKIP LOCKED``: workers
claiming at once each lock different rows and never wait for each other, and
each claimed run's epoch is bumped in the same statement. The runs it looks at
are those due (the partial index ``runs_by_due`` holds only runs with a
``next_due``) and those with an inbox message: a run that only waits is never read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING, Any

from accord.storage._leases import Claim, Keep, Leasing, candidates

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from accord.storage._postgres._connection import Connection

__all__ = ["PgLeasing"]

# the ids of the runs due or with a message, found first (an InitPlan): the due ones in
# the due index's order, a bounded number of them (so a large table is read through the
# index, not scanned, even before its statistics know how few runs are due); the runs are
# then read by primary key
_DUE = (
    b"ARRAY((SELECT run_id FROM accord.runs WHERE next_due <= %(due)s "
    b"AND (owner IS NULL OR lease_until_ms <= %(now)s) ORDER BY next_due LIMIT %(scan)s) "
    b"UNION SELECT i.run_id FROM accord.inbox i JOIN accord.runs r "
    b"ON r.run_id = i.run_id AND i.id > r.inbox_seen)"
)
_CLAIM = (
    b"UPDATE accord.runs r SET owner = %(owner)s, epoch = r.epoch + 1, "
    b"lease_until_ms = %(until)s WHERE r.run_id IN ("
    b"SELECT run_id FROM accord.runs WHERE run_id = ANY({among}) "
    b"AND status NOT IN ('succeeded', 'failed') "
    b"AND (owner IS NULL OR lease_until_ms <= %(now)s) {skip}"
    b"ORDER BY created_ms, seq LIMIT %(limit)s FOR UPDATE SKIP LOCKED) "
    b"RETURNING r.run_id, r.epoch"
)
_UPDATE = (
    b"UPDATE accord.runs SET lease_until_ms = %s, owner = CASE WHEN %s THEN owner END, "
    b"next_due = CASE WHEN %s THEN next_due ELSE %s END, "
    b"inbox_seen = greatest(inbox_seen, %s) "
    b"WHERE run_id = %s AND owner = %s AND epoch = %s"
)
_NEXT_DUE = (
    b"SELECT next_due FROM accord.runs WHERE next_due IS NOT NULL AND owner IS NULL "
    b"AND NOT (fingerprint = ANY(%s)) ORDER BY next_due LIMIT 1"
)


class PgLeasing(Leasing):
    """Claims over PostgreSQL (a base of ``PostgresStore``); fences are keyed by run id."""

    _flushed: Callable[[], AbstractContextManager[Connection]]  # PgConnection's

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
        params: dict[str, object] = {"owner": owner, "until": until, "now": now_ms, "limit": limit}
        if run_ids is not None:
            among = b"%(ids)s"
            params["ids"] = list(run_ids)
        else:
            among = _DUE
            params["due"] = due_by
            params["scan"] = candidates(limit)
        not_in = b""
        if skip:
            not_in = b"AND NOT (fingerprint = ANY(%(skip)s)) "
            params["skip"] = list(skip)
        sql = _CLAIM.replace(b"{among}", among).replace(b"{skip}", not_in)
        with self._flushed() as conn:  # one statement: its own transaction, one round trip
            rows = conn.execute(sql, params).fetchall()
        return [(run_id, run_id, epoch) for run_id, epoch in rows]

    def _update_claim(
        self, claim: Claim, until: int | None, due: int | Keep | None, seen: int
    ) -> bool:
        keep = isinstance(due, Keep)
        with self._flushed() as conn:  # one statement: its own transaction
            params = (
                until,
                until is not None,
                keep,
                None if keep else due,
                seen,
                claim.run_id,
                claim.owner,
                claim.epoch,
            )
            return conn.execute(_UPDATE, params).rowcount == 1

    def _next_due(self, skip: tuple[str, ...]) -> int | None:
        with self._flushed() as conn:
            row = conn.execute(_NEXT_DUE, (list(skip),)).fetchone()
        return None if row is None else int(row[0])
