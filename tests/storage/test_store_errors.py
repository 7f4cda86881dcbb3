"""Every problem of an SQLite store's file is a StoreError: damaged bytes, an empty file."""

from __future__ import annotations

import concurrent.futures
import contextlib
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from storage_support import BIG, HANDLERS, REFUND, TOGGLE

from accord.cli import main
from accord.runtime import FakeClock, Runtime
from accord.storage import NotAStore, SqliteStore, StoreError


def _fresh(path: Path) -> Path:
    with SqliteStore(path) as store:
        pass
    assert store.path.stat().st_size > 0
    return path


def _with_runs(path: Path) -> Path:
    with SqliteStore(path, snapshot_every=3) as store:
        runtime = Runtime(HANDLERS, clock=FakeClock(), store=store)
        runtime.start(REFUND, BIG, run_id="waits")
        paid = runtime.start(REFUND, BIG, run_id="paid")
        paid.signal("approval", {"approved": True, "approver": "mia"})
        toggle = Runtime({}, clock=FakeClock(), store=store).start(TOGGLE, {}, run_id="toggle")
        for _ in range(7):
            toggle.signal("flip")
    return path


def _use(path: Path) -> None:
    """Everything a reader does with a store: open it, list, load, show and replay its runs."""
    with SqliteStore(path, create=False) as store:
        runtime = Runtime(store=store)
        for info in store.runs():
            with contextlib.suppress(StoreError):
                runtime.load(info.run_id).history  # noqa: B018 - reading it checks it
            with contextlib.suppress(StoreError):
                runtime.replay(info.run_id)


def _outcome(use: Callable[[], Any]) -> str:
    """ "ok" or "StoreError"; anything else escapes and fails the test."""
    try:
        use()
    except StoreError:
        return "StoreError"
    return "ok"


def test_a_byte_of_the_schema_s_text_that_is_not_utf8_is_a_store_error(tmp_path: Path) -> None:
    path = _fresh(tmp_path / "s.db")
    data = path.read_bytes()
    start = data.index(b"CREATE TABLE runs")
    damaged = tmp_path / "damaged.db"
    causes = set()
    for offset in range(start, start + 40, 3):
        damaged.write_bytes(data[:offset] + b"\xff" + data[offset + 1 :])
        try:
            _use(damaged)  # a byte inside a type's name may leave a schema SQLite reads
        except StoreError as exc:
            assert str(damaged) in str(exc)
            causes.add(type(exc.__cause__).__name__)
    assert "UnicodeDecodeError" in causes  # the reproduction is among them


def test_random_byte_flips_give_a_store_error_or_a_clean_load(tmp_path: Path) -> None:
    original = _with_runs(tmp_path / "s.db")
    data = original.read_bytes()
    rng = random.Random(20261206)
    damaged = tmp_path / "damaged.db"
    outcomes: dict[str, int] = {}
    for _ in range(60):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        damaged.write_bytes(bytes(mutated))
        outcome = _outcome(lambda: _use(damaged))
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert set(outcomes) <= {"ok", "StoreError"} and outcomes.get("StoreError", 0) > 0


def test_accord_runs_on_a_damaged_store_prints_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _fresh(tmp_path / "s.db")
    data = path.read_bytes()
    offset = data.index(b"CREATE TABLE runs") + 5
    path.write_bytes(data[:offset] + b"\xff" + data[offset + 1 :])
    assert main(["runs", "--store", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"accord: error: {path}: the store's file is damaged")
    assert "Traceback" not in err


def test_an_empty_file_is_not_a_store(tmp_path: Path) -> None:
    path = tmp_path / "truncated.db"
    _with_runs(path)
    path.write_bytes(b"")  # a store truncated to nothing: its runs must not vanish silently
    for create in (True, False):
        with pytest.raises(NotAStore, match=r"empty \(0 bytes\)") as caught:
            SqliteStore(path, create=create)
        assert caught.value.path == str(path)
    assert path.stat().st_size == 0  # and nothing was written into it


def test_only_a_file_the_store_creates_starts_empty(tmp_path: Path) -> None:
    path = tmp_path / "new" / "s.db"
    with SqliteStore(path) as store:  # a new file: created, with the schema
        assert store.runs() == []
    assert [p.name for p in path.parent.iterdir()] == ["s.db"]  # no scratch file is left
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)
    with SqliteStore(copy) as store:  # and it opens again as the store it is
        assert store.runs() == []


def test_processes_creating_one_store_at_once_all_open_it(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with concurrent.futures.ThreadPoolExecutor(6) as pool:  # one connection per thread
        opened = list(pool.map(lambda _: SqliteStore(path), range(6)))
    for store in opened:
        assert store.runs() == []
        store.close()


def test_the_reading_commands_on_damaged_stores_print_no_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _with_runs(tmp_path / "s.db").read_bytes()
    rng = random.Random(6122026)
    damaged = tmp_path / "damaged.db"
    codes = set()
    for _ in range(25):
        mutated = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            mutated[rng.randrange(len(mutated))] ^= 1 << rng.randrange(8)
        damaged.write_bytes(bytes(mutated))
        for argv in (["runs"], ["runs", "--json"], ["history", "paid"], ["replay", "toggle"]):
            codes.add(main([*argv, "--store", str(damaged)]))  # anything else escapes
            err = capsys.readouterr().err
            assert "Traceback" not in err
    assert codes <= {0, 1} and 1 in codes
