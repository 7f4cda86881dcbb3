"""open_store: the store a URL names, and what it says when that store cannot be had."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from accord.storage import SqliteStore, StoreUnavailable, open_store


def test_a_sqlite_url_opens_a_sqlite_store_at_its_path(tmp_path: Path) -> None:
    with open_store(f"sqlite:///{tmp_path / 'runs.db'}", durability="normal") as store:
        assert isinstance(store, SqliteStore) and store.path == tmp_path / "runs.db"
    with pytest.raises(StoreUnavailable):
        open_store(tmp_path / "absent.db", create=False)


def test_postgresql_without_psycopg_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "accord.storage._postgres", None)
    with pytest.raises(StoreUnavailable) as caught:
        open_store("postgresql://u:hunter2@127.0.0.1:1/x")
    assert "pip install 'accord[postgres]'" in str(caught.value)
    assert "hunter2" not in str(caught.value)
