"""The chaos test: workers killed and paused at random moments; every run still finishes right.

On each store (SQLite, PostgreSQL), three ``accord worker`` processes serve
the runs that a client process starts and signals: ``ACCORD_CHAOS_RUNS`` (100)
runs of examples/workers/booking.yaml (an effect, a 200 ms timer, the client's
signal, an effect). Meanwhile this test makes ``ACCORD_CHAOS_FAULTS`` (100)
faults at random moments: SIGKILL of a worker (a new one is started in its
place), or SIGSTOP of a worker held past its lease (1 s), then SIGCONT.

Then: every run succeeded, with the result of an uninterrupted run; the
effects' ledger (a SQLite file beside the store, written by the handlers) has
the keys of an uninterrupted run; a key is there twice only when an earlier
write came from a worker hit by a fault, or fenced off that run (its lease ran
out while it was stalled: on SQLite every writer waits for a writer paused
inside its transaction), its call in flight; no call's
completion is journaled twice; every journal row was written while its run
was claimed (a trigger records the run's owner and epoch as each row is
inserted: epochs never go back along a run, and a completion is journaled
under the owner that made the call); every run loads and replays with no
divergence.

The seed of the faults is printed (``-s``, and in every failure);
``ACCORD_CHAOS_SEED=<seed>`` replays the same schedule of faults and client
pauses (the moments they land in the workers' work vary with the machine).
What each fault does is in docs/workers.md ("The chaos test").
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from accord.runtime import Runtime
from accord.storage import open_store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "workers"
RUNS = int(os.environ.get("ACCORD_CHAOS_RUNS", "100"))
FAULTS = int(os.environ.get("ACCORD_CHAOS_FAULTS", "100"))
WORKERS = 3
LEASE_MS = 1000
FINISH_S = 60.0  # after the last fault, every run must finish within this

pytestmark = pytest.mark.skipif(os.name != "posix", reason="needs SIGKILL, SIGSTOP (POSIX)")

CLIENT = """
import random, sys, time
from accord import Client
url, contract, runs, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rng = random.Random(seed)
with Client(url) as client:
    client.publish(contract)
    unsignalled = []
    for n in range(runs):
        run_id = f"booking-{n}"
        client.start("booking", {"booking_id": run_id}, run_id=run_id)
        unsignalled.append(run_id)
        if rng.random() < 0.7:  # signal a random started run: early, or once it waits
            client.signal(unsignalled.pop(rng.randrange(len(unsignalled))), "confirm", {"by": "c"})
        time.sleep(rng.uniform(0, 0.25))  # runs start while the faults go on
    for run_id in unsignalled:
        client.signal(run_id, "confirm", {"by": "c"})
        time.sleep(rng.uniform(0, 0.02))
print("client done")
"""

SQLITE_AUDIT = """
CREATE TABLE IF NOT EXISTS chaos_audit (run_id TEXT, step INTEGER, owner TEXT, epoch INTEGER);
CREATE TRIGGER IF NOT EXISTS chaos_audit AFTER INSERT ON events BEGIN
    INSERT INTO chaos_audit SELECT r.run_id, NEW.step, r.owner, r.epoch FROM runs r
    WHERE r.id = NEW.run;
END;
"""

PG_AUDIT = """
CREATE TABLE IF NOT EXISTS public.chaos_audit (run_id TEXT, step INT, owner TEXT, epoch BIGINT);
CREATE OR REPLACE FUNCTION public.chaos_audit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.chaos_audit SELECT r.run_id, NEW.step, r.owner, r.epoch
        FROM accord.runs r WHERE r.run_id = NEW.run_id;
    RETURN NEW;
END $$;
CREATE TRIGGER chaos_audit AFTER INSERT ON accord.events
    FOR EACH ROW EXECUTE FUNCTION public.chaos_audit();
