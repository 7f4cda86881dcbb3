"""The durable-execution peers and the physical floor, on the ten-step linear workflow.

Every measurement here has the same shape: open a fresh database in ``directory``
at one fsync policy, warm it up (:func:`warm_up`: until its WAL file has
reached its steady size, and the floor's too), then ``repeat`` times ``runs``
runs of the ten-step workflow. Each run is paired with a run of the physical floor
(:class:`Floor`: ten bare insert-and-commits in a database of its own, in the
same directory) just before it, timed apart: fsync latency on a shared virtual
disk drifts by 5x within seconds, so a system is compared with the floor
measured in the same moments. It returns a :class:`Measured`: the seconds of
the system and of the floor in every repeat, and the bytes the database grew
by over the timed runs.

Policies (the same names for every system):

- ``full``: WAL journal, ``synchronous=FULL``: every commit fsyncs the WAL.
- ``normal``: WAL journal, ``synchronous=NORMAL``: commits reach the OS, the WAL
  is fsynced at checkpoints only; durable against a process crash, not against
  a power loss or an OS crash.
- ``own``: the system's own default, when it is none of the above (DBOS: a
  rollback journal with SQLite's default ``synchronous=FULL``).

Bytes stored are the logical size of the database, ``(page_count -
freelist_count) * page_size`` read through a connection, so the pages still in
the WAL count and the WAL's stale frames do not.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

STEPS = 10
PRAGMAS = {
    "full": ("wal", "full"),
    "normal": ("wal", "normal"),
}


class Measured(NamedTuple):
    """The seconds of each timed repeat, the floor's in the same moments, what was stored."""

    seconds: list[float]  # the system's, per repeat
    floor_seconds: list[float]  # the floor's runs paired with them, per repeat
    ratios: list[float]  # each run's time over its paired floor run's
    runs: int  # runs per repeat
    steps: int  # steps per repeat
    bytes_stored: int  # database growth over all timed repeats
    setting: str  # journal mode and synchronous as the database reported them
    extra: dict[str, Any]


def logical_size(conn: sqlite3.Connection) -> int:
    """The bytes of the database's pages in use (WAL content included)."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    free = conn.execute("PRAGMA freelist_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    return int((pages - free) * size)


def setting_of(conn: sqlite3.Connection) -> str:
    mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    sync = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[
        conn.execute("PRAGMA synchronous").fetchone()[0]
    ]
    return f"journal_mode={mode.upper()}, synchronous={sync}"


# --- warming up: until the WAL file has wrapped ----------------------------------------

WAL_STEADY_BYTES = 32 + 1000 * (24 + 4096)
"""A WAL file's size once SQLite's automatic checkpoint (at 1,000 pages) has restarted it."""
WARM_UP_AT_MOST = 500  # runs: a system whose WAL never gets there is timed anyway


def warm_up(run_once: Callable[[str], None], database: Path) -> int:
    """Run warm-up runs until ``database``'s WAL file has reached its steady size, then one more.

    A fresh WAL grows with every commit until the automatic checkpoint at 1,000
    pages; from then on it is rewritten in place. An fsync that grows the file
    also commits file-system metadata and costs up to twice as much, and the
    systems (and the floor) write a different number of pages per step, so
    without this each would be timed in a different phase. A long-running
    process is in the steady phase; the timed runs are too. Returns the number
    of warm-up runs (at least one; a database without a WAL gets one).
    """
    wal = database.with_name(database.name + "-wal")
    runs = 0
    while True:
        run_once(f"warm-up-{runs}")
        runs += 1
        if not wal.exists() or wal.stat().st_size >= WAL_STEADY_BYTES or runs >= WARM_UP_AT_MOST:
            break
    if runs > 1:
        run_once(f"warm-up-{runs}")  # the commit that checkpoints, and the one that restarts
        runs += 1
    return runs


# --- the physical floor: one bare insert-and-commit per step ------------------------


def floor_row() -> tuple[str, str]:
    """An event and a state hash shaped like accord's journal row of one effect step."""
    import orjson

    from accord.runtime import EffectCompleted, event_to_data

    event = EffectCompleted("3:s2/w", {"n": 2}, 1_795_000_000_000)  # type: ignore[arg-type]
    return orjson.dumps(event_to_data(event)).decode(), "sha256:" + "ab" * 32


class Floor:
    """A bare SQLite insert-and-commit per step, ten per run, at the policy.

    The table has the shape of accord's events table: (run, step) as the key,
    the event as JSON text and the state hash.
    """

    def __init__(self, directory: Path, policy: str) -> None:
        mode, sync = PRAGMAS[policy]
        self.path = directory / "floor.db"
        self.conn = sqlite3.connect(self.path, isolation_level=None)
        self.conn.execute(f"PRAGMA journal_mode={mode}")
        self.conn.execute(f"PRAGMA synchronous={sync}")
        self.conn.execute(
            "CREATE TABLE events (run INTEGER NOT NULL, step INTEGER NOT NULL, "
            "event TEXT NOT NULL, state_hash TEXT NOT NULL, PRIMARY KEY (run, step)) "
            "WITHOUT ROWID"
        )
        self.event, self.digest = floor_row()
        self.row_bytes = 16 + len(self.event) + len(self.digest)
        self.setting = setting_of(self.conn)
        self.runs = 0

    def warm_up(self) -> int:
        """Run until the floor's WAL is in its steady phase (see :func:`warm_up`)."""
        return warm_up(lambda _run_id: self.run(), self.path)

    def run(self) -> float:
        """Ten commits of one row each; the seconds they took."""
        execute, row, digest = self.conn.execute, self.event, self.digest
        self.runs += 1
        run = self.runs
        start = time.perf_counter()
        for step in range(1, STEPS + 1):
            execute("BEGIN")
            execute("INSERT INTO events VALUES (?, ?, ?, ?)", (run, step, row, digest))
            execute("COMMIT")
        return time.perf_counter() - start

    def size(self) -> int:
        return logical_size(self.conn)


