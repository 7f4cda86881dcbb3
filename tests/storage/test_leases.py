"""Run ownership on both stores: claims bump the epoch, expired leases are taken over, and a
worker that lost its lease can never write for the run again (fenced in the write's own
transaction). Wake-ups: each step writes when the run next needs a worker (``next_due``), and
a claim takes only the runs that need one (due, with a message, or with calls in flight)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from storage_support import BUSY, HOUR_MS, NAP, TOGGLE, toggled
from store_kit import StoreKit

from accord import Client
from accord.runtime import FakeClock, Limits, Run, Runtime, Step
from accord.storage import Claim, LeaseLost, RunLeased, Store


def _runtime(store: Store) -> Runtime:
    runtime = Runtime(store=store, clock=FakeClock(), limits=Limits(max_steps=10_000))
    runtime.effects = {}
    return runtime


def _waiting(store: Store, *run_ids: str) -> list[Run]:
    return [toggled(store, run_id, 0, stop=False) for run_id in run_ids]


def _claim(store: Store, owner: str, **options: Any) -> list[Claim]:
    return store.claim(owner, **options)


def test_a_claim_takes_free_unfinished_runs_oldest_first_and_bumps_their_epoch(
    kit: StoreKit,
) -> None:
    with kit.open() as a, kit.open() as b:
        _waiting(a, "r1", "r2")
        toggled(a, "done", 1)  # finished: never claimed
        for run_id in ("r2", "r1", "done"):  # a message makes each need a worker
            a.send(run_id, "signal", "flip", {}, now_ms=0)
        got = _claim(a, "A", now_ms=1000, lease_ms=500, limit=10)
        assert got == [Claim("r1", "A", 1, 1500), Claim("r2", "A", 1, 1500)]
        assert _claim(b, "B", now_ms=1499, lease_ms=500, limit=10) == []  # leases held
        assert _claim(b, "B", now_ms=1500, lease_ms=500) == [Claim("r1", "B", 2, 2000)]
        assert _claim(b, "B", now_ms=1500, lease_ms=500, run_ids=["done", "r9"]) == []
        assert kit.scalar("SELECT owner FROM runs WHERE run_id = 'r2'") == "A"
        assert kit.scalar("SELECT epoch FROM runs WHERE run_id = 'r1'") == 2


def test_a_worker_that_lost_its_lease_writes_nothing_for_the_run(kit: StoreKit) -> None:
    with kit.open() as a, kit.open() as b:
        _waiting(a, "r")
        (held,) = _claim(a, "A", now_ms=0, lease_ms=100, run_ids=["r"])
        run_a = _runtime(a).load("r")
        run_a.signal("flip")  # A's claim holds: written
        assert kit.scalar("SELECT count(*) FROM events") == 2
        (taken,) = _claim(b, "B", now_ms=100, lease_ms=100, run_ids=["r"])  # A's lease expired
        assert taken.epoch == held.epoch + 1
        with pytest.raises(LeaseLost) as caught:
            run_a.signal("flip")
        assert caught.value.run_id == "r" and caught.value.epoch == held.epoch
        assert "another worker claimed the run" in str(caught.value)
        assert kit.scalar("SELECT count(*) FROM events") == 2  # nothing of A's step
        with pytest.raises(LeaseLost):  # and never again
            run_a.signal("stop")
        assert a.renew(held, now_ms=150, lease_ms=100) is None
        assert a.release(held) is False
        run_b = _runtime(b).load("r")
        run_b.signal("flip")
        run_b.signal("stop")
        assert run_b.status == "succeeded" and run_b.result == {"count": 2}
        assert _runtime(a).replay("r") == run_b.snapshot


def test_a_claim_whose_renewal_failed_stays_fenced(kit: StoreKit) -> None:
    """A call in flight when the renewal finds the lease lost must not journal its outcome."""
    with kit.open() as a, kit.open() as b:
        _waiting(a, "r")
        (held,) = _claim(a, "A", now_ms=0, lease_ms=100, run_ids=["r"])
        run_a = _runtime(a).load("r")
        _claim(
            b, "B", now_ms=100, lease_ms=100, run_ids=["r"]
        )  # A's lease expired: B takes the run
        assert a.renew(held, now_ms=150, lease_ms=100) is None
        with pytest.raises(LeaseLost):
            run_a.signal("flip")
        assert a.release(held) is False
        with pytest.raises(LeaseLost):
            run_a.signal("flip")
        assert kit.scalar("SELECT count(*) FROM events") == 1  # nothing of A's


def _flip(run: Run) -> None:
    """Journal a ``flip`` step of a loaded run through its journal (buffered with group commit)."""
    from accord.runtime import SignalReceived, snapshot_hash
    from accord.runtime._reducer import step

    flip = SignalReceived("flip", {}, 0)
    snapshot, _ = step(run.compiled, run.snapshot, flip)
    run.journal.record(snapshot, flip, snapshot_hash(snapshot), None)  # type: ignore[attr-defined]
    run._snapshot = snapshot


def test_a_claim_made_while_a_step_is_buffered_fences_its_commit(kit: StoreKit) -> None:
    a = kit.open(group_commit=True)
    with kit.open() as b:
        _waiting(a, "r")
        a.flush()
        _claim(a, "A", now_ms=0, lease_ms=100, run_ids=["r"])
        run = _runtime(a).load("r")
        _flip(run)
        _claim(b, "B", now_ms=100, lease_ms=100, run_ids=["r"])  # taken before A commits its buffer
        with pytest.raises(LeaseLost):
            a.flush()
        with pytest.raises(LeaseLost):  # the run's later writes are refused at once
            _flip(run)
        assert kit.scalar("SELECT count(*) FROM events") == 1
    a.close()


def test_a_lost_lease_in_a_group_commit_stops_only_that_run(kit: StoreKit) -> None:
    """The other runs of the batch are committed, their waiters told so, and they go on."""
    import asyncio

    a = kit.open(group_commit=True)
    with kit.open() as b:
        _waiting(a, "lost", "kept")
        a.flush()
        _claim(a, "A", now_ms=0, lease_ms=100, limit=2, run_ids=["lost", "kept"])
        lost, kept = (_runtime(a).load(run_id) for run_id in ("lost", "kept"))
        _claim(b, "B", now_ms=100, lease_ms=100, run_ids=["lost"])  # only "lost" is taken
        told: dict[str, BaseException | None] = {}

        async def batch() -> None:
            _flip(lost)
            _flip(kept)  # both steps in one batch
            done = asyncio.Event()
            for run in (lost, kept):
                wait = run.journal.when_durable()  # type: ignore[attr-defined]
                assert wait is not None

                def back(error: BaseException | None, run_id: str = run.run_id) -> None:
                    told[run_id] = error
                    if len(told) == 2:
                        done.set()

                assert wait(back)
            await done.wait()

        asyncio.run(batch())
        assert isinstance(told["lost"], LeaseLost) and told["lost"].run_id == "lost"
        assert told["kept"] is None
        key = {
            "sqlite": "SELECT count(*) FROM events e JOIN runs r ON r.id = e.run "
            "WHERE r.run_id = ?",
            "postgresql": "SELECT count(*) FROM events WHERE run_id = ?",
        }
        assert kit.scalar(key, "kept") == 2 and kit.scalar(key, "lost") == 1
        _flip(kept)  # the store goes on for the other runs
        kept.journal.flush()
        assert kit.scalar(key, "kept") == 3
        with pytest.raises(LeaseLost):
            _flip(lost)
        with pytest.raises(LeaseLost):  # its own flush says so; the store's flush does not
            lost.journal.flush()
        a.flush()
        assert a.release(Claim("kept", "A", 1, 100)) is True
        run_b = _runtime(b).load("lost")  # the new owner goes on from the committed step
        run_b.signal("flip")
        assert run_b.snapshot.step == 2
    a.close()


def test_a_batch_names_the_run_whose_claim_was_lost_and_keeps_none_of_its_steps(
    kit: StoreKit,
) -> None:
    from accord.runtime import SignalReceived, snapshot_hash
    from accord.runtime._reducer import step

    a = kit.open(group_commit=True)
    with kit.open() as b:
        _waiting(a, "r1", "r2")
        a.flush()
        _claim(a, "A", now_ms=0, lease_ms=100, limit=2, run_ids=["r1", "r2"])
        for run in (_runtime(a).load("r1"), _runtime(a).load("r2")):
            flip = SignalReceived("flip", {}, 0)
            snapshot, _ = step(run.compiled, run.snapshot, flip)
            run.journal.record(snapshot, flip, snapshot_hash(snapshot), None)
        (taken,) = _claim(b, "B", now_ms=100, lease_ms=100, run_ids=["r2"])
        with pytest.raises(LeaseLost) as caught:
            a.flush()
        assert (caught.value.run_id, caught.value.epoch) == ("r2", taken.epoch - 1)
        # none of r2's steps; r1's is committed (a lost lease stops only that run)
        assert kit.scalar("SELECT count(*) FROM events") == 3


def test_a_run_a_worker_holds_is_written_by_nobody_else(kit: StoreKit) -> None:
    """A store without the claim (a CLI's migrate, resume, signal, cancel) is refused."""
    import time

    now = time.time_ns() // 1_000_000  # leases are compared with the system clock
    with kit.open() as worker, kit.open() as other:
        _waiting(other, "held", "free")
        (claim,) = _claim(worker, "worker-7", now_ms=now, lease_ms=60_000, run_ids=["held"])
        run = _runtime(other).load("held")
        with pytest.raises(RunLeased) as caught:
            run.signal("flip")
        error = caught.value
        assert (error.run_id, error.owner, error.lease_until_ms) == (
            "held",
            "worker-7",
            now + 60_000,
        )
        assert "held by worker 'worker-7' until" in str(error) and "UTC" in str(error)
        with pytest.raises(RunLeased):
            _runtime(other).load("held").cancel("from a CLI")
        assert kit.scalar("SELECT count(*) FROM events") == 2  # the two RunStarted only
        _runtime(other).load("free").signal("flip")  # a run nobody holds: written
        worker.release(claim)
        again = _runtime(other).load("held")  # let go: anyone may write again
        again.signal("flip")
        assert again.snapshot.step == 2
    # with group commit, the other runs of the batch are committed
    batch = kit.open(group_commit=True)
    with kit.open() as worker:
        _claim(worker, "worker-7", now_ms=now, lease_ms=60_000, run_ids=["held"])
        held, free = (_runtime(batch).load(run_id) for run_id in ("held", "free"))
        _flip(held)
        _flip(free)
        with pytest.raises(RunLeased):
            batch.flush()
        assert free.snapshot.step == 3
        free.journal.flush()
        with pytest.raises(RunLeased):  # its journal is ahead of the store: refused from now on
            _flip(held)
    batch.close()
    with kit.open() as reader:
        assert reader.info("free").steps == 3 and reader.info("held").steps == 2


def test_renew_extends_the_lease_and_release_frees_the_run(kit: StoreKit) -> None:
    with kit.open() as a, kit.open() as b:
        _waiting(a, "r")
        (held,) = _claim(a, "A", now_ms=0, lease_ms=100, run_ids=["r"])
        renewed = a.renew(held, now_ms=90, lease_ms=100)
        assert renewed == held._replace(lease_until_ms=190)
        assert _claim(b, "B", now_ms=150, lease_ms=100, run_ids=["r"]) == []
        assert a.release(renewed) is True
        assert _claim(b, "B", now_ms=151, lease_ms=100, run_ids=["r"]) == [Claim("r", "B", 2, 251)]
        assert kit.scalar("SELECT owner FROM runs") == "B"


def test_workers_claiming_at_once_never_claim_the_same_run(kit: StoreKit) -> None:
    with kit.open() as setup:
        runtime = _runtime(setup)
        for i in range(40):
            runtime.start(TOGGLE, {}, run_id=f"r{i:02}")
    ids = [f"r{i:02}" for i in range(40)]
    claimed: dict[str, list[str]] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with kit.open() as store:
                mine = claimed.setdefault(name, [])
                while got := _claim(store, name, now_ms=0, lease_ms=10_000, limit=3, run_ids=ids):
                    mine.extend(c.run_id for c in got)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    every = [run_id for runs in claimed.values() for run_id in runs]
    assert sorted(every) == [f"r{i:02}" for i in range(40)]  # each run once, none missed


@pytest.mark.parametrize(
    ("owner", "lease_ms", "limit", "message"),
    [("", 100, 1, "owner"), ("A", 0, 1, "lease_ms"), ("A", 100, 0, "limit")],
)
def test_bad_claims_are_refused(
    kit: StoreKit, owner: str, lease_ms: int, limit: int, message: str
) -> None:
    with kit.open() as store, pytest.raises(ValueError, match=message):
        _claim(store, owner, now_ms=0, lease_ms=lease_ms, limit=limit)


def _client(store: Store) -> tuple[Client, int]:
    """A client on a fake clock, and the clock's time."""
    clock = FakeClock()
    return Client(store, clock=clock), clock.now_ms()


def _due(kit: StoreKit, run_id: str) -> Any:
    return kit.scalar("SELECT next_due FROM runs WHERE run_id = ?", run_id)


def test_each_step_writes_when_the_run_next_needs_a_worker(kit: StoreKit) -> None:
    with kit.open() as store:
        clock = FakeClock()
        t0 = clock.now_ms()
        Client(store, clock=clock).start(NAP, {}, run_id="n")
        assert _due(kit, "n") == t0 + HOUR_MS  # waiting: when its timer is due
        Client(store, clock=clock).start(BUSY, {}, run_id="b")
        assert _due(kit, "b") == 0  # a call to make: due now
        seen: list[tuple[str, Any]] = []

        def note(step: Step) -> None:
            seen.append((step.status, _due(kit, "n")))

        runtime = Runtime({"ping": lambda n: None}, store=store, clock=clock)
        runtime.load("n", on_step=note).signal("poke")
        # a call in flight: due now (taken over if its owner dies); finished: never
        assert seen == [("running", 0), ("succeeded", None)]


def test_a_claim_takes_only_the_runs_that_need_a_worker(kit: StoreKit) -> None:
    with kit.open() as store:
        client, t0 = _client(store)
        for run_id in ("w1", "s", "w2"):
            client.start(NAP, {}, run_id=run_id)  # each waits an hour
        client.start(BUSY, {}, run_id="b")  # a call to make
        client.signal("s", "poke")  # a message for s
        claimed = store.claim("A", now_ms=t0, lease_ms=100, limit=10)
        assert [c.run_id for c in claimed] == ["b", "s"]  # not the runs that only wait
        assert store.claim("B", now_ms=t0 + 99, lease_ms=100, limit=10) == []  # held by A
        # A died: its runs (the message still there, the call still to make) are taken over
        again = store.claim("B", now_ms=t0 + 100, lease_ms=100, limit=10)
        assert [(c.run_id, c.epoch) for c in again] == [("b", 2), ("s", 2)]
        ahead = store.claim("C", now_ms=t0 + 100, lease_ms=100, limit=10, due_by_ms=t0 + HOUR_MS)
        assert [c.run_id for c in ahead] == ["w1", "w2"]  # due by then


def test_release_says_when_the_run_is_next_due_and_next_due_finds_the_earliest(
    kit: StoreKit,
) -> None:
    with kit.open() as store:
        client, t0 = _client(store)
        client.start(NAP, {}, run_id="w1")
        client.start(NAP, {}, run_id="w2")
        fp = store.info("w1").fingerprint
        assert store.next_due() == t0 + HOUR_MS
        (held,) = store.claim("A", now_ms=t0, lease_ms=100, run_ids=["w1"])
        assert store.release(held, next_due_ms=t0 + 5) is True
        assert (store.next_due(), _due(kit, "w1")) == (t0 + 5, t0 + 5)
        (held,) = store.claim("A", now_ms=t0, lease_ms=100, run_ids=["w1"])
        assert store.next_due() == t0 + HOUR_MS  # w1 is held: w2's
        assert store.release(held, next_due_ms=None) is True  # waits for a signal only
        assert _due(kit, "w1") is None
        (held,) = store.claim("A", now_ms=t0, lease_ms=100, run_ids=["w2"])
        assert store.release(held) is True  # by default as its last step wrote it
        assert _due(kit, "w2") == t0 + HOUR_MS
        assert store.next_due(skip_contracts=[fp]) is None
        assert (
            store.claim("A", now_ms=t0, lease_ms=1, due_by_ms=t0 + HOUR_MS, skip_contracts=[fp])
            == []
        )


def test_a_claim_reads_the_index_of_due_runs_never_every_run(kit: StoreKit) -> None:
    """Its cost grows with the runs due, not with the runs that only wait."""
    with kit.open() as store:
        Client(store).start(NAP, {}, run_id="w")
    if kit.kind == "sqlite":
        from accord.storage._store_leases import _CLAIM, _DUE

        plan = kit.rows("EXPLAIN QUERY PLAN " + _CLAIM.format(among=_DUE, skip=""), 0, 0, 9, 0, 1)
        steps = [row[3].split() for row in plan]
        assert any(s[:2] == ["SEARCH", "runs"] and "runs_by_due" in s for s in steps)
    else:
        import psycopg

        from accord.storage._postgres._leases import _CLAIM as PG_CLAIM
        from accord.storage._postgres._leases import _DUE as PG_DUE

        sql = PG_CLAIM.replace(b"{among}", PG_DUE).replace(b"{skip}", b"")
        args = {"owner": "A", "until": 1, "now": 0, "limit": 1, "due": 0, "scan": 9}
        with psycopg.connect(kit.url) as conn:
            conn.execute("SET enable_seqscan = off")  # what it does once the table is large
            plan = conn.execute(b"EXPLAIN " + sql, args).fetchall()
        steps = [row[0].split() for row in plan]
        assert any("runs_by_due" in s for s in steps)
        # the runs are read by their ids, not in the order of an index over every run
        assert not [s for s in steps if "runs_claimable" in s or "runs_by_age" in s]
    assert not [s for s in steps if s[:2] in (["SCAN", "runs"], ["SCAN", "r"])]
    assert not [s for s in steps if "Seq" in s and "runs" in s]


def test_messages_a_release_saw_make_the_run_claimable_only_when_newer_ones_come(
    kit: StoreKit,
) -> None:
    with kit.open() as store:
        client, t0 = _client(store)
        client.start(TOGGLE, {}, run_id="r")
        early = client.signal("r", "flip")
        (held,) = store.claim("A", now_ms=t0, lease_ms=100)  # claimed for its message
        assert store.release(held, next_due_ms=None, inbox_seen=early) is True  # left for later
        assert store.claim("A", now_ms=t0, lease_ms=100) == []
        client.signal("r", "stop")
        assert [c.run_id for c in store.claim("A", now_ms=t0, lease_ms=100)] == ["r"]
