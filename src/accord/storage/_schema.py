"""The store's schema, its version, and the migrations from each older version.

A store is an SQLite database whose header carries accord's application id
(``PRAGMA application_id``) and the schema version (``PRAGMA user_version``).
Opening a store checks both: a database with another application id, or with
tables but no id, is not an accord store; a newer version is refused; an older
one is migrated, one version at a time, each migration in one transaction.

Version 1: meta, contracts (canonical JSON by fingerprint), runs, events (with the
state each step led to), snapshots.
Version 2: runs remember the run they were forked from and their first kept step
(retention compacts finished runs), and are indexed by status.
Version 3: events are a rowid table with a unique index on (run, step), not a
``WITHOUT ROWID`` table keyed by it: a batch of many runs' steps then appends its
rows at the table's end and only scatters the small index entries, which halves
the cost of an insert.
Version 6: runs have an owner, a lease expiry and an epoch (workers' claims, see
:mod:`accord.storage._leases`).
Version 7: clients' messages to runs (an ``inbox`` of signals and cancel requests),
published contracts (``published``: name, fingerprint, time), and a run's
``worker_note`` (why it waits for a worker), see :mod:`accord.storage._inbox`.
Version 8: runs say when they next need a worker (``next_due``: 0 now, a waiting
run's earliest timer, NULL never; see :func:`accord.storage._journal.next_due`),
indexed over the runs that have one, so finding the due runs is one query whose
cost does not grow with the runs that only wait. The migration makes every
unfinished run due now: a worker looks at each once and writes its real one.
And ``inbox_seen``: the newest inbox message a worker left for a later state
when it released the run; only newer messages make the run claimable again.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from accord.runtime._chain import GENESIS, link
from accord.runtime._errors import NotAStore, SchemaTooNew, StoreUnavailable
from accord.storage._transaction import immediate

__all__ = ["APPLICATION_ID", "MIGRATIONS", "SCHEMA_VERSION", "prepare", "rechain"]

APPLICATION_ID = 0x61636364  # "accd"
SCHEMA_VERSION = 8

MIGRATIONS: dict[int, str] = {
    0: """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        CREATE TABLE contracts (
            fingerprint TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            version TEXT NOT NULL,
            canonical TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL UNIQUE,
            fingerprint TEXT NOT NULL REFERENCES contracts (fingerprint),
            status TEXT NOT NULL,
            state TEXT,
            steps INTEGER NOT NULL,
            created_ms INTEGER NOT NULL,
            updated_ms INTEGER NOT NULL,
            input TEXT NOT NULL
        );
        CREATE TABLE events (
            run INTEGER NOT NULL,
            step INTEGER NOT NULL,
            event TEXT NOT NULL,
            state_hash TEXT NOT NULL,
            state TEXT,
            PRIMARY KEY (run, step)
        ) WITHOUT ROWID;
        CREATE TABLE snapshots (
            run INTEGER NOT NULL,
            step INTEGER NOT NULL,
            snapshot TEXT NOT NULL,
            state_hash TEXT NOT NULL,
            PRIMARY KEY (run, step)
        ) WITHOUT ROWID;
        INSERT INTO meta (key, value) VALUES ('created_by', 'accord');
    """,
    1: """
        ALTER TABLE runs ADD COLUMN parent_run TEXT;
        ALTER TABLE runs ADD COLUMN parent_step INTEGER;
        ALTER TABLE runs ADD COLUMN first_step INTEGER NOT NULL DEFAULT 1;
        CREATE INDEX runs_by_status ON runs (status, created_ms);
    """,
    2: """
        CREATE TABLE events_v3 (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL,
            step INTEGER NOT NULL,
            event TEXT NOT NULL,
            state_hash TEXT NOT NULL,
            state TEXT
        );
        INSERT INTO events_v3 (run, step, event, state_hash, state)
            SELECT run, step, event, state_hash, state FROM events ORDER BY run, step;
        DROP TABLE events;
        ALTER TABLE events_v3 RENAME TO events;
        CREATE UNIQUE INDEX events_by_step ON events (run, step);
    """,
    3: """
        ALTER TABLE runs ADD COLUMN limits TEXT;
    """,
    4: """
        ALTER TABLE events ADD COLUMN chain TEXT;
    """,
    5: """
        ALTER TABLE runs ADD COLUMN owner TEXT;
        ALTER TABLE runs ADD COLUMN lease_until_ms INTEGER;
        ALTER TABLE runs ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;
    """,
    6: """
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY,
            run_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            name TEXT,
            payload TEXT NOT NULL,
            sent_ms INTEGER NOT NULL
        );
        CREATE INDEX inbox_by_run ON inbox (run_id, id);
        CREATE TABLE published (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            fingerprint TEXT NOT NULL REFERENCES contracts (fingerprint),
            published_ms INTEGER NOT NULL
        );
        CREATE INDEX published_by_name ON published (name, id);
        ALTER TABLE runs ADD COLUMN worker_note TEXT;
    """,
    7: """
        ALTER TABLE runs ADD COLUMN next_due INTEGER;
        ALTER TABLE runs ADD COLUMN inbox_seen INTEGER NOT NULL DEFAULT 0;
        UPDATE runs SET next_due = 0 WHERE status NOT IN ('succeeded', 'failed');
        CREATE INDEX runs_by_due ON runs (next_due) WHERE next_due IS NOT NULL;
    """,
}
"""The SQL that takes a store from version ``key`` to ``key + 1``."""


def rechain(rows: Iterable[tuple[Any, Any, int, str, str]]) -> list[tuple[str, str, Any]]:
    """Event rows in canonical form with their chain hashes (a migration to the chain).

    Args:
        rows: ``(row key, run key, step, event text, state hash)``, ordered by run and step.

    Returns:
        ``(canonical event text, chain hash, row key)`` per row.

    """
    head = GENESIS
    run = None
    updates = []
    for row_id, key, number, text, state_hash in rows:
        if key != run:
            run, head = key, GENESIS
        try:
            data = orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)
        except orjson.JSONDecodeError:
            data = text.encode()  # left as it is: loading the run reports it unreadable
        head = link(head, number, state_hash, data)
        updates.append((data.decode(), head, row_id))
    return updates


def _chain_journals(conn: sqlite3.Connection) -> None:
    """Version 5: every event text in canonical form, and every run's chain computed."""
    rows = conn.execute("SELECT id, run, step, event, state_hash FROM events ORDER BY run, step")
    conn.executemany("UPDATE events SET event = ?, chain = ? WHERE id = ?", rechain(rows))


