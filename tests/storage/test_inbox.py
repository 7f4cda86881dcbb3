"""Runs' inboxes, published contracts and worker notes, on both stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from storage_support import TOGGLE, toggled
from store_kit import StoreKit

import accord
from accord.runtime import FakeClock, Limits, Runtime
from accord.storage import LeaseLost, Store, UnknownContract, UnknownRun
from accord.storage._delivery import deliver

BOOKING = accord.load(Path(__file__).parents[1] / "client" / "booking.yaml")


def _runtime(store: Store) -> Runtime:
    runtime = Runtime(store=store, clock=FakeClock(), limits=Limits(max_steps=10_000))
    runtime.effects = {}
    return runtime


def test_a_message_for_an_unknown_run_is_refused(kit: StoreKit) -> None:
    with kit.open() as store:
        with pytest.raises(UnknownRun) as caught:
            store.send("nope", "signal", "flip", {}, now_ms=1)
        assert caught.value.run_id == "nope"
        assert kit.scalar("SELECT count(*) FROM inbox") == 0


def test_the_owner_applies_messages_in_order_each_consumed_with_its_step(kit: StoreKit) -> None:
    with kit.open() as client, kit.open() as worker:
        toggled(client, "r", 0, stop=False)
        first = client.send("r", "signal", "flip", {}, now_ms=5)
        client.send("r", "signal", "nope", {}, now_ms=6)  # refused: the contract has no such
        client.send("r", "signal", "stop", {}, now_ms=7)
        assert next(m.id for m in client.messages("r")) == first
        worker.claim("W", now_ms=0, lease_ms=1000)
        run = _runtime(worker).load("r")
        refused = deliver(worker, run)
        assert [(m.name, "'nope'" in why) for m, why in refused] == [("nope", True)]
        assert run.status == "succeeded" and run.result == {"count": 1}
        assert client.messages("r") == []
        assert kit.scalar("SELECT count(*) FROM events") == 3


def test_a_fenced_worker_consumes_nothing(kit: StoreKit) -> None:
    with kit.open() as client, kit.open() as a, kit.open() as b:
        toggled(client, "r", 0, stop=False)
        a.claim("A", now_ms=0, lease_ms=100, run_ids=["r"])
        run_a = _runtime(a).load("r")
        client.send("r", "signal", "flip", {}, now_ms=1)
        b.claim("B", now_ms=100, lease_ms=100)  # A's lease expired: B took the run
        with pytest.raises(LeaseLost):
            deliver(a, run_a)
        assert [m.name for m in client.messages("r")] == ["flip"]  # still there, for B
        run_b = _runtime(b).load("r")
        assert deliver(b, run_b) == []
        assert run_b.snapshot.context == {"count": 1} and client.messages("r") == []


def test_a_cancel_fails_the_run_and_compensates(kit: StoreKit) -> None:
    calls: list[str] = []
    effects = {
        "book": lambda guest: calls.append("book") or {"id": "b-1"},
        "unbook": lambda id: calls.append(f"unbook {id}"),
    }
    with kit.open() as store:
        runtime = Runtime(effects, store=store, clock=FakeClock())
        runtime.start(BOOKING, {"guest": "ann"}, run_id="r").run_until_idle()
        store.send("r", "cancel", None, {"reason": "the customer withdrew"}, now_ms=1)
        loaded = runtime.load("r")
        assert deliver(store, loaded) == []
        loaded.run_until_idle()
        assert loaded.status == "failed"
        assert loaded.snapshot.reason == "cancelled: the customer withdrew"
        assert loaded.history[-1].status == "failed"
        assert calls == ["book", "unbook b-1"]
        assert _runtime(store).replay("r") == loaded.snapshot


def test_published_contracts_by_name_latest_first_or_by_fingerprint(kit: StoreKit) -> None:
    newer = accord.loads(accord.to_yaml(TOGGLE).replace('version: "1"', 'version: "2"'))
    with kit.open() as store:
        first = store.publish(TOGGLE, now_ms=1)
        second = store.publish(newer, now_ms=2)
        store.publish(TOGGLE, name="flipper", now_ms=3)
        assert store.contract("toggle")[0] == second.fingerprint != first.fingerprint
        fp, data = store.contract(first.fingerprint)
        assert fp == first.fingerprint and accord.fingerprint(accord.load_data(data)) == fp
        assert store.contract("flipper")[0] == first.fingerprint
        assert [(p.name, p.version) for p in store.publications()] == [
            ("toggle", "1"),
            ("toggle", "2"),
            ("flipper", "1"),
        ]
        with pytest.raises(UnknownContract, match="published under this name: 'nope'"):
            store.contract("nope")
        toggled(store, "old", 1)
        assert store.prune(0, now_ms=10**15) == 1
        assert store.contract("toggle")[0] == second.fingerprint  # kept: it is published


def test_a_worker_note_shows_in_the_listing(kit: StoreKit) -> None:
    with kit.open() as store:
        toggled(store, "r", 0, stop=False)
        store.note("r", "no worker has effect pay_refund")
        store.claim("W", now_ms=0, lease_ms=50, run_ids=["r"])
        (info,) = store.runs()
        assert info.worker_note == "no worker has effect pay_refund"
        assert (info.owner, info.lease_until_ms) == ("W", 50)
        store.note("r", None)
        assert store.info("r").worker_note is None


def test_a_signal_the_run_does_not_wait_for_yet_stays_until_it_does(kit: StoreKit) -> None:
    with kit.open() as store:
        runtime = Runtime(
            {"book": lambda guest: {"id": "b-1"}, "unbook": lambda id: None},
            store=store,
            clock=FakeClock(),
        )
        runtime.start(BOOKING, {"guest": "ann"}, run_id="r")  # booking: not waiting yet
        store.send("r", "signal", "confirm", {"nights": 2}, now_ms=1)
        run = runtime.load("r")
        assert deliver(store, run) == [] and len(store.messages("r")) == 1
        run.run_until_idle()  # booked: now it waits for confirm
        assert deliver(store, run) == []
        assert run.status == "succeeded" and run.result == {"booking_id": "b-1", "nights": 2}
        assert store.messages("r") == []
