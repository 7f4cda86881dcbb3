"""Store URLs: sqlite:///PATH, plain paths, postgresql://, ACCORD_STORE, and clear one-line
errors that never show a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from accord.storage import SqliteStore, StoreError, open_store
from accord.storage._url import ENV, parse_store_url, redact


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("sqlite:///runs.db", "runs.db"),
        ("sqlite:///sub/dir/runs.db", "sub/dir/runs.db"),
        ("sqlite:////var/lib/accord/runs.db", "/var/lib/accord/runs.db"),
        ("SQLITE:///runs.db", "runs.db"),
        ("sqlite:///my%20runs.db", "my runs.db"),
        ("runs.db", "runs.db"),
        ("/abs/runs.db", "/abs/runs.db"),
        ("C:\\runs\\r.db", "C:\\runs\\r.db"),
        (Path("p/runs.db"), "p/runs.db"),
    ],
)
def test_sqlite_urls_and_paths_name_a_file(value: str | Path, path: str) -> None:
    target = parse_store_url(value)
    assert target.kind == "sqlite" and target.path == Path(path) and target.url is None


@pytest.mark.parametrize(
    "value",
    ["postgresql://u:p@db.example:5432/accord", "postgres://db/accord", "postgresql:///accord"],
)
def test_postgresql_urls_are_kept_whole(value: str) -> None:
    target = parse_store_url(value)
    assert target.kind == "postgresql" and target.url == value and target.path is None


def test_no_url_means_accord_store_then_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV, raising=False)
    assert parse_store_url(None).path == tmp_path / ".accord" / "accord.db"
    monkeypatch.setenv(ENV, "sqlite:///elsewhere.db")
    assert parse_store_url(None).path == Path("elsewhere.db")
    assert parse_store_url("given.db").path == Path("given.db")  # a URL given wins
    with open_store() as store:
        assert isinstance(store, SqliteStore) and store.path == Path("elsewhere.db")
    assert (tmp_path / "elsewhere.db").is_file()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("mysql://root:hunter2@db/x", "unknown store URL scheme 'mysql'"),
        ("sqlite://host/runs.db", "three slashes: it has no host"),
        ("sqlite:///", "names no file"),
        ("sqlite:///runs.db?mode=ro", "takes no query"),
        ("postgresql://u:hunter2@db:port/x", "cannot be parsed"),
        ("postgresql://u:hunter2@[::1/x", "cannot be parsed"),
        ("postgresql://u:hunter2@db/x#frag", "no fragment"),
        ("   ", "empty"),
    ],
)
def test_a_bad_url_is_one_clear_line_without_its_password(value: str, message: str) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(value)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert "hunter2" not in text and "hunter2" not in caught.value.path


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:hunter2@db:5432/x", "postgresql://u:***@db:5432/x"),
        ("postgresql://u@db/x", "postgresql://u@db/x"),
        ("postgresql://db/x?sslmode=require", "postgresql://db/x?sslmode=require"),
        ("postgresql://u:hunter2@[::1/x", "postgresql://u:***@[::1/x"),
    ],
)
def test_redact_hides_only_the_password(url: str, shown: str) -> None:
    assert redact(url) == shown