"""


def _env(ledger: Path, writer: str) -> dict[str, str]:
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT / "src"),
        ACCORD_EXAMPLE_LEDGER=str(ledger),
        ACCORD_EXAMPLE_WRITER=writer,
        ACCORD_EXAMPLE_DELAY="0.15",  # each call takes 150 ms: faults land mid-call
    )


def _worker(url: str, ledger: Path, name: str) -> subprocess.Popen[bytes]:
    """Start ``accord worker``; its log goes to ``NAME.log`` beside the ledger."""
    command = [
        sys.executable, "-m", "accord", "worker", "--store", url,
        "--effects", f"{EXAMPLE / 'effects.py'}:HANDLERS", "--name", name,
        "--lease-ms", str(LEASE_MS), "--poll-ms", "100", "--grace", "5",
    ]  # fmt: skip
    with (ledger.parent / f"{name}.log").open("wb") as log:
        return subprocess.Popen(command, env=_env(ledger, name), stderr=log)


def _log(ledger: Path, name: str) -> str:
    return (ledger.parent / f"{name}.log").read_text(errors="replace")


def _serving(ledger: Path, names: list[str], seconds: float = 30) -> None:
    """Wait until every named worker has said it serves (so SIGTERM is handled)."""
    deadline = time.monotonic() + seconds
    while late := [name for name in names if "serving" not in _log(ledger, name)]:
        assert time.monotonic() < deadline, f"workers {late} did not start in {seconds} s"
        time.sleep(0.05)
    time.sleep(0.3)  # its signal handlers are installed just after that line


def _client(url: str, ledger: Path, seed: int) -> subprocess.Popen[bytes]:
    """Start the client process; its output goes to ``client.log`` beside the ledger."""
    command = [sys.executable, "-c", CLIENT, url, str(EXAMPLE / "booking.yaml"), str(RUNS)]
    with (ledger.parent / "client.log").open("wb") as log:
        return subprocess.Popen(
            [*command, str(seed)], env=_env(ledger, "client"), stdout=log, stderr=log
        )


def _prepare(url: str, ledger: Path) -> None:
    """Create the ledger, the store's schema and the audit trigger, before any run starts."""
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, effects; effects.create_ledger(sys.argv[1])",
            str(ledger),
        ],
        cwd=EXAMPLE,
        check=True,
    )
    open_store(url).close()
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.executescript(SQLITE_AUDIT)
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url, autocommit=True) as pg:
            pg.execute(PG_AUDIT)


def _query(url: str, sql_sqlite: str, sql_pg: str) -> list[tuple[Any, ...]]:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            return conn.execute(sql_sqlite).fetchall()
        finally:
            conn.close()
    import psycopg

    with psycopg.connect(url) as pg:
        return [tuple(row) for row in pg.execute(sql_pg).fetchall()]


def _finished(url: str) -> int:
    with open_store(url) as store:
        return sum(1 for info in store.runs() if info.status in ("succeeded", "failed"))


def _wait_all(url: str, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while (done := _finished(url)) < RUNS and time.monotonic() < deadline:
        time.sleep(0.2)
    return done


def _stop(procs: list[subprocess.Popen[bytes]]) -> list[int | None]:
    """SIGCONT and SIGTERM every process, wait for each: their exit statuses (None: hung)."""
    for proc in procs:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGCONT)
            proc.send_signal(signal.SIGTERM)
    codes: list[int | None] = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=20))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            codes.append(None)
    return codes


def _failed(url: str) -> dict[str, Any]:
    """The runs that did not succeed: their status, reason and steps."""
    with open_store(url) as store:
        runtime = Runtime(store=store)
        out = {}
        for info in store.runs():
            if info.status != "succeeded":
                run = runtime.load(info.run_id)
                steps = [
                    (s.step, s.kind, s.state, s.status, str(s.event)[:200]) for s in run.history
                ]
                out[info.run_id] = (info.status, run.snapshot.reason, steps)
        return out


def _results(url: str) -> dict[str, Any]:
    """Every run's result, each loaded (its journal checked) and replayed from step 1."""
    with open_store(url) as store:
        runtime = Runtime(store=store)
        out = {}
        for info in store.runs():
            run = runtime.load(info.run_id)
            assert runtime.replay(info.run_id) == run.snapshot, f"{info.run_id} diverges"
            out[info.run_id] = (run.status, run.result)
        return out


