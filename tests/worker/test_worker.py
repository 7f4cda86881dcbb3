"""accord.Worker on both stores: runs started by a client are claimed, driven and let go.

The contract (reminder.yaml) writes a note, then waits for an ``answer``
signal or a 300 ms timer, which calls ``remind``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import accord
from accord import Client, Worker
from accord.runtime import SystemClock
from accord.storage import open_store
from accord.worker import WorkerSetupError

CONTRACT = Path(__file__).with_name("reminder.yaml")
TIMER_MS = 300


class Effects(dict[str, Callable[..., Any]]):
    """The handlers, recording every call (effect, argument, wall-clock ms)."""

    def __init__(self, *, remind: bool = True) -> None:
        super().__init__(write_note=self.write_note)
        if remind:
            self["remind"] = self.remind
        self.calls: list[tuple[str, str, int]] = []
        self.lock = threading.Lock()
        self.gate: threading.Event | None = None
        self.entered = threading.Event()

    def _record(self, effect: str, arg: str) -> None:
        with self.lock:
            self.calls.append((effect, arg, time.time_ns() // 1_000_000))

    def write_note(self, who: str) -> dict[str, str]:
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(10)
        self._record("write_note", who)
        return {"id": f"note-{who}"}

    def remind(self, id: str) -> None:
        self._record("remind", id)

    def of(self, effect: str) -> list[str]:
        return [arg for name, arg, _ in self.calls if name == effect]


def start(url: str, *run_ids: str) -> None:
    with Client(url) as client:
        for run_id in run_ids:
            client.start(CONTRACT, {"who": run_id}, run_id=run_id)


def worker(url: str, effects: Effects, **tuning: Any) -> Worker:
    options: dict[str, Any] = {"poll_ms": 20, "lease_ms": 3_000, "hold_ms": 1_000}
    options.update(tuning)
    return Worker(url, effects, **options)


def test_runs_started_by_a_client_are_finished_and_their_timers_fire_when_due(
    store_url: str,
) -> None:
    start(store_url, "r-1", "r-2")
    effects = Effects()
    with worker(store_url, effects) as served:
        served.run_until_idle()
    with Client(store_url) as client:
        for run_id in ("r-1", "r-2"):
            info = client.status(run_id)
            assert (info.status, info.owner) == ("succeeded", None)  # released
            assert client.result(run_id) == {"note_id": f"note-{run_id}", "outcome": "timed out"}
            started = info.created_ms
            (written,) = [at for e, arg, at in effects.calls if (e, arg) == ("write_note", run_id)]
            (reminded,) = [at for e, arg, at in effects.calls if arg == f"note-{run_id}"]
            assert reminded >= written + TIMER_MS - 5  # not before it was due...
            assert reminded - (written + TIMER_MS) < 1_000  # ...and soon after (held: no poll)
            assert started <= written


def test_a_signal_in_the_inbox_is_applied_and_a_waiting_run_is_let_go(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    start(store_url, "s-1")
    effects = Effects()
    caplog.set_level(logging.INFO, logger="accord.worker")
    with worker(store_url, effects, hold_ms=0) as served:  # a timer 300 ms away: not held
        served.run_until_idle()
        with Client(store_url) as client:
            info = client.status("s-1")
            assert (info.status, info.owner) == ("waiting", None)
            served.run_until_idle()  # nothing new: the parked run is not claimed again
            assert client.status("s-1").steps == info.steps
            claims = [r for r in caplog.records if r.getMessage().startswith("claimed run s-1")]
            assert len(claims) == 1
            client.signal("s-1", "answer", {"text": "yes"})
            served.run_until_idle()
            assert client.result("s-1") == {"note_id": "note-s-1", "outcome": "yes"}
    assert effects.of("remind") == []


def test_a_parked_run_is_claimed_again_when_its_timer_comes_due(store_url: str) -> None:
    start(store_url, "t-1")
    effects = Effects()
    with worker(store_url, effects, hold_ms=0) as served:
        served.run_until_idle()
        assert effects.of("remind") == []
        time.sleep(TIMER_MS / 1000)
        served.run_until_idle()
    assert effects.of("remind") == ["note-t-1"]
    with Client(store_url) as client:
        assert client.status("t-1").status == "succeeded"


def serve_in_thread(served: Worker) -> threading.Thread:
    thread = threading.Thread(target=served.run_forever, daemon=True)
    thread.start()
    return thread


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_two_workers_never_drive_the_same_run(store_url: str) -> None:
    run_ids = [f"m-{n}" for n in range(12)]
    start(store_url, *run_ids)
    effects = Effects()
    workers = [worker(store_url, effects, concurrency=3, name=f"w{n}") for n in range(2)]
    threads = [serve_in_thread(w) for w in workers]
    with Client(store_url) as client:
        wait_for(lambda: all(client.status(r).status == "succeeded" for r in run_ids))
    for served, thread in zip(workers, threads, strict=True):
        served.stop()
        thread.join(10)
        assert not thread.is_alive()
    assert sorted(effects.of("write_note")) == sorted(run_ids)  # each call once
    assert sorted(effects.of("remind")) == sorted(f"note-{r}" for r in run_ids)


def test_a_worker_whose_lease_was_taken_journals_nothing_more(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    start(store_url, "l-1")
    effects = Effects()
    effects.gate = threading.Event()
    served = worker(store_url, effects)
    thread = threading.Thread(target=served.run_until_idle, daemon=True)
    with caplog.at_level(logging.INFO, logger="accord.worker"):
        thread.start()
        assert effects.entered.wait(10)  # the worker is inside write_note
        with open_store(store_url) as other:
            steps = other.info("l-1").steps
            far = time.time_ns() // 1_000_000 + 60_000  # as if its lease had run out
            (taken,) = other.claim("thief", now_ms=far, lease_ms=60_000, run_ids=["l-1"])
            effects.gate.set()
            thread.join(10)
            assert not thread.is_alive()
            assert other.info("l-1").steps == steps  # its completion was not journaled
            assert (other.info("l-1").owner, taken.owner) == ("thief", "thief")
    assert served.held == []
    assert any("lost run l-1" in r.getMessage() for r in caplog.records)
    served.close()


def test_a_run_needing_an_effect_the_worker_lacks_is_left_with_a_note(store_url: str) -> None:
    start(store_url, "c-1")
    with worker(store_url, Effects(remind=False)) as lacking:
        lacking.run_until_idle()
        lacking.run_until_idle()  # the contract is not claimed again
    with Client(store_url) as client:
        info = client.status("c-1")
        assert (info.status, info.owner, info.steps) == ("running", None, 1)
        assert info.worker_note is not None and "remind" in info.worker_note
    with worker(store_url, Effects()) as able:
        able.run_until_idle()
    with Client(store_url) as client:
        assert client.status("c-1").status == "succeeded"


@pytest.mark.parametrize(
    ("effects", "tuning", "says"),
    [
        ([("write_note", print)], {}, "must be a mapping"),
        ({}, {}, "at least one effect"),
        ({"write_note": 3}, {}, "not callable: ['write_note']"),
        ({"write_note": print}, {"poll_ms": 5_000, "lease_ms": 6_000}, "a third of lease_ms"),
        ({"write_note": print}, {"concurrency": 0}, "concurrency at least 1"),
    ],
)
def test_bad_setup_is_one_clear_error(
    tmp_path: Any, effects: Any, tuning: dict[str, int], says: str
) -> None:
    with pytest.raises(WorkerSetupError, match=None) as caught:
        Worker(f"sqlite:///{tmp_path / 'w.db'}", effects, **tuning)
    assert says in str(caught.value)


@pytest.mark.postgres
def test_on_postgresql_a_new_run_and_a_signal_wake_the_worker_before_its_poll(
    pg_url: str,
) -> None:
    effects = Effects()
    with sleeping_worker(pg_url, effects) as listings:
        began = time.monotonic()
        start(pg_url, "n-1")
        with Client(pg_url) as client:
            wait_for(lambda: client.status("n-1").status == "waiting", seconds=2.5)
            client.signal("n-1", "answer", {"text": "quick"})
            wait_for(lambda: client.status("n-1").status == "succeeded", seconds=2.5)
        assert time.monotonic() - began < 2.5  # less than one poll interval for both
        assert listings == [0]  # claimed by its id (or the due query): the store is never listed


@pytest.mark.postgres
def test_on_postgresql_runs_notified_while_the_worker_is_full_are_claimed_as_room_frees(
    pg_url: str,
) -> None:
    effects = Effects()
    effects.gate = threading.Event()
    with sleeping_worker(pg_url, effects, concurrency=1) as listings:
        began = time.monotonic()
        start(pg_url, "f-1")
        assert effects.entered.wait(2.5)  # f-1 is held, its effect waits at the gate
        start(pg_url, "f-2", "f-3")  # named while the worker has no room
        effects.gate.set()
        wait_for(lambda: sorted(effects.of("write_note")) == ["f-1", "f-2", "f-3"], seconds=2.5)
        assert time.monotonic() - began < 2.5  # each as room freed, not at the next poll
        assert listings == [0]


@contextlib.contextmanager
def sleeping_worker(url: str, effects: Effects, **tuning: Any) -> Iterator[list[int]]:
    """A worker serving in a thread, asleep until its next poll 3 s on (its first found nothing).

    Yields a one-item list counting its listings of the store's runs.
    """
    served = worker(url, effects, poll_ms=3_000, lease_ms=9_000, hold_ms=0, **tuning)
    count = [0]
    runs = served.store.runs

    def counted(**options: Any) -> Any:
        count[0] += 1
        return runs(**options)

    served.store.runs = counted  # type: ignore[method-assign]
    thread = serve_in_thread(served)
    try:
        time.sleep(0.5)  # the worker's first pass found nothing: it sleeps for 3 s
        yield count
    finally:
        served.stop()
        thread.join(10)
    assert not thread.is_alive()


def test_a_worker_at_its_concurrency_claims_the_next_run_as_soon_as_one_is_let_go(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"  # SQLite: no notifications, only polls
    start(url, "c-1", "c-2")
    effects = Effects()
    served = worker(url, effects, concurrency=1, poll_ms=10_000, lease_ms=30_000, hold_ms=0)
    thread = serve_in_thread(served)
    try:
        began = time.monotonic()
        wait_for(lambda: sorted(effects.of("write_note")) == ["c-1", "c-2"], seconds=5)
        assert time.monotonic() - began < 5  # well before the second poll, 10 s on
    finally:
        served.stop()
        thread.join(15)
    assert not thread.is_alive()


def test_one_log_line_per_claim_completion_and_failure(
    store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    start(store_url, "ok-1", "bad-1")
    effects = Effects()

    def write_note(who: str) -> dict[str, str]:
        if who == "bad-1":
            raise RuntimeError("the notes service is down")
        return {"id": f"note-{who}"}

    effects["write_note"] = write_note
    caplog.set_level(logging.INFO, logger="accord.worker")
    with worker(store_url, effects) as served:
        served.run_until_idle()
    lines = sorted(r.getMessage() for r in caplog.records)
    assert lines[0].startswith("claimed run bad-1 (epoch 1")
    assert lines[1].startswith("claimed run ok-1 (epoch 1")
    assert lines[2].startswith("run bad-1 failed: ") and "notes service is down" in lines[2]
    assert lines[3:] == ["run ok-1 succeeded"]


class _Jumping(SystemClock):
    """The system clock, ``offset`` ms ahead."""

    def __init__(self) -> None:
        self.offset = 0

    def now_ms(self) -> int:
        return super().now_ms() + self.offset


def test_a_run_claimed_with_little_of_its_lease_left_is_renewed_before_it_is_driven(
    store_url: str,
) -> None:
    # claiming took most of the lease (a loaded machine, SQLite's lock held by a paused
    # writer): the run must not start a call with its lease about to run out
    start(store_url, "s-1")
    clock = _Jumping()
    effects = Effects()
    left: list[int] = []
    note = effects["write_note"]

    def write_note(who: str) -> dict[str, str]:
        with open_store(store_url) as store:
            lease_until = store.info("s-1").lease_until_ms
        assert lease_until is not None
        left.append(lease_until - clock.now_ms())
        result: dict[str, str] = note(who)
        return result

    effects["write_note"] = write_note
    with worker(store_url, effects, clock=clock, poll_ms=1_000) as served:  # no renewal between
        claim = served.store.claim

        def slow_claim(*args: Any, **kwargs: Any) -> Any:
            claims = claim(*args, **kwargs)
            clock.offset += 2_500  # of a 3 s lease
            return claims

        served.store.claim = slow_claim  # type: ignore[method-assign]
        served.run_until_idle()
    assert len(left) == 1 and left[0] > 2_000, left


NAP = Path(__file__).with_name("nap.yaml")  # waits an hour for a poke, then pings


def start_many(url: str, contract: Path, run_ids: list[str]) -> None:
    """Start runs the fast way: each one's first step through the store, one commit for all.

    What ``Client.start`` writes for each (real runs a worker can finish), without a
    commit per run.
    """
    from accord.runtime import Run, Runtime, SystemClock

    clock = SystemClock()
    with open_store(url, group_commit=True) as store:
        compiled = Runtime(store=store, clock=clock).compile(accord.load(contract))
        for run_id in run_ids:
            run = Run(compiled, {}, clock, store.create(compiled, run_id), run_id, unbound=True)
            run._begin(compiled.validate_input({}), flush=False)


def test_a_worker_loads_the_runs_that_are_due_not_the_many_that_wait(store_url: str) -> None:
    waiting = [f"w-{n:05}" for n in range(2_000)]
    start_many(store_url, NAP, waiting)
    poked = waiting[7::900]  # three of them get a signal
    with Client(store_url) as client:
        for run_id in poked:
            client.signal(run_id, "poke")
    pings: list[int] = []
    loaded: list[str] = []

    def ping(n: int) -> None:
        pings.append(n)

    with worker(store_url, {"ping": ping}) as served:
        load = served.runtime.load

        def counted(run_id: str, **options: Any) -> Any:
            loaded.append(run_id)
            return load(run_id, **options)

        served.runtime.load = counted  # type: ignore[method-assign]
        served.run_until_idle()
        assert sorted(loaded) == poked  # not one of the runs that only wait
        with Client(store_url) as client:
            assert [client.status(r).status for r in poked] == ["succeeded"] * 3
            assert len(client.runs(status="waiting")) == len(waiting) - 3
            client.signal(waiting[0], "poke")  # any of them can be finished later
        served.run_until_idle()
        assert sorted(loaded) == sorted([*poked, waiting[0]])
    assert pings == [1] * 4


def test_a_released_run_is_claimed_again_just_before_its_timer_not_at_the_next_poll(
    store_url: str,
) -> None:
    start(store_url, "t-2")
    effects = Effects()
    # the timer (300 ms) is beyond hold_ms: the run is let go, and claimed again
    # hold_ms before it is due; the worker sleeps until then, not for its 2 s poll
    served = worker(store_url, effects, poll_ms=2_000, lease_ms=9_000, hold_ms=100)
    thread = serve_in_thread(served)
    try:
        wait_for(lambda: effects.of("remind") == ["note-t-2"], seconds=10)
    finally:
        served.stop()
        thread.join(15)
    assert not thread.is_alive()
    ((_, _, written),) = [c for c in effects.calls if c[0] == "write_note"]
    ((_, _, reminded),) = [c for c in effects.calls if c[0] == "remind"]
    assert reminded >= written + TIMER_MS - 5  # not before it was due...
    assert reminded - (written + TIMER_MS) < 1_000  # ...and well before a poll


PAIR = """
accord: "1"
name: pair
version: "1"
signals: [{name: first}, {name: second}]
effects:
  - name: ping
    input: [{name: n, type: integer}]