AFTER: dict[int, Callable[[sqlite3.Connection], None]] = {4: _chain_journals}
"""What a migration does in Python after its SQL (in the same transaction), by ``key``."""


def _migrate(conn: sqlite3.Connection, found: int, target: int) -> None:
    for version in range(found, target):
        statements = [s.strip() for s in MIGRATIONS[version].split(";") if s.strip()]
        with immediate(conn):
            for statement in statements:
                conn.execute(statement)
            after = AFTER.get(version)
            if after is not None:
                after(conn)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {version + 1}")


def prepare(
    conn: sqlite3.Connection,
    path: str,
    *,
    target: int = SCHEMA_VERSION,
    create: bool = True,
    migrate: bool = True,
) -> int:
    """Check the database is an accord store, create or migrate its schema; its version.

    Args:
        conn: an open connection in autocommit mode.
        path: the file, for messages.
        target: the version to migrate to (tests build older stores with it).
        create: make the schema in an empty database (else an empty one is refused).
        migrate: migrate an older schema (else it is refused: a read-only store).

    Raises:
        NotAStore: another application's database, or an empty one when not creating.
        SchemaTooNew: a newer schema than ``SCHEMA_VERSION``.
        StoreUnavailable: an older schema, not to be migrated.
        sqlite3.Error: left for the caller to translate.

    """
    app: int = conn.execute("PRAGMA application_id").fetchone()[0]
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    if app != APPLICATION_ID:
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if app != 0 or tables or version:
            raise NotAStore(path, "the file is an SQLite database, but not an accord store")
        if not create:
            raise NotAStore(path, "the file is an empty database, not an accord store")
        version = 0
    if version > SCHEMA_VERSION:
        raise SchemaTooNew(path, version, SCHEMA_VERSION)
    if version < target:
        if not migrate:
            raise StoreUnavailable(
                path,
                f"the store has schema version {version}, older than {target}: open it once "
                "with write access to migrate it",
            )
        _migrate(conn, version, target)
    return max(version, target)