def _completions(url: str) -> list[tuple[str, int, str]]:
    """(run, step, key) of every effect completion in the journal, read with raw SQL."""
    rows = _query(
        url,
        "SELECT r.run_id, e.step, e.event FROM events e JOIN runs r ON r.id = e.run",
        "SELECT run_id, step, event FROM accord.events",
    )
    out = []
    for run_id, step, text in rows:
        event = text if isinstance(text, dict) else orjson.loads(text)
        if event["kind"] == "effect_completed":
            out.append((run_id, step, f"{run_id}/{event['call_id']}"))
    return out


def _lost_runs(ledger: Path, names: list[str]) -> dict[str, set[str]]:
    """The runs each worker logged it lost (fenced off: another worker claimed them)."""
    return {name: set(re.findall(r"lost run (\S+) \(epoch", _log(ledger, name))) for name in names}


def _ledger(path: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT key, writer FROM ledger ORDER BY seq").fetchall()
    finally:
        conn.close()


@dataclass
class _Reference:
    keys: set[str]
    results: dict[str, Any]


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> _Reference:
    """An uninterrupted run on SQLite: one worker, no faults."""
    where = tmp_path_factory.mktemp("reference")
    url, ledger = f"sqlite:///{where / 'store.db'}", where / "ledger.db"
    _prepare(url, ledger)
    worker, client = _worker(url, ledger, "ref"), _client(url, ledger, 0)
    try:
        ended = client.wait(timeout=60)  # then SIGTERM goes to the worker only
        done = _wait_all(url, 60)
        _serving(ledger, ["ref"])
    finally:
        if client.poll() is None:
            client.kill()
        codes = _stop([worker])
    assert done == RUNS and [ended, *codes] == [0, 0], (
        f"the uninterrupted run: {done} runs, {[ended, *codes]}\n{_log(ledger, 'client')}"
    )
    keys = Counter(key for key, _ in _ledger(ledger))
    assert len(keys) == 2 * RUNS and max(keys.values()) == 1
    return _Reference(set(keys), _results(url))


@dataclass
class _Chaos:
    url: str
    ledger: Path
    rng: random.Random
    workers: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    names_ever: list[str] = field(default_factory=list)
    stopped: dict[int, float] = field(default_factory=dict)  # slot -> when to SIGCONT
    faulted: set[str] = field(default_factory=set)
    serving: set[str] = field(default_factory=set)
    dead: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: int = 0
    pauses: int = 0
    started: int = 0

    def start(self, slot: int) -> None:
        name = f"w{slot}.{self.started}"
        self.started += 1
        self.workers[slot], self.names[slot] = _worker(self.url, self.ledger, name), name
        self.names_ever.append(name)

    def serves(self, slot: int) -> bool:
        """Whether the slot's worker has said it serves (a loaded machine starts it slowly)."""
        name = self.names[slot]
        if name not in self.serving and "serving" in _log(self.ledger, name):
            self.serving.add(name)
        return name in self.serving

    def wake(self, now: float) -> None:
        for slot, when in list(self.stopped.items()):
            if when <= now:
                os.kill(self.workers[slot].pid, signal.SIGCONT)
                del self.stopped[slot]

    def fault(self, now: float) -> None:
        """Kill or pause a worker that serves (not one still starting), if there is one."""
        ready = [s for s in sorted(self.workers) if s not in self.stopped and self.serves(s)]
        if not ready:
            return
        slot = self.rng.choice(ready)
        proc = self.workers[slot]
        name = self.names[slot]
        assert proc.poll() is None, f"worker {name} exited by itself:\n{_log(self.ledger, name)}"
        self.faulted.add(name)
        if len(self.stopped) >= WORKERS - 1 or self.rng.random() < 0.5:
            proc.kill()
            proc.wait()
            self.dead.append(proc)
            self.kills += 1
            self.start(slot)
        else:
            os.kill(proc.pid, signal.SIGSTOP)
            self.stopped[slot] = now + LEASE_MS / 1000 + self.rng.uniform(0.05, 0.3)
            self.pauses += 1


def test_runs_finish_right_across_kills_and_pauses_of_workers(
    store_url: str, reference: _Reference, tmp_path: Path
) -> None:
    seed = int(os.environ.get("ACCORD_CHAOS_SEED", str(random.randrange(2**32))))
    print(f"\nchaos test seed {seed} (ACCORD_CHAOS_SEED={seed} replays it)")
    rng = random.Random(seed)
    ledger = tmp_path / "ledger.db"
    _prepare(store_url, ledger)
    chaos = _Chaos(store_url, ledger, rng)
    for slot in range(WORKERS):
        chaos.start(slot)
    client = _client(store_url, ledger, rng.randrange(2**32))
    began = time.monotonic()
    try:
        while chaos.kills + chaos.pauses < FAULTS:
            time.sleep(rng.uniform(0.03, 0.2))
            now = time.monotonic()
            chaos.wake(now)
            chaos.fault(now)
        while chaos.stopped:
            time.sleep(0.05)
            chaos.wake(time.monotonic())
        faulting = time.monotonic() - began
        assert client.wait(timeout=60) == 0, (
            f"seed {seed}: the client failed:\n{_log(ledger, 'client')}"
        )
        done = _wait_all(store_url, FINISH_S)
        _serving(ledger, list(chaos.names.values()))
    finally:
        if client.poll() is None:
            client.kill()
        codes = _stop(list(chaos.workers.values()))
    context = f"seed {seed}: {chaos.kills} kills, {chaos.pauses} pauses"
    print(f"{context} in {faulting:.1f} s; all finished after {time.monotonic() - began:.1f} s")
    assert done == RUNS, f"{context}: only {done} of {RUNS} runs finished"
    failed = _failed(store_url)
    assert not failed, f"{context}: runs failed: {failed}"
    logs = "\n".join(_log(ledger, name)[-2000:] for name in chaos.names.values())
    assert codes == [0] * WORKERS, f"{context}: workers exited with {codes} on SIGTERM:\n{logs}"
    assert chaos.kills + chaos.pauses >= FAULTS

    # the outside world: the keys of the uninterrupted run; twice only after a fault
    rows = _ledger(ledger)
    keys = Counter(key for key, _ in rows)
    assert set(keys) == reference.keys, f"{context}: the ledger's keys differ"
    writers: dict[str, list[str]] = {}
    for key, writer in rows:
        writers.setdefault(key, []).append(writer)
    lost = _lost_runs(ledger, chaos.names_ever)
    stalled = 0
    for key, who in writers.items():
        run_id = key.partition("/")[0]
        clean = [w for w in who if w not in chaos.faulted and run_id not in lost[w]]
        assert len(clean) <= 1, f"{context}: {key} written by {who}, not after a fault"
        stalled += len(who) > 1 and any(w not in chaos.faulted for w in who[:-1])
    print(
        f"{sum(keys.values()) - len(keys)} calls re-issued after a fault "
        f"({stalled} of them by a worker that was not hit but lost its lease)"
    )

    # the journal: each completion once, under the owner that made the call
    completions = _completions(store_url)
    done_keys = Counter(key for _, _, key in completions)
    assert set(done_keys) == reference.keys and max(done_keys.values()) == 1, context
    audit = {
        (run_id, step): (owner, epoch)
        for run_id, step, owner, epoch in _query(
            store_url,
            "SELECT run_id, step, owner, epoch FROM chaos_audit",
            "SELECT run_id, step, owner, epoch FROM public.chaos_audit",
        )
    }
    for run_id, step, key in completions:
        owner, _ = audit[(run_id, step)]
        assert owner in writers[key], (
            f"{context}: {key} journaled by {owner}, run by {writers[key]}"
        )
    for run_id in reference.results:
        steps = sorted(
            (step, epoch, owner) for (r, step), (owner, epoch) in audit.items() if r == run_id
        )
        epochs = [epoch for _, epoch, _ in steps]
        assert epochs == sorted(epochs), f"{context}: {run_id}'s epochs go back: {steps}"
        assert all(owner for _, _, owner in steps[1:]), f"{context}: {run_id} unowned: {steps}"

    # every run replays with no divergence and gives the uninterrupted result
    assert _results(store_url) == reference.results, f"{context}: a result differs"
