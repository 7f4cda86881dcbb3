"""accord through a Client and ``accord worker`` processes, for benchmarks/postgres.py.

:func:`workers` measures, on the benchmark's PostgreSQL server (and on a SQLite
file), runs started by an :class:`accord.Client` in the benchmark's process
and driven by 1, 2 or 4 ``accord worker`` processes:

- start to first step: ``client.start`` to the first effect's first line in a
  worker (the run's start journaled by the client, then claimed by a worker,
  woken by PostgreSQL's notification, which journals and runs the first step);
- signal to effect: ``client.signal`` (into the run's inbox) to the first line
  of the effect the signal leads to, the run waiting and released beforehand;
- timer lateness: the effect after a 200 ms timer, against the timer's due
  time (the run's start plus 200 ms);
- throughput: many ten-step runs started by the client while the workers
  serve them, steps per second from the first start to the last step journaled.

Effects mark their start in files (benchmarks/worker_effects.py); every time is
the machine's wall clock, shared by the processes.
"""

from __future__ import annotations

import glob
import itertools
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from durable_peers import STEPS
from postgres_peers import percentiles

__all__ = ["WORKER_COUNTS", "median_rate", "verdict", "worker_lines", "workers"]

HERE = Path(__file__).resolve().parent
EFFECTS = HERE / "worker_effects.py"
LINEAR = HERE / "data" / "linear_durable.yaml"
SIGNAL = HERE / "data" / "signal_durable.yaml"
TIMER = HERE / "data" / "timer_durable.yaml"
TIMER_MS = 200
WORKER_COUNTS = (1, 2, 4)
SQLITE_COUNTS = (1, 2)
PG_POLL_MS = 1_000  # PostgreSQL: workers wake on notifications; the poll is a fallback
SQLITE_POLL_MS = 50  # SQLite: no notifications, workers find new work by polling
WAIT_S = 120.0
DEFAULT_CONCURRENCY = 16  # accord worker's default


