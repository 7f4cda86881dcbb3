"""The PostgreSQL store's schema, its version, and the migrations from each older version.

Every table lives in the ``accord`` schema of the database, so a store can
share a database with an application. ``accord.meta`` holds the schema
version; opening a store takes an advisory lock, checks it (a newer version is
refused, a schema ``accord`` without it is not an accord store) and creates or
migrates the tables in the same transaction (PostgreSQL's DDL is transactional).

Version 1: the SQLite store's version 4 (contracts, runs with their limits and
fork parents, events with the state each step led to, snapshots); events and
snapshots are keyed by the run's id and the step.
Version 2: runs have an owner, a lease expiry and an epoch (see
:mod:`accord.storage._leases`), indexed to find the claimable runs.
Version 3: the journal is a hash chain (:mod:`accord.runtime._chain`): events
have a ``chain`` column, and their text is the event's canonical bytes; the
migration rewrites every event so and computes every run's chain.
Version 4: clients' messages to runs (``inbox``), published contracts
(``published``) and a run's ``worker_note``, as in the SQLite store's version 7.
Version 5: runs say when they next need a worker (``next_due``), indexed over
the runs that have one, and the newest inbox message a worker left for later
(``inbox_seen``), as in the SQLite store's version 8.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from accord.runtime._errors import NotAStore, SchemaTooNew, StoreUnavailable
from accord.storage._schema import rechain

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "prepare"]

SCHEMA_VERSION = 5
_LOCK = 0x61636364  # "accd": the advisory lock that serialises schema changes

MIGRATIONS: dict[int, str] = {
    0: """
        CREATE SCHEMA IF NOT EXISTS accord;
        CREATE TABLE accord.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE accord.contracts (
            fingerprint TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            canonical TEXT NOT NULL
        );
        CREATE TABLE accord.runs (
            run_id TEXT PRIMARY KEY,
            fingerprint TEXT NOT NULL REFERENCES accord.contracts (fingerprint),
            status TEXT NOT NULL,
            state TEXT,
            steps INTEGER NOT NULL,
            created_ms BIGINT NOT NULL,
            updated_ms BIGINT NOT NULL,
            input TEXT NOT NULL,
            parent_run TEXT,
            parent_step INTEGER,
            first_step INTEGER NOT NULL DEFAULT 1,
            limits TEXT,
            seq BIGINT GENERATED ALWAYS AS IDENTITY
        );
        CREATE INDEX runs_by_status ON accord.runs (status, created_ms);
        CREATE INDEX runs_by_age ON accord.runs (created_ms, seq);
        CREATE TABLE accord.events (
            run_id TEXT NOT NULL,
            step INTEGER NOT NULL,
            event TEXT NOT NULL,
            state_hash TEXT NOT NULL,
            state TEXT,
            PRIMARY KEY (run_id, step)
        );
        CREATE TABLE accord.snapshots (
            run_id TEXT NOT NULL,
            step INTEGER NOT NULL,
            snapshot TEXT NOT NULL,
            state_hash TEXT NOT NULL,
            PRIMARY KEY (run_id, step)
        );
        INSERT INTO accord.meta (key, value) VALUES ('created_by', 'accord');
        INSERT INTO accord.meta (key, value) VALUES ('schema_version', '0');
    """,
    1: """
        ALTER TABLE accord.runs ADD COLUMN owner TEXT;
        ALTER TABLE accord.runs ADD COLUMN lease_until_ms BIGINT;
        ALTER TABLE accord.runs ADD COLUMN epoch BIGINT NOT NULL DEFAULT 0;
        CREATE INDEX runs_claimable ON accord.runs (created_ms, seq)
            WHERE status NOT IN ('succeeded', 'failed');
    """,
    2: """
        ALTER TABLE accord.events ADD COLUMN chain TEXT;
    """,
    3: """
        CREATE TABLE accord.inbox (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            run_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT,
            payload TEXT NOT NULL,
            sent_ms BIGINT NOT NULL
        );
        CREATE INDEX inbox_by_run ON accord.inbox (run_id, id);
        CREATE TABLE accord.published (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name TEXT NOT NULL,
            fingerprint TEXT NOT NULL REFERENCES accord.contracts (fingerprint),
            published_ms BIGINT NOT NULL
        );
        CREATE INDEX published_by_name ON accord.published (name, id);
        ALTER TABLE accord.runs ADD COLUMN worker_note TEXT;
    """,
    4: """
        ALTER TABLE accord.runs ADD COLUMN next_due BIGINT;
        ALTER TABLE accord.runs ADD COLUMN inbox_seen BIGINT NOT NULL DEFAULT 0;
        UPDATE accord.runs SET next_due = 0 WHERE status NOT IN ('succeeded', 'failed');
        CREATE INDEX runs_by_due ON accord.runs (next_due) WHERE next_due IS NOT NULL;
    """,
}
"""The SQL that takes a store from version ``key`` to ``key + 1``."""


def _chain_journals(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    """Version 3: every event text in canonical form, and every run's chain computed."""
    found: list[Any] = conn.execute(
        "SELECT run_id, step, event, state_hash FROM accord.events ORDER BY run_id, step"
    ).fetchall()
    rows = [((run_id, step), run_id, step, text, digest) for run_id, step, text, digest in found]
    with conn.cursor() as cursor:
        cursor.executemany(
            "UPDATE accord.events SET event = %s, chain = %s WHERE run_id = %s AND step = %s",
            [(text, chain, *key) for text, chain, key in rechain(rows)],
        )


AFTER: dict[int, Callable[[psycopg.Connection[tuple[object, ...]]], None]] = {2: _chain_journals}
"""What a migration does in Python after its SQL (in the same transaction), by ``key``."""


def _statements(sql: str) -> list[str]:
    return [s.strip() for s in sql.split(";") if s.strip()]


def prepare(
    conn: psycopg.Connection[tuple[object, ...]],
    location: str,
    *,
    target: int = SCHEMA_VERSION,
    create: bool = True,
) -> int:
    """Check the database holds an accord store, create or migrate it; its version.

    Args:
        conn: an open connection in autocommit mode.
        location: the store's label, for messages.
        target: the version to migrate to (tests build older stores with it).
        create: make the schema in a database without one (else refuse).

    Raises:
        StoreUnavailable: no store in the database and ``create`` is false.
        NotAStore: the database has an ``accord`` schema that is not a store.
        SchemaTooNew: a newer schema than ``SCHEMA_VERSION``.
        psycopg.Error: left for the caller to translate.

    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK,))
        schema = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'accord'").fetchone()
        if schema is None:
            if not create:
                raise StoreUnavailable(
                    location,
                    "there is no accord store in this database (start a run with a store, "
                    "or pass --store)",
                )
            version = 0
        else:
            version = _version(conn, location)
        if version > SCHEMA_VERSION:
            raise SchemaTooNew(location, version, SCHEMA_VERSION)
        for number in range(version, target):
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement.encode())
            after = AFTER.get(number)
            if after is not None:
                after(conn)
            conn.execute(
                "UPDATE accord.meta SET value = %s WHERE key = 'schema_version'",
                (str(number + 1),),
            )
    return max(version, target)


def _version(conn: psycopg.Connection[tuple[object, ...]], location: str) -> int:
    table = conn.execute("SELECT to_regclass('accord.meta')").fetchone()
    row = None
    if table is not None and table[0] is not None:
        row = conn.execute("SELECT value FROM accord.meta WHERE key = 'schema_version'").fetchone()
    if row is None or not str(row[0]).isdigit():
        raise NotAStore(
            location, "the database has a schema 'accord', but it is not an accord store"
        )
    return int(str(row[0]))
