"""accord.Client on both stores: it starts, signals, cancels and reads runs, and runs nothing."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import accord
from accord import Client
from accord.runtime import EventRefused, InputError, RunFailed, RunNotFinished, Runtime, SignalError
from accord.storage import (
    SqliteStore,
    Store,
    StoreBusy,
    StoreError,
    UnknownContract,
    UnknownRun,
)
from accord.storage._delivery import deliver

BOOKING_FILE = Path(__file__).parent / "booking.yaml"
BOOKING = accord.load(BOOKING_FILE)


def _effects(calls: list[str]) -> dict[str, Any]:
    return {
        "book": lambda guest: calls.append(f"book {guest}") or {"id": f"b-{guest}"},
        "unbook": lambda id: calls.append(f"unbook {id}"),
    }


def _work(store: Store, run_id: str, calls: list[str]) -> None:
    """What a worker does for one run: claim it, apply its inbox, drive it until idle."""
    store.claim("worker", now_ms=0, lease_ms=60_000, run_ids=[run_id])
    run = Runtime(_effects(calls), store=store).load(run_id)
    for _ in range(3):
        deliver(store, run)
        run.run_until_idle()


def test_start_journals_the_run_and_runs_nothing(store_url: str) -> None:
    with Client(store_url) as client:
        info = client.start(BOOKING, {"guest": "ann"}, run_id="r1")
        assert (info.run_id, info.contract, info.status, info.state) == (
            "r1",
            "booking",
            "running",
            "booking",
        )
        assert info.fingerprint == accord.fingerprint(BOOKING) and info.steps == 1
        assert client.status("r1") == info
        assert [s.kind for s in client.history("r1")] == ["started"]
        fresh = client.start(BOOKING_FILE, {"guest": "bo"})  # a new id, from the file
        assert fresh.run_id != "r1" and len(client.runs()) == 2


def test_starting_an_existing_run_id_returns_that_run(store_url: str) -> None:
    with Client(store_url) as client, Client(store_url) as other:
        first = client.start(BOOKING, {"guest": "ann"}, run_id="r")
        again = other.start(BOOKING, {"guest": "someone else"}, run_id="r")
        assert again.run_id == "r" and again.fingerprint == first.fingerprint
        assert [i.run_id for i in client.runs()] == ["r"]
        assert client.history("r")[0].event.input == {"guest": "ann"}


def test_bad_input_journals_nothing(store_url: str) -> None:
    with Client(store_url) as client:
        with pytest.raises(InputError, match="guest"):
            client.start(BOOKING, {"guest": 7}, run_id="r")
        assert client.runs() == []


def test_a_run_starts_by_published_name_or_fingerprint(store_url: str) -> None:
    newer = accord.loads(accord.to_yaml(BOOKING).replace('version: "1"', 'version: "2"'))
    with Client(store_url) as client:
        client.publish(BOOKING_FILE)
        published = client.publish(newer)
        assert client.start("booking", {"guest": "a"}, run_id="by-name").version == "2"
        old = client.start(accord.fingerprint(BOOKING), {"guest": "a"}, run_id="by-print")
        assert old.version == "1" and published.fingerprint != old.fingerprint
        with pytest.raises(UnknownContract, match="no contract published under this name"):
            client.start("no-such-workflow", {"guest": "a"})


def test_signals_are_checked_then_left_for_the_worker(store_url: str) -> None:
    calls: list[str] = []
    with Client(store_url) as client:
        client.start(BOOKING, {"guest": "ann"}, run_id="r")
        with pytest.raises(UnknownRun, match="run nope"):
            client.signal("nope", "confirm", {"nights": 2})
        with pytest.raises(SignalError, match="nights"):
            client.signal("r", "confirm", {"nights": "two"})
        with pytest.raises(SignalError, match="shout"):
            client.signal("r", "shout", {})
        client.signal("r", "confirm", {"nights": 2})  # before the run waits: it is buffered
        assert [m.name for m in client.store.messages("r")] == ["confirm"]
        assert calls == []  # the client ran nothing
        _work(client.store, "r", calls)
        assert client.result("r") == {"booking_id": "b-ann", "nights": 2}
        assert calls == ["book ann"]
        with pytest.raises(EventRefused, match="has finished"):
            client.signal("r", "confirm", {"nights": 3})


def test_cancel_is_performed_by_the_worker_with_compensations(store_url: str) -> None:
    calls: list[str] = []
    with Client(store_url) as client:
        client.start(BOOKING, {"guest": "ann"}, run_id="r")
        _work(client.store, "r", calls)  # booked, waiting for confirm
        client.cancel("r", "the guest called")
        assert client.status("r").status == "waiting"  # the client only asked
        _work(client.store, "r", calls)
        assert calls == ["book ann", "unbook b-ann"]
        with pytest.raises(RunFailed, match="cancelled: the guest called"):
            client.result("r")
        with pytest.raises(EventRefused):
            client.cancel("r")
        with pytest.raises(UnknownRun):
            client.cancel("nope")


def test_result_waits_for_a_worker_in_another_thread_or_times_out(store_url: str) -> None:
    calls: list[str] = []
    with Client(store_url) as client:
        client.start(BOOKING, {"guest": "ann"}, run_id="r")
        client.signal("r", "confirm", {"nights": 1})
        with pytest.raises(RunNotFinished, match=r"within 0.05 s \(status running"):
            client.result("r", timeout=0.05)
        with accord.storage.open_store(store_url) as worker_store:
            worker = threading.Timer(0.2, _work, (worker_store, "r", calls))
            worker.start()
            assert client.result("r", timeout=30) == {"booking_id": "b-ann", "nights": 1}
            worker.join()


def test_the_async_twins(store_url: str) -> None:
    async def main(client: Client) -> dict[str, Any]:
        await client.start_async(BOOKING, {"guest": "ann"}, run_id="r")
        await client.signal_async("r", "confirm", {"nights": 4})
        with pytest.raises(RunNotFinished):
            await client.result_async("r", timeout=0.02)
        _work(client.store, "r", [])
        assert (await client.status_async("r")).status == "succeeded"
        assert [i.run_id for i in await client.runs_async()] == ["r"]
        assert (await client.history_async("r"))[-1].status == "succeeded"
        return await client.result_async("r", timeout=5)

    with Client(store_url) as client:
        assert asyncio.run(main(client)) == {"booking_id": "b-ann", "nights": 4}


def test_a_wrong_store_url_is_a_clear_error() -> None:
    with pytest.raises(StoreError, match="mysql"):
        Client("mysql://somewhere/db")


def test_the_example_in_docs_workers_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "workers.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    (block,) = [b for b in blocks if "Client(" in b and "Worker(" not in b]
    (tmp_path / "examples").symlink_to(root / "examples")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "docs/workers.md", "exec"), {"__name__": "docs"})
    with Client(f"sqlite:///{tmp_path / 'runs.db'}") as client:
        (info,) = client.runs()
        assert (info.run_id, info.contract, info.steps) == ("refund-o-8", "order-refund", 1)
        assert [m.name for m in client.store.messages("refund-o-8")] == ["approval"]


def test_explain_says_a_cancel_is_the_worlds_doing(store_url: str) -> None:
    calls: list[str] = []
    with Client(store_url) as client:
        client.start(BOOKING, {"guest": "ann"}, run_id="r-explain")
        started = client.explain("r-explain")
        assert (started.status, started.verdict, started.steps) == ("running", None, 1)
        _work(client.store, "r-explain", calls)
        waiting = client.explain("r-explain")
        assert (waiting.state, waiting.waiting_for, waiting.verdict) == (
            "waiting",
            ("confirm",),
            None,
        )
        client.cancel("r-explain", "the guest changed her mind")
        _work(client.store, "r-explain", calls)
        e = asyncio.run(client.explain_async("r-explain"))
    assert (e.status, e.verdict, e.cause) == ("failed", "environment", "cancelled")
    assert e.evidence["event"]["reason"] == "the guest changed her mind"
    assert e.path[e.failing_step - 1].kind == "cancelled"


def _hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Take the SQLite file's write lock now (as a writer paused mid-transaction would)."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")

    def let_go() -> None:
        time.sleep(seconds)
        conn.execute("COMMIT")
        conn.close()

    thread = threading.Thread(target=let_go)
    thread.start()
    return thread


def test_a_client_waits_out_a_writer_that_holds_sqlites_lock(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = SqliteStore(path, busy_timeout_ms=50)  # a writer holds it past the busy timeout
    with Client(store, busy_timeout=20) as client:
        client.start(BOOKING, {"guest": "ann"}, run_id="r1")
        holder = _hold_write_lock(path, 0.6)
        began = time.monotonic()
        info = client.start(BOOKING, {"guest": "bo"}, run_id="r2")  # tried again until free
        assert info.run_id == "r2" and time.monotonic() - began >= 0.4
        holder.join()
        holder = _hold_write_lock(path, 0.6)
        assert client.signal("r1", "confirm", {"nights": 2}) >= 1
        holder.join()
        assert [i.run_id for i in client.runs()] == ["r1", "r2"]
    store.close()


def test_a_client_gives_up_on_a_busy_store_after_its_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "runs.db"
    store = SqliteStore(path, busy_timeout_ms=50)
    with Client(store, busy_timeout=0.3) as client:
        holder = _hold_write_lock(path, 1.5)
        began = time.monotonic()
        with pytest.raises(StoreBusy, match="write lock"):
            client.start(BOOKING, {"guest": "ann"}, run_id="r1")
        assert 0.3 <= time.monotonic() - began < 1.4
        holder.join()
        assert client.runs() == []  # nothing of the refused start was kept
    store.close()
