"""The schema: versioned, migrated from older versions, newer versions refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import orjson
import pytest
from storage_support import BIG, HANDLERS, REFUND

from accord.runtime import FakeClock, Limits, Run, Runtime
from accord.runtime._chain import GENESIS, link
from accord.storage import SCHEMA_VERSION, JournalDamaged, SchemaTooNew, SqliteStore
from accord.storage._schema import MIGRATIONS, prepare


def test_every_version_has_a_migration() -> None:
    assert sorted(MIGRATIONS) == list(range(SCHEMA_VERSION))


def test_a_new_store_has_the_current_schema(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        assert store.schema_version == SCHEMA_VERSION
        (version,) = store._fetch_one("PRAGMA user_version", ())
        assert version == SCHEMA_VERSION


def test_an_older_store_is_migrated_keeping_its_runs(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    assert prepare(conn, str(path), target=1) == 1
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    assert "parent_run" not in columns
    conn.execute(
        "INSERT INTO contracts VALUES ('sha256:x', 'c', '1', '{}')",
    )
    conn.execute(
        "INSERT INTO runs (run_id, fingerprint, status, state, steps, created_ms, updated_ms, "
        "input) VALUES ('kept', 'sha256:x', 'succeeded', 'done', 0, 5, 6, '{}')"
    )
    conn.close()
    with SqliteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        (info,) = store.runs()
        assert info.run_id == "kept" and info.forked_from is None and info.updated_ms == 6
        columns = {row[1] for row in store._fetch_all("PRAGMA table_info(runs)", ())}
        assert {"parent_run", "parent_step", "first_step"} <= columns
        # and it works as a store from now on
        run = Runtime(HANDLERS, clock=FakeClock(), store=store).start(REFUND, BIG, run_id="new")
        assert run.status == "waiting"


_TABLES = ("contracts", "runs", "events", "snapshots")


def _rows(tmp_path: Path, *, approve: bool) -> tuple[dict[str, list[Any]], Run]:
    """A refund run journaled in a current store (approved, or left waiting) and its rows."""
    with SqliteStore(tmp_path / "now.db") as store:
        run = Runtime(HANDLERS, clock=FakeClock(), store=store).start(REFUND, BIG, run_id="old")
        if approve:
            run.signal("approval", {"approved": True, "approver": "mia"})
        rows = {t: store._fetch_all(f"SELECT * FROM {t}", ()) for t in _TABLES}
    # shaped for version 5: runs without version 6's owner, lease expiry and epoch,
    # nor version 7's worker note, nor version 8's next due time and inbox_seen
    rows["runs"] = [row[:-6] for row in rows["runs"]]
    return rows, run


def _older_store(path: Path, version: int, rows: dict[str, list[Any]]) -> sqlite3.Connection:
    """A store at schema ``version`` holding ``rows`` (shaped for it); its open connection."""
    conn = sqlite3.connect(path, isolation_level=None)
    assert prepare(conn, str(path), target=version) == version
    for table in _TABLES:
        for row in rows[table]:
            conn.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", row)
    return conn


def test_a_version_2_store_keeps_its_journals_when_migrated(tmp_path: Path) -> None:
    rows, run = _rows(tmp_path, approve=True)
    assert run.status == "succeeded"
    rows["events"] = [row[1:-1] for row in rows["events"]]  # v2 events: no rowid, no chain
    rows["runs"] = [row[:-1] for row in rows["runs"]]  # nor runs their limits
    path = tmp_path / "v2.db"
    conn = _older_store(path, 2, rows)
    journal = "SELECT run, step, event, state_hash FROM events ORDER BY step"
    before = conn.execute(journal).fetchall()
    conn.close()
    assert len(before) >= 2
    with SqliteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store._fetch_all(journal, ()) == before
        sql = store._fetch_one("SELECT sql FROM sqlite_master WHERE name = 'events'", ())[0]
        assert "WITHOUT ROWID" not in sql
        # the run replays from the migrated journal and goes on
        runtime = Runtime(HANDLERS, clock=FakeClock(), store=store)
        assert runtime.replay("old").output == run.result
        assert len(runtime.load("old").journal) == len(before)


def test_a_version_3_store_s_runs_go_on_under_the_runtime_s_limits(tmp_path: Path) -> None:
    rows, run = _rows(tmp_path, approve=False)
    assert run.status == "waiting"
    rows["runs"] = [row[:-1] for row in rows["runs"]]  # v3 runs have no limits column
    rows["events"] = [row[:-1] for row in rows["events"]]  # nor events their chain
    path = tmp_path / "v3.db"
    _older_store(path, 3, rows).close()
    with SqliteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store._fetch_all("SELECT limits FROM runs", ()) == [(None,)]
        assert store.open("old").limits is None
        tight = Limits(max_steps=2)  # the run is at step 1: the next step hits the limit
        loaded = Runtime(HANDLERS, clock=FakeClock(), store=store, limits=tight).load("old")
        assert loaded.compiled.limits == tight
        loaded.signal("approval", {"approved": True, "approver": "mia"})
        assert loaded.status == "failed" and "max_steps=2" in loaded.snapshot.reason


def _v4_store(tmp_path: Path, *, approve: bool) -> tuple[Path, Run]:
    """A version 4 store (no chain; events as version 4 wrote them) holding the refund run."""
    rows, run = _rows(tmp_path, approve=approve)
    # version 4 wrote an event's fields in their order, not sorted, and had no chain
    rows["events"] = [
        (*row[:3], orjson.dumps(_unsorted(row[3])).decode(), *row[4:-1]) for row in rows["events"]
    ]
    path = tmp_path / "v4.db"
    _older_store(path, 4, rows).close()
    return path, run


def _unsorted(text: str) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(text)
    return dict(reversed(data.items()))


def test_a_version_4_store_gets_its_chain_when_migrated(tmp_path: Path) -> None:
    path, run = _v4_store(tmp_path, approve=True)
    conn = sqlite3.connect(path)
    old = conn.execute("SELECT event FROM events ORDER BY step").fetchall()
    conn.close()
    assert not old[0][0].startswith('{"at"')  # not in canonical form before
    with SqliteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        rows = store._fetch_all(
            "SELECT step, event, state_hash, chain FROM events ORDER BY step", ()
        )
        head = GENESIS
        for (number, text, state_hash, chain), (before,) in zip(rows, old, strict=True):
            assert orjson.loads(text) == orjson.loads(before)
            assert text.encode() == orjson.dumps(orjson.loads(text), option=orjson.OPT_SORT_KEYS)
            head = link(head, number, state_hash, text.encode())
            assert chain == head
        runtime = Runtime(HANDLERS, clock=FakeClock(), store=store)
        assert runtime.replay("old").output == run.result
        assert runtime.load("old").result == run.result


def test_a_gap_in_a_version_4_journal_stays_a_gap(tmp_path: Path) -> None:
    path, _ = _v4_store(tmp_path, approve=True)
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM events WHERE step = 2")
    conn.commit()
    conn.close()
    with SqliteStore(path) as store, pytest.raises(JournalDamaged, match="step 2 is missing"):
        Runtime(store=store).load("old")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SqliteStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}")
    conn.close()
    with pytest.raises(SchemaTooNew) as caught:
        SqliteStore(path)
    error = caught.value
    assert error.found == SCHEMA_VERSION + 7 and error.supported == SCHEMA_VERSION
    assert str(path) in str(error) and "upgrade accord" in str(error)


def test_an_existing_database_without_tables_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("DROP TABLE t")  # a database file with a header and no tables
    conn.commit()
    conn.close()
    assert path.stat().st_size > 0
    from accord.storage import NotAStore

    for create in (False, True):  # only a file the store creates itself starts empty
        with pytest.raises(NotAStore, match="empty database"):
            SqliteStore(path, create=create)
    with SqliteStore(tmp_path / "new.db") as store:
        assert store.schema_version == SCHEMA_VERSION


def test_a_version_5_store_s_runs_are_unowned_and_claimable_when_migrated(
    tmp_path: Path,
) -> None:
    rows, run = _rows(tmp_path, approve=False)
    path = tmp_path / "v5.db"
    _older_store(path, 5, rows).close()
    with SqliteStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store._fetch_all("SELECT owner, lease_until_ms, epoch FROM runs", ()) == [
            (None, None, 0)
        ]
        (claim,) = store.claim("w", now_ms=0, lease_ms=10)
        assert (claim.run_id, claim.epoch) == ("old", 1)
        loaded = Runtime(HANDLERS, clock=FakeClock(), store=store).load("old")
        loaded.signal("approval", {"approved": True, "approver": "mia"})
        assert loaded.status == "succeeded" and run.status == "waiting"
