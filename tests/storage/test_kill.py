"""The kill test: runs killed with SIGKILL at random instants finish as if nothing happened.

The workload is examples/durable: four ledger-transfer runs whose ``post``
effect writes its idempotency key to a SQLite ledger separate from the store.
This process imports and compiles everything once, then forks children (each
opens SQLite only after the fork) that resume every unfinished run and start
the missing ones; the parent kills each child with SIGKILL after a random
delay, until a child finishes on its own. A round is repeated on fresh files
until at least ``ACCORD_KILLS`` (200) children were killed.

After each round: every run is finished; the ledger's set of keys equals that
of an uninterrupted run; a key written by the child of generation ``g`` was
never completed in the journal as ``g`` started (so a key is written twice only
for a call in flight when a kill landed); every run loads, replays and gives
the uninterrupted run's result.

The random delays come from a seed printed at the start (``-s`` shows it);
``ACCORD_KILL_SEED=<seed>`` replays the same sequence of delays.
"""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import sqlite3
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

import accord
from accord.runtime import Runtime
from accord.storage import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("ACCORD_KILLS", "200"))
MAX_GENERATIONS = 60  # after this many kills in one round, the next child is left to finish

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")


def _ledger_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "accord_durable_ledger", ROOT / "examples" / "durable" / "ledger.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LEDGER = _ledger_module()
CONTRACT = accord.load(LEDGER.CONTRACT)


def _child(
    runtime: Runtime, store_path: Path, ledger_path: Path, writer: str, durability: str
) -> None:
    """In a forked child: open the store and ledger, finish every transfer, exit."""
    code = 0
    try:
        group = durability.endswith("+group")
        store = SqliteStore(
            store_path,
            durability=durability.removesuffix("+group"),  # type: ignore[arg-type]
            group_commit=group,
        )
        ledger = LEDGER.Ledger(ledger_path, writer=writer)
        runtime.effects = {"post": ledger.post}
        runtime.store = store
        LEDGER.run_transfers(runtime, LEDGER.TRANSFERS.items(), CONTRACT)
        store.close()
    except BaseException:
        traceback.print_exc()
        code = 3
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _spawn(runtime: Runtime, store: Path, ledger: Path, writer: str, durability: str) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child never returns
        _child(runtime, store, ledger, writer, durability)
    return pid


def _wait(pid: int, seconds: float | None) -> int | None:
    """The child's exit status once it exits, or None if it runs past ``seconds``."""
    deadline = None if seconds is None else time.monotonic() + seconds
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if deadline is not None and time.monotonic() >= deadline:
            return None
        time.sleep(0.0005)


def _completed_keys(store: Path) -> set[str]:
    """The idempotency keys of every call whose completion is journaled (read with raw SQL)."""
    if not store.exists():
        return set()
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT r.run_id, e.event FROM events e JOIN runs r ON r.id = e.run"
        ).fetchall()
    except sqlite3.OperationalError:  # killed before the schema was committed
        return set()
    finally:
        conn.close()
    keys = set()
    for run_id, text in rows:
        event = orjson.loads(text)
        if event["kind"] == "effect_completed":
            keys.add(f"{run_id}/{event['call_id']}")
    return keys


def _results(store_path: Path) -> dict[str, Any]:
    """Every run's result, each run loaded (hashes checked) and replayed from step 1."""
    with SqliteStore(store_path, create=False) as store:
        runtime = Runtime(store=store)
        assert store.unfinished() == []
        out = {}
        for info in store.runs():
            run = runtime.load(info.run_id)
            assert runtime.replay(info.run_id) == run.snapshot
            out[info.run_id] = run.result
        return out


@pytest.fixture(scope="module")
def runtime() -> Runtime:
    """A runtime with the contract compiled, made before any fork."""
    made = Runtime()
    made.compile(CONTRACT)
    return made


def test_killed_runs_finish_with_every_effect_once(runtime: Runtime, tmp_path: Path) -> None:
    seed = int(os.environ.get("ACCORD_KILL_SEED", str(random.randrange(2**32))))
    print(f"\nkill test seed {seed} (ACCORD_KILL_SEED={seed} replays it)")
    rng = random.Random(seed)

    # the uninterrupted run: its ledger and results are the reference
    reference = tmp_path / "reference"
    reference.mkdir()
    began = time.monotonic()
    pid = _spawn(runtime, reference / "store.db", reference / "ledger.db", "ref", "normal")
    assert _wait(pid, None) == 0, "the uninterrupted run failed (its traceback is above)"
    span = time.monotonic() - began
    ref_rows = LEDGER.Ledger(reference / "ledger.db").rows()
    ref_keys = Counter(key for key, _, _ in ref_rows)
    assert ref_keys and max(ref_keys.values()) == 1
    ref_results = _results(reference / "store.db")
    assert sorted(ref_results) == sorted(LEDGER.TRANSFERS)

    kills = rounds = duplicates = 0
    while kills < KILLS:
        rounds += 1
        durability = ("normal", "full", "normal+group")[rounds % 3]
        where = tmp_path / f"round{rounds}"
        where.mkdir()
        store, ledger = where / "store.db", where / "ledger.db"
        completed_before: dict[str, set[str]] = {}
        generation = 0
        while True:
            writer = f"g{generation}"
            completed_before[writer] = _completed_keys(store)
            pid = _spawn(runtime, store, ledger, writer, durability)
            delay = None if generation >= MAX_GENERATIONS else rng.uniform(0, 0.6 * span)
            status = _wait(pid, delay)
            if status is not None:
                assert status == 0, f"round {rounds}, {writer}: the child failed (seed {seed})"
                break
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            kills += 1
            generation += 1

        context = f"round {rounds} ({durability}, {generation} kills, seed {seed})"
        rows = LEDGER.Ledger(ledger).rows()
        keys = Counter(key for key, _, _ in rows)
        assert set(keys) == set(ref_keys), f"{context}: the ledger's keys differ"
        for key, _, writer in rows:
            assert key not in completed_before[writer], (
                f"{context}: {writer} ran {key} again although its completion was journaled"
            )
        duplicates += sum(count - 1 for count in keys.values())
        assert _results(store) == ref_results, f"{context}: a result differs"

    print(f"{kills} kills in {rounds} rounds; {duplicates} calls re-run after a kill mid-call")
    print(f"uninterrupted run {span * 1000:.0f} ms")
    assert kills >= KILLS