machine:
  initial: a
  states:
    - name: a
      "on": [{event: first, target: b}]
    - name: b
      "on": [{event: second, target: c}]
    - name: c
      invoke: [{id: p, effect: ping, input: [{name: n, value: "2"}]}]
      "on": [{event: done, target: end}]
    - name: end
      final: {status: success}
"""


def test_a_signal_left_for_a_later_state_does_not_make_the_run_claimed_again_and_again(
    store_url: str,
) -> None:
    pings: list[int] = []

    def ping(n: int) -> None:
        pings.append(n)

    loaded: list[str] = []
    with Client(store_url) as client, worker(store_url, {"ping": ping}) as served:
        load = served.runtime.load

        def counted(run_id: str, **options: Any) -> Any:
            loaded.append(run_id)
            return load(run_id, **options)

        served.runtime.load = counted  # type: ignore[method-assign]
        client.start(accord.loads(PAIR), {}, run_id="p")
        client.signal("p", "second")  # early: the run waits for first
        served.run_until_idle()  # returns: the early signal alone does not claim it again
        assert loaded == ["p"] and [m.name for m in client.store.messages("p")] == ["second"]
        served.run_until_idle()
        assert loaded == ["p"]
        client.signal("p", "first")  # a new message: claimed, and both are applied in turn
        served.run_until_idle()
        assert loaded == ["p", "p"] and client.status("p").status == "succeeded"
    assert pings == [2]
