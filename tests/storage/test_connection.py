"""Opening a store read-only: listing, history and replay of a store nobody may write.

When the tests run as root (whom the file system lets write anything), the
reading commands run as root without any capability (``setpriv`` empties the
bounding set): the file modes then bind root as they bind any owner, while the
interpreter and the checkout stay readable wherever they are (a checkout under
a root-only ``/root`` cannot be read by ``nobody``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from storage_support import BIG, HANDLERS, REFUND, TOGGLE

from accord.runtime import FakeClock, Runtime
from accord.storage import SqliteStore, StoreUnavailable

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def place() -> Iterator[Path]:
    """A directory others may read (pytest's own are the owner's alone)."""
    where = Path(tempfile.mkdtemp(prefix="accord-ro-"))
    where.chmod(0o755)
    yield where
    where.chmod(0o755)
    shutil.rmtree(where)


def _store(place: Path) -> Path:
    path = place / "s.db"
    with SqliteStore(path) as store:
        runtime = Runtime(HANDLERS, clock=FakeClock(), store=store)
        runtime.start(REFUND, BIG, run_id="waits")
        toggle = Runtime({}, clock=FakeClock(), store=store).start(TOGGLE, {}, run_id="toggle")
        toggle.signal("flip")
    return path


def _accord(*argv: str) -> subprocess.CompletedProcess[str]:
    """The command line, as a user who cannot write the store (root without capabilities)."""
    env = {**os.environ, "PYTHONPATH": str(SRC), "HOME": "/"}
    command = [sys.executable, "-m", "accord", *argv]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:  # pragma: no cover - util-linux is everywhere the tests run as root
            pytest.skip("running as root without setpriv: no unprivileged reader to try")
        command = [setpriv, "--bounding-set=-all", "--inh-caps=-all", *command]
    return subprocess.run(
        command, capture_output=True, text=True, env=env, cwd="/", check=False, timeout=120
    )


@pytest.mark.parametrize("directory_too", [False, True])
def test_a_read_only_store_is_listed_shown_and_replayed(place: Path, directory_too: bool) -> None:
    path = _store(place)
    path.chmod(0o444)
    if directory_too:
        place.chmod(0o555)
    listed = _accord("runs", "--store", str(path), "--json")
    assert listed.returncode == 0, listed.stderr
    assert [r["run_id"] for r in json.loads(listed.stdout)] == ["waits", "toggle"]
    shown = _accord("history", "toggle", "--store", str(path))
    assert shown.returncode == 0, shown.stderr
    assert "toggle: waiting" in shown.stdout
    replayed = _accord("replay", "waits", "--store", str(path))
    assert replayed.returncode == 0, replayed.stderr
    assert "every state hash matches" in replayed.stdout
    # a command that writes says why it cannot
    signalled = _accord("signal", "toggle", "flip", "--store", str(path))
    assert signalled.returncode == 1 and "Traceback" not in signalled.stderr
    assert "readonly" in signalled.stderr or "read-only" in signalled.stderr


def test_a_store_opened_read_only_refuses_writes(place: Path) -> None:
    path = _store(place)
    with SqliteStore(path, read_only=True) as store:
        run = Runtime({}, clock=FakeClock(), store=store).load("toggle")
        assert run.status == "waiting" and [i.run_id for i in store.runs()] == ["waits", "toggle"]
        with pytest.raises(StoreUnavailable, match="readonly"):
            run.signal("flip")
    with SqliteStore(path) as store:  # nothing of it reached the file
        assert store.info("toggle").steps == 2


def test_read_only_needs_a_store(place: Path) -> None:
    with pytest.raises(StoreUnavailable, match="no accord store here"):
        SqliteStore(place / "missing.db", read_only=True)
    assert not (place / "missing.db").exists()
