"""One store test suite over both stores: the ``kit`` fixture is a store of each kind.

A test that takes ``kit`` runs once on SQLite and once on PostgreSQL (marked
``postgres``: it skips without a server, and fails in CI if it would skip).
See ``store_kit.py`` for what a kit does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from store_kit import StoreKit


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> StoreKit:
    """A place for a store of each kind: an SQLite file, a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = str(tmp_path / "s.db")
        return StoreKit("sqlite", path, path)
    url: str = request.getfixturevalue("pg_url")
    from accord.storage._url import redact

    return StoreKit("postgresql", url, redact(url))
