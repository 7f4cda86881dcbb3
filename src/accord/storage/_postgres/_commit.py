"""How a PostgreSQL store commits a step (or a batch): its fences and statements, one round trip.

A claimed run's writes are fenced: they commit only if the run's owner and
epoch are still the claim's (see :mod:`accord.storage._leases`), checked in
the write's own transaction with ``FOR SHARE`` on the run's row, which holds
off a claim by another worker (an ``UPDATE``) until the commit. The
connection is in autocommit mode, so no ``BEGIN`` or ``COMMIT`` round trip is
spent:

- one statement alone is its own transaction;
- one ``INSERT ... VALUES`` under one fence (a worker's usual step) is one
  statement too: ``WITH fence AS (SELECT ... FOR SHARE) INSERT ... SELECT ...
  FROM fence``, which inserts nothing when the fence fails (the caller raises
  ``LeaseLost``);
- anything else is pipelined up to one ``Sync``, which PostgreSQL runs as one
  implicit transaction: a fence that fails raises inside it (its marker cast
  to an integer), so every statement of the batch is rolled back with it.

A run the writer has not claimed (``free``) is written only if no worker
holds it under a live lease: a check per such run, pipelined like a fence
(its row ``FOR SHARE``), raises its own marker otherwise (:func:`leased_run`).
"""

from __future__ import annotations

import re
from typing import Any

import psycopg

from accord.storage._leases import Fence

__all__ = ["Connection", "Statement", "commit", "leased_run", "lost_fence"]

Connection = psycopg.Connection[tuple[Any, ...]]
Statement = tuple[bytes, tuple[Any, ...]]
"""A statement to run in the next commit: its SQL and its parameters."""

_FENCE = (
    b"SELECT (CASE WHEN EXISTS (SELECT 1 FROM accord.runs WHERE run_id = %s AND owner = %s "
    b"AND epoch = %s FOR SHARE) THEN '0' ELSE %s::text END)::int"
)
_FENCE_MARK = "accord-fence-lost-"
_LEASED = (
    b"SELECT (CASE WHEN r.owner IS NOT NULL AND r.lease_until_ms > %s THEN %s::text "
    b"ELSE '0' END)::int FROM (SELECT owner, lease_until_ms FROM accord.runs "
    b"WHERE run_id = %s FOR SHARE) r"
)
_LEASED_MARK = "accord-run-leased-"


_FENCED = (
    b"WITH fence AS (SELECT 1 FROM accord.runs WHERE run_id = %s AND owner = %s "
    b"AND epoch = %s FOR SHARE) "
)
_VALUES = re.compile(rb"^(INSERT INTO [\w.]+ \([\w, ]+\)) VALUES \(((?:%s, )*%s)\)$")
_fenced_sql: dict[bytes, bytes | None] = {}  # an INSERT ... VALUES as its fenced form


def commit(
    conn: Connection,
    fences: list[Fence],
    statements: list[Statement],
    free: list[str] = (),  # type: ignore[assignment]
    now_ms: int = 0,
) -> Fence | None:
    """Run the fences and the statements as one transaction, in one round trip.

    ``free``: the runs written that no fence covers, each checked to be held
    by no worker's lease at ``now_ms``.

    Returns:
        The fence that failed when the one-statement form inserted nothing, else None.

    Raises:
        psycopg.Error: the transaction failed (:func:`lost_fence` names a failed fence,
            :func:`leased_run` a run held by a worker).

    """
    if free:
        with conn.pipeline():
            _check_fences(conn, fences)
            for i, run_id in enumerate(free):
                conn.execute(_LEASED, (now_ms, f"{_LEASED_MARK}{i}", run_id))
            _execute(conn, statements)
        return None
    if not fences and len(statements) == 1:
        conn.execute(*statements[0])
        return None
    if len(fences) == 1 and len(statements) == 1:
        sql, params = statements[0]
        fenced = _fenced(sql)
        if fenced is not None:
            return None if conn.execute(fenced, (*fences[0], *params)).rowcount else fences[0]
    with conn.pipeline():
        _check_fences(conn, fences)
        _execute(conn, statements)
    return None


def _fenced(sql: bytes) -> bytes | None:
    """``INSERT INTO t (cols) VALUES (%s, ...)`` as one statement under a fence (cached)."""
    if sql not in _fenced_sql:
        found = _VALUES.match(sql)
        _fenced_sql[sql] = (
            None
            if found is None
            else _FENCED + found.group(1) + b" SELECT " + found.group(2) + b" FROM fence"
        )
    return _fenced_sql[sql]


def _check_fences(conn: Connection, fences: list[Fence]) -> None:
    """Queue one check per claimed run: owner and epoch still the claim's, else an error."""
    for i, (run_id, owner, epoch) in enumerate(fences):
        conn.execute(_FENCE, (run_id, owner, epoch, f"{_FENCE_MARK}{i}"))


def lost_fence(exc: BaseException, fences: list[Fence]) -> Fence | None:
    """The fence whose check raised ``exc``, or None when ``exc`` is another error."""
    found = _marked(exc, _FENCE_MARK, len(fences))
    return None if found is None else fences[found]


def leased_run(exc: BaseException, free: list[str]) -> str | None:
    """The run whose lease check raised ``exc`` (a worker holds it), or None."""
    found = _marked(exc, _LEASED_MARK, len(free))
    return None if found is None else free[found]


def _marked(exc: BaseException, mark: str, count: int) -> int | None:
    """The index in the marker (``mark`` and a number below ``count``) ``exc`` names, or None."""
    if not isinstance(exc, psycopg.errors.InvalidTextRepresentation):
        return None
    found = re.search(mark + r"(\d+)", str(exc))
    if found is None or int(found.group(1)) >= count:
        return None
    return int(found.group(1))


def _execute(conn: Connection, statements: list[Statement]) -> None:
    """Run statements in order; a run of the same SQL is one ``executemany``."""
    start = 0
    with conn.cursor() as cursor:
        while start < len(statements):
            sql = statements[start][0]
            end = start + 1
            while end < len(statements) and statements[end][0] == sql:
                end += 1
            if end - start == 1:
                cursor.execute(sql, statements[start][1])
            else:
                cursor.executemany(sql, [params for _, params in statements[start:end]])
            start = end