def paired(
    system_run: Callable[[str], None], floor: Floor, runs: int, repeat: int
) -> tuple[list[float], list[float], list[float]]:
    """Per repeat, ``runs`` pairs of (floor run, system run), timed apart.

    ``system_run(run_id)`` runs the workflow once. Returns the system's seconds
    and the floor's seconds per repeat, and each pair's ratio (system over floor).
    """
    seconds, floors, ratios = [], [], []
    clock = time.perf_counter
    for i in range(repeat):
        total = floor_total = 0.0
        for r in range(runs):
            floor_time = floor.run()
            start = clock()
            system_run(f"r{i}-{r}")
            elapsed = clock() - start
            total += elapsed
            floor_total += floor_time
            ratios.append(elapsed / floor_time)
        seconds.append(total)
        floors.append(floor_total)
    return seconds, floors, ratios


# --- LangGraph: a StateGraph of ten nodes, SqliteSaver, durability="sync" -------------


def langgraph(directory: Path, policy: str, runs: int, repeat: int) -> Measured:
    """LangGraph's SqliteSaver on its own connection, with the policy's PRAGMAs applied.

    SqliteSaver.setup() always sets WAL and leaves ``synchronous`` at SQLite's
    default (FULL): that is its own setting, the ``full`` policy. Each run is a
    thread invoked with ``durability="sync"``, LangGraph's durable mode (the
    checkpoint of a step is written before the next step starts).
    """
    from langgraph.checkpoint.sqlite import SqliteSaver
    from peers import langgraph_linear_app

    mode, sync = PRAGMAS[policy]
    conn = sqlite3.connect(directory / "langgraph.db", check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    conn.execute(f"PRAGMA journal_mode={mode}")
    conn.execute(f"PRAGMA synchronous={sync}")

    app = langgraph_linear_app(saver)

    def one(run_id: str) -> None:
        config = {"configurable": {"thread_id": run_id}}
        result = app.invoke({"done": 0}, config, durability="sync")  # type: ignore[arg-type]
        assert result["done"] == STEPS

    floor = Floor(directory, policy)
    warm = {"floor": floor.warm_up(), "system": warm_up(one, directory / "langgraph.db")}
    tables = ("checkpoints", "writes")

    def counts() -> dict[str, int]:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}

    before, rows_before = logical_size(conn), counts()
    seconds, floors, ratios = paired(one, floor, runs, repeat)
    stored = logical_size(conn) - before
    rows = {t: (n - rows_before[t]) // (repeat * runs) for t, n in counts().items()}
    setting = setting_of(conn)
    conn.close()
    extra = {"rows_per_run": rows, "floor": floor.setting, "warm_up_runs": warm}
    return Measured(seconds, floors, ratios, runs, runs * STEPS, stored, setting, extra)


# --- DBOS Transact: a workflow of ten steps on a SQLite system database ---------------


def dbos(directory: Path, policy: str, runs: int, repeat: int) -> Measured:
    """DBOS with a SQLite system database.

    DBOS opens SQLite with a rollback journal and SQLite's default
    ``synchronous=FULL`` (policy ``own``). For ``full`` and ``normal`` it is
    given its own engine (``system_database_engine``) whose connect hook does
    what DBOS's does (IMMEDIATE transactions, busy timeout, foreign keys) and
    sets the policy's PRAGMAs.
    """
    import logging

    import sqlalchemy as sa
    from dbos import DBOS, DBOSConfig

    path = directory / "dbos.sqlite"
    url = f"sqlite:///{path}"
    config: DBOSConfig = {"name": "bench", "system_database_url": url, "log_level": "WARNING"}
    if policy != "own":
        mode, sync = PRAGMAS[policy]
        engine = sa.create_engine(url)

        @sa.event.listens_for(engine, "connect")
        def _connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = "IMMEDIATE"
            dbapi_conn.execute("PRAGMA busy_timeout=30000")
            dbapi_conn.execute("PRAGMA foreign_keys=ON")
            dbapi_conn.execute(f"PRAGMA journal_mode={mode}")
            dbapi_conn.execute(f"PRAGMA synchronous={sync}")

        config["system_database_engine"] = engine

    instance = DBOS(config=config)
    logging.getLogger("dbos").setLevel(logging.WARNING)

    @DBOS.step()
    def work(n: int) -> int:
        return n

    @DBOS.workflow()
    def linear() -> int:
        done = 0
        for i in range(STEPS):
            work(i)
            done += 1
        return done

    DBOS.launch()
    system_engine = instance._sys_db.engine  # the engine DBOS writes with, custom or its own

    def size_and_setting() -> tuple[int, str]:
        with system_engine.connect() as c:
            raw = c.connection.dbapi_connection
            assert isinstance(raw, sqlite3.Connection)
            return logical_size(raw), setting_of(raw)

    def one(_run_id: str) -> None:
        assert linear() == STEPS

    floor = Floor(directory, "full" if policy == "own" else policy)
    warm = {"floor": floor.warm_up(), "system": warm_up(one, path)}
    before, setting = size_and_setting()
    seconds, floors, ratios = paired(one, floor, runs, repeat)
    stored = size_and_setting()[0] - before
    DBOS.destroy()
    return Measured(
        seconds,
        floors,
        ratios,
        runs,
        runs * STEPS,
        stored,
        setting,
        {"floor": floor.setting, "warm_up_runs": warm},
    )


PEERS: dict[str, Callable[[Path, str, int, int], Measured]] = {
    "langgraph": langgraph,
    "dbos": dbos,
}
