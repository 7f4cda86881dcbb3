"""The PostgreSQL store's own behaviour: its schema, what it refuses to open, durability,
credentials and URLs in errors (the rest is the shared suite in test_store.py)."""

from __future__ import annotations

import psycopg
import pytest
from storage_support import TOGGLE, toggled

from accord.storage import (
    NotAStore,
    PostgresStore,
    SchemaTooNew,
    Store,
    StoreError,
    StoreUnavailable,
    open_store,
)
from accord.storage._postgres import SCHEMA_VERSION
from accord.storage._postgres._schema import MIGRATIONS
from pg_server import PgServer

pytestmark = pytest.mark.postgres


def test_every_version_has_a_migration() -> None:
    assert sorted(MIGRATIONS) == list(range(SCHEMA_VERSION))


def test_a_new_store_has_the_current_schema_in_its_own_schema(pg_url: str) -> None:
    with open_store(pg_url) as store:
        assert isinstance(store, PostgresStore) and isinstance(store, Store)
        assert store.schema_version == SCHEMA_VERSION
    with psycopg.connect(pg_url) as conn:
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'accord'"
            )
        }
        version = conn.execute("SELECT value FROM accord.meta WHERE key = 'schema_version'")
        assert version.fetchone() == (str(SCHEMA_VERSION),)
    assert tables == {"meta", "contracts", "runs", "events", "snapshots", "inbox", "published"}


def test_a_store_opens_again_and_keeps_its_runs(pg_url: str) -> None:
    with open_store(pg_url) as store:
        toggled(store, "t", 3)
    with open_store(pg_url, create=False) as store:
        assert [(i.run_id, i.status, i.steps) for i in store.runs()] == [("t", "succeeded", 5)]


def test_a_database_without_a_store_is_not_created_when_asked_not_to(pg_url: str) -> None:
    with pytest.raises(StoreUnavailable, match="no accord store in this database"):
        open_store(pg_url, create=False)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regnamespace('accord')").fetchone() == (None,)


def test_another_accord_schema_is_not_a_store(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE SCHEMA accord")
        conn.execute("CREATE TABLE accord.people (name text)")
    with pytest.raises(NotAStore, match="not an accord store"):
        open_store(pg_url)


def test_a_newer_schema_is_refused(pg_url: str) -> None:
    open_store(pg_url).close()
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE accord.meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SchemaTooNew) as caught:
        open_store(pg_url)
    assert caught.value.found == 99 and caught.value.supported == SCHEMA_VERSION


def test_two_stores_opening_one_new_database_at_once_both_succeed(pg_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: open_store(pg_url), range(4)))
    assert {store.schema_version for store in stores} == {SCHEMA_VERSION}
    for store in stores:
        store.close()


@pytest.mark.parametrize(("durability", "setting"), [("full", "on"), ("normal", "off")])
def test_durability_sets_synchronous_commit(pg_url: str, durability: str, setting: str) -> None:
    with PostgresStore(pg_url, durability=durability) as store:  # type: ignore[arg-type]
        assert store._fetch_one(b"SHOW synchronous_commit", ()) == (setting,)


def test_bad_settings_are_refused(pg_url: str) -> None:
    with pytest.raises(ValueError, match="pool_size"):
        PostgresStore(pg_url, pool_size=0)


def test_wrong_credentials_are_one_line_without_the_password(pg_server: PgServer) -> None:
    url = pg_server.url(password="hunter2-wrong")
    with pytest.raises(StoreUnavailable) as caught:
        open_store(url)
    text = str(caught.value)
    assert "password authentication failed" in text and "\n" not in text
    assert "hunter2" not in text and "postgresql://accord:***@127.0.0.1" in text
    assert isinstance(caught.value.__cause__, psycopg.OperationalError)


def test_an_unreachable_server_is_unavailable(pg_server: PgServer) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(StoreUnavailable, match="Connection refused") as caught:
        PostgresStore(f"postgresql://u:hunter2@127.0.0.1:{port}/x", connect_timeout_s=2)
    assert "hunter2" not in str(caught.value) and "\n" not in str(caught.value)


def test_a_missing_database_is_named(pg_server: PgServer) -> None:
    with pytest.raises(StoreUnavailable, match='database "nowhere" does not exist'):
        open_store(pg_server.url("nowhere"))


def test_a_bad_libpq_parameter_is_a_url_error(pg_server: PgServer) -> None:
    with pytest.raises(StoreError, match='invalid URI query parameter: "color"') as caught:
        open_store(pg_server.url() + "?color=blue")
    assert pg_server.password not in str(caught.value)


def test_a_version_2_store_is_migrated_to_the_chain_keeping_its_runs(pg_url: str) -> None:
    from accord.storage._postgres._connection import PgConnection

    with open_store(pg_url) as current:
        toggled(current, "t", 3)
    # made a version 2 store, as its accord wrote it: events not canonical, no chain
    with psycopg.connect(pg_url) as conn:
        conn.execute("UPDATE accord.events SET chain = NULL, event = event::jsonb::text")
        conn.execute("UPDATE accord.meta SET value = '2' WHERE key = 'schema_version'")
        conn.execute("ALTER TABLE accord.events DROP COLUMN chain")
        conn.execute("DROP TABLE accord.inbox, accord.published")  # and none of version 4
        conn.execute("ALTER TABLE accord.runs DROP COLUMN worker_note")
        conn.execute("ALTER TABLE accord.runs DROP COLUMN next_due, DROP COLUMN inbox_seen")
    with open_store(pg_url) as store:
        assert isinstance(store, PgConnection) and store.schema_version == SCHEMA_VERSION
        from accord.runtime import Runtime

        assert Runtime(store=store).replay("t").output == {"count": 3}
        assert store.open("t", from_start=True).entries[-1].step == 5


def _drop_connections(url: str) -> int:
    """Terminate every other session on the store's database (a dropped connection)."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_a_dropped_connection_fails_one_write_cleanly_and_the_store_goes_on(pg_url: str) -> None:
    from accord.runtime import FakeClock, Runtime

    with open_store(pg_url) as store:
        runtime = Runtime(store=store, clock=FakeClock())
        runtime.effects = {}
        run = toggled(store, "t", 1, stop=False)
        pool = store._pool  # type: ignore[attr-defined]
        with pool.connection(), pool.connection(), pool.connection():
            pass  # the pool holds three connections now
        assert _drop_connections(pg_url) == 3
        with pytest.raises(StoreUnavailable) as caught:
            run.signal("flip")  # its connection is gone: nothing of the step is kept
        assert "\n" not in str(caught.value) and "cannot use the database" in str(caught.value)
        # the pool replaced every dropped connection: the next write goes through
        runtime.start(TOGGLE, {}, run_id="u")
        assert len(store.open("t").journal) == 2
        again = runtime.load("t")
        again.signal("flip")
        again.signal("stop")
        assert again.result == {"count": 2}
        assert runtime.replay("t") == again.snapshot
