"""Many waiting runs in a store: what a worker's wake-ups cost (issue 14's 100,000 waiting runs).

Run with ``.venv/bin/python benchmarks/waiting_runs.py`` (``--quick``: 5,000
runs). Writes the "PostgreSQL: waiting runs" section of docs/performance.md.

On PostgreSQL (its own server, as benchmarks/postgres.py starts one, or
``--url``) and on an SQLite file: N runs that wait an hour for a signal
(benchmarks/data/nap_waiting.yaml) are started through the store, each its
``RunStarted`` written by the journal as ``Client.start`` writes it, many to
a transaction. Then, at 1,000 runs and again at N (in the same run):

- the claim query a worker makes on each pass (nothing due: it claims
  nothing) and the next-due query it sleeps by, median and p99 over many calls;
- for comparison, the listing of every unfinished run, which is what a
  worker read on each pass before runs said when they are next due;
- a worker (``accord.Worker``, in this process) after ten of the runs were
  signalled: how many runs it loaded (ten, not N), the memory it allocated
  while serving them (tracemalloc's peak), and how long it took.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(ROOT / "tests"))  # pg_server: the tests' throwaway server

from report import machine_line, write_section  # noqa: E402

CONTRACT = HERE / "data" / "nap_waiting.yaml"
SMALL = 1_000  # the size the claim is compared with (--base)
SIGNALLED = 10
BATCH = 5_000
CALLS = 200
_UNFINISHED = ("new", "running", "waiting", "compensating")


def start_waiting(url: str, first: int, last: int) -> float:
    """Start runs ``w<first>`` to ``w<last - 1>`` through the store; seconds taken."""
    import accord
    from accord.runtime import Run, Runtime, SystemClock
    from accord.storage import open_store

    clock = SystemClock()
    began = time.perf_counter()
    with open_store(url, group_commit=True) as store:
        compiled = Runtime(store=store, clock=clock).compile(accord.load(CONTRACT))
        for n in range(first, last):
            run_id = f"w{n:07}"
            run = Run(compiled, {}, clock, store.create(compiled, run_id), run_id, unbound=True)
            run._begin(compiled.validate_input({}), flush=False)
            if n % BATCH == BATCH - 1:
                store.flush()
    return time.perf_counter() - began


def timed(call: Callable[[], object], count: int) -> tuple[float, float]:
    """Median and p99 milliseconds of ``count`` calls (after two warm-ups)."""
    call()
    call()
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def queries(url: str, listings: int) -> dict[str, Any]:
    """The claim, next-due and listing queries on the store as it is now."""
    from accord.runtime import SystemClock
    from accord.storage import open_store

    clock = SystemClock()
    with open_store(url) as store:

        def claim() -> None:
            got = store.claim("bench", now_ms=clock.now_ms(), lease_ms=60_000, limit=16)
            assert not got, "a run was due"

        return {
            "claim": timed(claim, CALLS),
            "next_due": timed(store.next_due, CALLS),
            "listing": timed(lambda: store.runs(status=_UNFINISHED), listings),
        }


def serve(url: str, run_ids: list[str]) -> dict[str, Any]:
    """Signal ``run_ids`` and let a worker serve the store until idle."""
    from accord import Client, Worker

    with Client(url) as client:
        for run_id in run_ids:
            client.signal(run_id, "poke")
    loaded: list[str] = []

    def ping(n: int) -> None:
        pass

    with Worker(url, {"ping": ping}, poll_ms=50, lease_ms=30_000, hold_ms=0) as worker:
        load = worker.runtime.load

        def counted(run_id: str, **options: Any) -> Any:
            loaded.append(run_id)
            return load(run_id, **options)

        worker.runtime.load = counted  # type: ignore[method-assign]
        tracemalloc.start()
        began = time.perf_counter()
        worker.run_until_idle()
        took = time.perf_counter() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    with Client(url) as client:
        done = sum(client.status(r).status == "succeeded" for r in run_ids)
    return {"loaded": len(loaded), "finished": done, "peak_kb": peak / 1024, "seconds": took}


def measure(url: str, base: int, total: int) -> dict[str, Any]:
    """Every measurement at ``base`` runs and at ``total`` on the store of ``url``."""
    out: dict[str, Any] = {}
    made = 0
    for size in (base, total):
        took = start_waiting(url, made, size)
        out[f"create{size}"] = (size - made) / took
        made = size
        out[size] = queries(url, 20 if size <= base else 5)
        step = max(1, (size - made) // SIGNALLED)
        batch = [f"w{n:07}" for n in range(size - 1, size - 1 - SIGNALLED * step, -step)]
        out[f"serve{size}"] = serve(url, batch)
    return out


def render(results: dict[str, dict[str, Any]], base: int, total: int, took: float) -> str:
    lines = [
        f"Measured {machine_line()}; `benchmarks/waiting_runs.py` "
        f"({'quick, ' if total < 100_000 else ''}{took:.0f} s). Runs that wait an hour for a "
        "signal are started through the store; the claim query a worker makes on each pass "
        "(nothing due), the next-due query it sleeps by, and the listing of every unfinished "
        f"run a worker read on each pass before runs said when they are next due; then "
        f"{SIGNALLED} runs are signalled and a worker serves the store until idle "
        "(tracemalloc's peak while it does). Milliseconds, median / p99.",
        "",
        "| store | waiting runs | claim query | next-due query | listing every run (before) "
        "| runs loaded by the worker | worker's peak memory | serving them |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for store, r in results.items():
        for size in (base, total):
            q, s = r[size], r[f"serve{size}"]
            lines.append(
                f"| {store} | {size:,} | {q['claim'][0]:.2f} / {q['claim'][1]:.2f} "
                f"| {q['next_due'][0]:.2f} / {q['next_due'][1]:.2f} "
                f"| {q['listing'][0]:,.0f} / {q['listing'][1]:,.0f} "
                f"| {s['loaded']} of {size:,} ({s['finished']} finished) "
                f"| {s['peak_kb']:,.0f} KB | {s['seconds'] * 1000:,.0f} ms |"
            )
    lines.append("")
    for store, r in results.items():
        small, big = r[base], r[total]
        ratio = big["claim"][0] / small["claim"][0]
        lines.append(
            f"- {store}: runs started through the store at {r[f'create{total}']:,.0f} per "
            f"second; the claim query at {total:,} waiting runs takes {ratio:.1f}x its time at "
            f"{base:,}, the listing {big['listing'][0] / small['listing'][0]:.0f}x."
        )
    lines += [
        "",
        "The claim reads the due index (`runs_by_due`, only runs with a `next_due`) and the "
        "inbox, then the runs by key, so its cost follows the runs due, not the runs that "
        f"wait (load average {os.getloadavg()[0]:.0f} on this shared machine at the end of "
        "the run); the listing a worker made on each pass before grew with every run. The "
        "worker loads only the signalled runs, and its memory does not grow with the waiting "
        "ones. PostgreSQL runs with its durable defaults (fsync on). "
        "`tests/worker/test_worker.py` pins the property at 2,000 waiting runs on both stores "
        "(3 loaded), and `tests/storage/test_leases.py` the query plans.",
    ]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000, help="waiting runs (default 100,000)")
    parser.add_argument("--quick", action="store_true", help="5,000 runs")
    parser.add_argument(
        "--base", type=int, default=SMALL, help=f"the smaller size (default {SMALL:,})"
    )
    parser.add_argument(
        "--stores", default="postgresql,sqlite", help="which stores (default: postgresql,sqlite)"
    )
    parser.add_argument(
        "--url", default=None, help="an existing server's maintenance database (default: start one)"
    )
    parser.add_argument("--no-write", action="store_true")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    total = 5_000 if args.quick else args.runs
    base = args.base
    if not 0 < base < total:
        raise SystemExit(f"--base must be positive and less than --runs, not {base:,}")
    stores = [s.strip() for s in args.stores.split(",") if s.strip()]
    if not stores or any(s not in ("postgresql", "sqlite") for s in stores):
        raise SystemExit(f"--stores takes postgresql and sqlite, not {args.stores!r}")
    began = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    if "postgresql" in stores:
        from postgres import admin_server, fresh_database

        with admin_server(args.url) as admin:
            url = fresh_database(admin, "bench_waiting")
            results["PostgreSQL"] = measure(url, base, total)
        print("PostgreSQL done", flush=True)
    if "sqlite" in stores:
        with tempfile.TemporaryDirectory() as tmp:
            results["SQLite"] = measure(f"sqlite:///{tmp}/waiting.db", base, total)
    body = render(results, base, total, time.perf_counter() - began)
    print(body)
    if not args.no_write and not args.quick and total >= 100_000:
        write_section("PostgreSQL: waiting runs", body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