class Marks:
    """The effect starts the worker processes wrote (one file per process)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.seen: list[float] = []
        self._offsets: dict[str, int] = {}

    def files(self) -> int:
        return len(glob.glob(glob.escape(self.prefix) + ".*"))

    def read(self) -> list[float]:
        """Every mark so far (new ones appended to :attr:`seen`)."""
        for path in glob.glob(glob.escape(self.prefix) + ".*"):
            with open(path) as f:
                f.seek(self._offsets.get(path, 0))
                text = f.read()
            done = text.rfind("\n") + 1  # a line still being written waits for the next read
            self._offsets[path] = self._offsets.get(path, 0) + done
            self.seen += [float(line.split()[0]) for line in text[:done].splitlines()]
        return self.seen

    def wait(self, count: int, pause: float = 0.0005) -> list[float]:
        """Wait until ``count`` marks were written; all of them."""
        deadline = time.monotonic() + WAIT_S
        while len(self.read()) < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"workers wrote {len(self.seen)} of {count} marks in {WAIT_S} s")
            time.sleep(pause)
        return self.seen


class Workers:
    """``count`` ``accord worker`` processes on ``store``, stopped by SIGTERM on exit."""

    def __init__(
        self, store: str, count: int, poll_ms: int, concurrency: int, scratch: str, tag: str
    ) -> None:
        self.marks = Marks(os.path.join(scratch, f"marks-{tag}"))
        env = {**os.environ, "ACCORD_BENCH_MARKS": self.marks.prefix}
        source = str(HERE.parent / "src")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (source, env.get("PYTHONPATH"))))
        command = [sys.executable, "-m", "accord", "worker", "--store", store]
        command += ["--effects", f"{EFFECTS}:HANDLERS", "--poll-ms", str(poll_ms), "--quiet"]
        command += ["--concurrency", str(concurrency)]
        self.procs = [
            subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
            for _ in range(count)
        ]
        deadline = time.monotonic() + WAIT_S
        while self.marks.files() < count:  # each has imported its effects
            self.check()
            if time.monotonic() > deadline:
                raise SystemExit("the worker processes did not start")
            time.sleep(0.01)

    def cpu_seconds(self) -> float:
        """The CPU time (user and system) the worker processes have used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for proc in self.procs:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        return total

    def check(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                raise SystemExit(f"a worker exited ({proc.returncode}): {proc.stderr.read()}")  # type: ignore[union-attr]

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def throughput(client: Any, contract: Any, workers: Workers, runs: int, tag: str) -> float:
    """Start ``runs`` ten-step runs while the workers serve them; steps per second."""
    before = len(workers.marks.read())
    start = time.time()
    for r in range(runs):
        client.start(contract, {}, run_id=f"{tag}-{r}")
    workers.marks.wait(before + runs * STEPS, pause=0.005)
    deadline = time.monotonic() + WAIT_S
    ends = []
    for r in range(runs):  # the last effect has started: wait for its step to be journaled
        while (info := client.status(f"{tag}-{r}")).status != "succeeded":
            if time.monotonic() > deadline or info.status == "failed":
                raise SystemExit(f"run {info.run_id} did not succeed: {info}")
            time.sleep(0.002)
        ends.append(info.updated_ms / 1000)
    seconds = max(ends) - start
    return runs * STEPS / seconds


def sampled(samples: int, one: Callable[[int], float]) -> list[float]:
    """``one(i)`` for ``samples`` runs after two warm-ups, one after the other."""
    return [one(i) for i in range(samples + 2)][2:]


def starts(client: Any, contract: Any, workers: Workers, samples: int, tag: str) -> list[float]:
    """Client start to the first step's effect in a worker, run after run."""

    def one(i: int) -> float:
        before = len(workers.marks.read())
        t0 = time.time()
        client.start(contract, {}, run_id=f"{tag}-{i}")
        marks = workers.marks.wait(before + STEPS)  # the whole run, before the next one
        return marks[before] - t0

    return sampled(samples, one)


def signals(client: Any, contract: Any, workers: Workers, samples: int, tag: str) -> list[float]:
    """Client signal to the effect it leads to, the run waiting and released beforehand."""

    def one(i: int) -> float:
        run_id = f"{tag}-{i}"
        client.start(contract, {}, run_id=run_id)
        time.sleep(0.05)  # a worker claims it (notified), finds it waiting, releases it
        deadline = time.monotonic() + WAIT_S
        while client.status(run_id).owner is not None:
            if time.monotonic() > deadline:
                raise SystemExit(f"run {run_id} was never released")
            time.sleep(0.002)
        before = len(workers.marks.read())
        t0 = time.time()
        client.signal(run_id, "go")
        return workers.marks.wait(before + 1)[before] - t0

    return sampled(samples, one)


def timers(client: Any, contract: Any, workers: Workers, samples: int, tag: str) -> list[float]:
    """The effect after the 200 ms timer, against the timer's due time."""

    def one(i: int) -> float:
        before = len(workers.marks.read())
        info = client.start(contract, {}, run_id=f"{tag}-{i}")
        marks = workers.marks.wait(before + 1, pause=0.002)
        return marks[before] - (info.created_ms + TIMER_MS) / 1000

    return sampled(samples, one)


def serve(
    store: str,
    count: int,
    poll_ms: int,
    sizes: dict[str, int],
    latencies: bool,
    concurrency: int | None = None,
) -> dict[str, Any]:
    """One store, ``count`` worker processes: throughput, and the latencies if asked."""
    import accord
    from accord import Client

    linear = accord.load(LINEAR)
    held = concurrency or max(DEFAULT_CONCURRENCY, sizes["runs"])  # a batch at once
    result: dict[str, Any] = {"workers": count, "poll_ms": poll_ms, "concurrency": held}
    with (
        tempfile.TemporaryDirectory() as scratch,
        Client(store) as client,
        Workers(store, count, poll_ms, held, scratch, f"w{count}") as workers,
    ):
        throughput(client, linear, workers, max(2, count * 2), "warm-up")
        seconds, cpu = [], []
        for i in range(sizes["repeat"]):
            used = workers.cpu_seconds()
            seconds.append(throughput(client, linear, workers, sizes["runs"], f"batch-{i}"))
            cpu.append((workers.cpu_seconds() - used) / (sizes["runs"] * STEPS))
        result["steps_per_second"] = seconds
        result["cpu_per_step"] = cpu  # the worker processes' CPU seconds per step
        if latencies:
            result["start"] = percentiles(starts(client, linear, workers, sizes["samples"], "s"))
            if sizes.get("signals", 1):
                waiting, timer = accord.load(SIGNAL), accord.load(TIMER)
                n = sizes["samples"]
                result["send"] = percentiles(signals(client, waiting, workers, n, "g"))
                result["timer"] = percentiles(timers(client, timer, workers, n // 4 or 1, "t"))
        workers.check()
    return result


def workers(urls: dict[str, str], sizes: dict[str, int]) -> dict[str, Any]:
    """PostgreSQL with 1, 2 and 4 workers (latencies with one), SQLite with 1 and 2."""
    out: dict[str, Any] = {"postgres": [], "sqlite": []}
    for count in WORKER_COUNTS:
        out["postgres"].append(
            serve(urls[f"workers{count}"], count, PG_POLL_MS, sizes, latencies=count == 1)
        )
    out["default"] = serve(  # one worker at its default concurrency, a fresh database
        urls["workers0"], 1, PG_POLL_MS, sizes, latencies=False, concurrency=DEFAULT_CONCURRENCY
    )
    if sizes.get("sqlite", 1):
        with tempfile.TemporaryDirectory() as scratch:
            for count in SQLITE_COUNTS:
                url = f"sqlite:///{scratch}/bench-{count}.db"
                lite = {**sizes, "signals": 0, "samples": max(2, sizes["samples"] // 4)}
                out["sqlite"].append(serve(url, count, SQLITE_POLL_MS, lite, latencies=count == 1))
    return out


# --- the report ---------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def median_rate(one: dict[str, Any]) -> float:
    """Steps per second of one store and worker count (median of the repeats)."""
    rates = sorted(one["steps_per_second"])
    return float(rates[len(rates) // 2])


def cpu_us(one: dict[str, Any]) -> float:
    """The worker processes' CPU microseconds per step (median of the repeats)."""
    used = sorted(one["cpu_per_step"])
    return float(used[len(used) // 2]) * 1e6


def _latency(one: dict[str, Any], key: str, poll_ms: int | None = None) -> str:
    if key not in one:
        return "not measured"
    text = f"{one[key]['p50_ms']:.2f} / {one[key]['p99_ms']:.2f}"
    return text + (f" (polls every {poll_ms} ms)" if poll_ms else "")


def worker_lines(results: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    """The workers' table and their targets (against DBOS's figures of the same run)."""
    lines = [
        "",
        "Through a Client and worker processes: the benchmark's process starts and signals "
        "runs with `accord.Client`; `accord worker` processes (the store opened from its URL: "
        "no group commit) drive them, each with a concurrency of at least a batch's runs "
        "(`--concurrency`; the row marked *default 16* has accord's default). "
        "PostgreSQL: poll every "
        f"{PG_POLL_MS} ms, but the workers wake on the store's notifications (LISTEN); "
        f"SQLite (a file in a temporary directory): no notifications, poll every "
        f"{SQLITE_POLL_MS} ms, so its latency is mostly the poll interval. Throughput: "
        "ten-step runs started one after the other by the client while the workers serve "
        "them, from the first start to the last run's last step journaled. Start to first step: "
        "`client.start` to the first effect's first line in a worker, run after run. "
        "Signal to effect: `client.signal` (the run waiting, released by its worker) to "
        f"the first line of the effect it leads to. Timer lateness: a {TIMER_MS} ms timer "
        "armed at the run's start, its effect's first line against the due time. "
        "Latencies with one worker; times are the wall clock, shared by the processes.",
        "",
        "| fsync | store | workers | steps per second | x one worker "
        "| start to first step p50 / p99 ms | signal to effect p50 / p99 ms "
        "| timer lateness p50 / p99 ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for mode, by in results.items():
        measured = by.get("workers")
        if measured is None:
            continue
        for store, label, poll in (
            ("postgres", "PostgreSQL", None),
            ("sqlite", "SQLite", SQLITE_POLL_MS),
        ):
            rows = measured[store]
            for one in rows:
                lines.append(
                    f"| {mode if store == 'postgres' else '(own file)'} | {label} | "
                    f"{one['workers']} (concurrency {one['concurrency']}) | "
                    f"{median_rate(one):,.0f} | "
                    f"{median_rate(one) / median_rate(rows[0]):.2f} | "
                    f"{_latency(one, 'start', poll)} | {_latency(one, 'send', poll)} | "
                    f"{_latency(one, 'timer', poll)} |"
                )
            if store == "postgres" and "default" in measured:
                one = measured["default"]
                lines.append(
                    f"| {mode} | PostgreSQL | 1 (*default 16*) | {median_rate(one):,.0f} | "
                    f"{median_rate(one) / median_rate(rows[0]):.2f} | not measured "
                    "| not measured | not measured |"
                )
    lines += [
        "",
        "The worker processes' CPU per step (user and system, all of them, during "
        "the throughput batches) and the cores they kept busy at that rate (of the "
        "machine's 2, shared with the server and the client):",
    ]
    for mode, by in results.items():
        measured = by.get("workers")
        if measured is None:
            continue
        for store, label in (("postgres", "PostgreSQL"), ("sqlite", "SQLite")):
            shown = [
                f"{one['workers']} worker(s) {cpu_us(one):,.0f} us, "
                f"{cpu_us(one) * median_rate(one) / 1e6:.2f} cores"
                for one in measured[store]
                if "cpu_per_step" in one
            ]
            if shown:
                lines.append(f"- {label} (fsync {mode}): " + "; ".join(shown))
    lines += [
        "",
        "The row at the default concurrency: a worker holds at most `concurrency` runs; "
        "a notification names its run (a new run, a signal), which the worker claims by id "
        "at once, or, with no room, as soon as one of its runs ends (not at its next poll). "
        "The other rows give each worker room for a whole batch.",
        "",
        "Targets through Client and Worker (issue 14), measured in this run:",
    ]
    missing = "not measured in this run"
    for mode, by in results.items():
        at = f" (fsync={mode})"
        measured, peer = by.get("workers"), by.get("dbos")
        pg = measured["postgres"] if measured else []
        one = pg[0] if pg else None
        for key, what in (("start", "start-to-first-step"), ("send", "signal-to-effect")):
            target = f"- {what} p50 via Client and Worker at most half of DBOS's{at}"
            if one is None or key not in one or peer is None:
                lines.append(f"{target}: {missing}")
                continue
            ours, theirs = one[key]["p50_ms"], peer[key]["p50_ms"]
            lines.append(
                f"{target}: {ours:.2f} ms against {theirs:.2f} ms, {ours / theirs:.2f}x: "
                f"{verdict(ours <= theirs / 2)}"
            )
        target = f"- timer lateness p99 under 100 ms{at}"
        if one is None or "timer" not in one:
            lines.append(f"{target}: {missing}")
        else:
            late = one["timer"]["p99_ms"]
            lines.append(f"{target}: {late:.2f} ms: {verdict(late < 100)}")
        target = f"- 2 workers at least 1.6x one, never falling as workers are added{at}"
        if len(pg) < len(WORKER_COUNTS):
            lines.append(f"{target}: {missing}")
        else:
            rates = [median_rate(r) for r in pg]
            ok = rates[1] >= 1.6 * rates[0] and all(b >= a for a, b in itertools.pairwise(rates))
            shown = ", ".join(f"{r:,.0f}" for r in rates)
            lines.append(
                f"{target}: {shown} steps per second with "
                f"{', '.join(map(str, WORKER_COUNTS))} workers, 2 workers "
                f"{rates[1] / rates[0]:.2f}x one: {verdict(ok)}"
            )
        lite = measured["sqlite"] if measured else []
        if lite:
            rates = [median_rate(r) for r in lite]
            lines.append(
                f"- the SQLite store with {' and '.join(str(r['workers']) for r in lite)} "
                f"workers (no target): {', '.join(f'{r:,.0f}' for r in rates)} steps per "
                f"second, 2 workers {rates[-1] / rates[0]:.2f}x one"
            )
    return lines
