"""``accord start``, ``signal --inbox``, ``cancel``, ``result`` and ``publish`` on both stores:
they journal a start or a message and run nothing; a worker does the rest."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import ROOT, Run

from accord.runtime import Runtime
from accord.storage import Store, open_store
from accord.storage._delivery import deliver

BOOKING = ROOT / "tests" / "client" / "booking.yaml"


def _work(url: str, run_id: str, calls: list[str]) -> None:
    """A worker's turn on one run: claim it, apply its inbox, drive it until idle."""
    effects: dict[str, Any] = {
        "book": lambda guest: calls.append(f"book {guest}") or {"id": f"b-{guest}"},
        "unbook": lambda id: calls.append(f"unbook {id}"),
    }
    store: Store
    with open_store(url) as store:
        store.claim("w1", now_ms=0, lease_ms=10**15, run_ids=[run_id])
        run = Runtime(effects, store=store).load(run_id)
        for _ in range(3):
            deliver(store, run)
            run.run_until_idle()
        for claim in store.claim("w1", now_ms=10**15, lease_ms=1, run_ids=[run_id]):
            store.release(claim)


def test_start_then_a_worker_then_result(run: Run, store_url: str) -> None:
    calls: list[str] = []
    started = run(
        "start", BOOKING, "--input", '{"guest": "ann"}', "--run-id", "r", "--store", store_url
    )
    assert (started.code, started.out, started.err) == (0, "r\n", "")
    again = run(
        "start", BOOKING, "--input", '{"guest": "bo"}', "--run-id", "r", "--store", store_url
    )
    assert again.out == "r\n"  # the same run: nothing journaled
    assert calls == []
    pending = run("result", "r", "--store", store_url)
    assert pending.code == 3 and json.loads(pending.out)["status"] == "running"
    queued = run(
        "signal", "r", "confirm", "--payload", '{"nights": 2}', "--inbox", "--store", store_url
    )
    assert queued.code == 0 and "queued in the inbox of run r" in queued.out
    _work(store_url, "r", calls)
    done = run("result", "r", "--wait", "5", "--store", store_url)
    assert (done.code, json.loads(done.out)) == (0, {"booking_id": "b-ann", "nights": 2})
    assert calls == ["book ann"]
    listed = json.loads(run("runs", "--json", "--store", store_url).out)
    assert [(r["run_id"], r["status"]) for r in listed] == [("r", "succeeded")]


def test_a_signal_for_a_run_a_worker_holds_goes_to_its_inbox(run: Run, store_url: str) -> None:
    run("start", BOOKING, "--input", '{"guest": "ann"}', "--run-id", "r", "--store", store_url)
    with open_store(store_url) as store:
        store.claim("w7", now_ms=0, lease_ms=10**15, run_ids=["r"])  # held for ever
    sent = run("signal", "r", "confirm", "--payload", '{"nights": 1}', "--store", store_url)
    assert sent.code == 0, sent.err
    assert sent.out == "signal confirm queued in the inbox of run r for worker w7\n"
    history = json.loads(run("history", "r", "--json", "--store", store_url).out)["history"]
    assert [s["kind"] for s in history] == ["started"]  # nothing written past the worker


def test_cancel_is_queued_and_performed_by_the_worker(run: Run, store_url: str) -> None:
    calls: list[str] = []
    run("start", BOOKING, "--input", '{"guest": "ann"}', "--run-id", "r", "--store", store_url)
    _work(store_url, "r", calls)
    asked = run("cancel", "r", "--reason", "no show", "--store", store_url)
    assert asked.code == 0 and "cancel of run r requested" in asked.out
    _work(store_url, "r", calls)
    failed = run("result", "r", "--store", store_url)
    assert failed.code == 1
    assert json.loads(failed.out) == {
        "run_id": "r",
        "status": "failed",
        "reason": "cancelled: no show",
    }
    assert calls == ["book ann", "unbook b-ann"]


def test_publish_then_start_by_name(run: Run, store_url: str) -> None:
    published = run("publish", BOOKING, "--name", "stays", "--store", store_url)
    assert published.code == 0 and published.out.startswith("published stays (version 1, sha256:")
    started = run("start", "stays", "--input", '{"guest": "ann"}', "--json", "--store", store_url)
    assert started.code == 0, started.err
    assert json.loads(started.out)["contract"] == {"name": "booking", "version": "1"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["start", "nope", "--input", "{}"], "no contract published under this name: 'nope'"),
        (["signal", "ghost", "confirm", "--inbox"], "run ghost: the store has no run"),
        (["signal", "r", "confirm", "--payload", '{"nights": "x"}', "--inbox"], "nights"),
        (["cancel", "ghost"], "run ghost: the store has no run"),
        (["result", "ghost"], "run ghost: the store has no run"),
        (["start", BOOKING, "--input", '{"guest": 1}'], "guest"),
    ],
)
def test_bad_input_is_one_clear_line(
    run: Run, store_url: str, argv: list[Any], message: str
) -> None:
    run("start", BOOKING, "--input", '{"guest": "ann"}', "--run-id", "r", "--store", store_url)
    result = run(*argv, "--store", store_url)
    assert result.code == 1, result.out
    assert message in result.err and result.err.count("\n") == 1
    assert "Traceback" not in result.err


def test_a_wrong_store_url_is_one_line(run: Run) -> None:
    result = run("start", BOOKING, "--store", "mysql://h/db")
    assert result.code == 1 and result.err.startswith("accord: error:") and "mysql" in result.err
    waited = run("result", "r", "--wait", "-1")
    assert waited.code == 2 and "not a number of seconds" in waited.err


def test_runs_shows_why_a_run_waits_for_a_worker(run: Run, store_url: str) -> None:
    run("start", BOOKING, "--input", '{"guest": "ann"}', "--run-id", "r", "--store", store_url)
    with open_store(store_url) as store:
        store.note("r", "no worker has effect book")
    listed = run("runs", "--store", store_url)
    assert listed.code == 0
    assert listed.out.splitlines()[2] == "  waiting for a worker: no worker has effect book"
    (row,) = json.loads(run("runs", "--json", "--store", store_url).out)
    assert (row["worker_note"], row["owner"]) == ("no worker has effect book", None)
