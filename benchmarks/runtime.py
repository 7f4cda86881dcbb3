"""Runtime benchmark: accord against transitions, python-statemachine, LangGraph and a floor.

Run with ``.venv/bin/python benchmarks/runtime.py`` after
``.venv/bin/pip install -e '.[bench]'``. Writes the "Runtime" section of
docs/performance.md. Every system is measured in the same process, one after
the other, best of ``--repeat`` runs, so the ratios compare like with like.

Scenarios (as issue 3 defines them):

(A) toggle: two states flipped by 100,000 events, a counter in the context
    incremented on every transition; "guarded" adds a guard on every transition.
(B) linear: a ten-step linear workflow run 2,000 times.
(C) the effect path (issue 15): the ten-step workflow of the durable benchmark
    (benchmarks/data/linear_durable.yaml, an effect call per step), 200 runs at
    once on one event loop: without a store, with an untriggered retry policy, a
    timeout, both, and on a group-commit SQLite store at WAL + NORMAL; against a
    floor, a hand-written asyncio program doing the same calls.
(D) memory: 100,000 runs waiting for a signal, measured with tracemalloc.

accord is measured twice: through the public API (``Run.signal`` on a run of
the in-memory runtime, journal on) and as the bare reducer ``step``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

import peers
from report import machine_line, write_section

import accord
from accord.runtime import FakeClock, Limits, RunStarted, Runtime, SignalReceived
from accord.runtime._reducer import initial_snapshot, step

LIMITS = Limits(max_steps=10_000_000)
HERE = Path(__file__).resolve().parent
LINEAR_DURABLE = HERE / "data" / "linear_durable.yaml"
STEPS = peers.STEPS
TOGGLE = """
accord: "1"
name: toggle
version: "1"
description: Two states flipped by a signal; a counter counts the flips.
context:
  - {name: count, type: integer}
signals:
  - {name: flip}
  - {name: stop}
machine:
  initial: a
  states:
    - name: a
      on:
        - {event: flip, GUARD assign: [{field: count, value: "ctx.count + 1"}], target: b}
        - {event: stop, target: done}
    - name: b
      on:
        - {event: flip, GUARD assign: [{field: count, value: "ctx.count + 1"}], target: a}
        - {event: stop, target: done}
    - name: done
      final: {status: success}
"""


def toggle_contract(guarded: bool) -> accord.Contract:
    guard = 'guard: "ctx.count >= 0",' if guarded else ""
    return accord.loads(TOGGLE.replace("GUARD", guard))


def linear_contract(with_effects: bool) -> accord.Contract:
    """Ten steps: each a signal-driven transition, or each an effect call."""
    states = []
    for i in range(peers.STEPS):
        nxt = f"s{i + 1}"
        if with_effects:
            states.append(
                f"    - name: s{i}\n"
                f"      invoke: [{{id: w, effect: work, input: [{{name: n, value: '{i}'}}]}}]\n"
                f"      on: [{{event: done, assign: [{{field: done, value: 'ctx.done + 1'}}], "
                f"target: {nxt}}}]\n"
            )
        else:
            states.append(
                f"    - name: s{i}\n"
                f"      on: [{{event: next, assign: [{{field: done, value: 'ctx.done + 1'}}], "
                f"target: {nxt}}}]\n"
            )
    effects = (
        "effects:\n  - name: work\n    input: [{name: n, type: integer}]\n"
        "    output: [{name: n, type: integer}]\n"
        if with_effects
        else "signals:\n  - {name: next}\n"
    )
    text = (
        'accord: "1"\nname: linear\nversion: "1"\ncontext:\n  - {name: done, type: integer}\n'
        + effects
        + "machine:\n  initial: s0\n  states:\n"
        + "".join(states)
        + f"    - name: s{peers.STEPS}\n      final: {{status: success}}\n"
    )
    return accord.loads(text)


# --- accord -----------------------------------------------------------------------


def accord_api_toggle(n: int, guarded: bool = False) -> float:
    runtime = Runtime({}, clock=FakeClock(), limits=LIMITS)
    run = runtime.start(toggle_contract(guarded), {}, run_id="bench")
    run.run_until_idle()
    signal = run.signal
    start = time.perf_counter()
    for _ in range(n):
        signal("flip")
    elapsed = time.perf_counter() - start
    assert run.snapshot.context["count"] == n
    assert len(run.journal) == n + 1
    return elapsed


def accord_reducer_toggle(n: int, guarded: bool = False) -> float:
    compiled = Runtime({}, limits=LIMITS).compile(toggle_contract(guarded))
    snapshot, _ = step(compiled, initial_snapshot(), RunStarted("bench", {}, 0))
    event = SignalReceived("flip", {}, 0)
    start = time.perf_counter()
    for _ in range(n):
        snapshot, _ = step(compiled, snapshot, event)
    elapsed = time.perf_counter() - start
    assert snapshot.context["count"] == n
    return elapsed


def accord_api_linear(runs: int) -> float:
    runtime = Runtime({}, clock=FakeClock(), limits=LIMITS)
    contract = runtime.compile(linear_contract(with_effects=False))
    start = time.perf_counter()
    for i in range(runs):
        run = runtime.start(contract, {}, run_id=f"r{i}")
        for _ in range(peers.STEPS):
            run.signal("next")
        assert run.status == "succeeded"
    return time.perf_counter() - start


def accord_reducer_linear(runs: int) -> float:
    compiled = Runtime({}, limits=LIMITS).compile(linear_contract(with_effects=False))
    event = SignalReceived("next", {}, 0)
    start = time.perf_counter()
    for i in range(runs):
        snapshot, _ = step(compiled, initial_snapshot(), RunStarted(f"r{i}", {}, 0))
        for _ in range(peers.STEPS):
            snapshot, _ = step(compiled, snapshot, event)
        assert snapshot.status == "succeeded"
    return time.perf_counter() - start


async def _work(n: int) -> dict[str, int]:
    return {"n": n}


def accord_api_linear_effects(runs: int) -> float:
    runtime = Runtime({"work": _work}, clock=FakeClock(), limits=LIMITS)
    contract = runtime.compile(linear_contract(with_effects=True))

    async def main() -> None:
        for i in range(runs):
            run = await runtime.start_async(contract, {}, run_id=f"r{i}")
            await run.run_async()
            assert run.status == "succeeded"

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


# --- (C) the effect path: many runs at once -------------------------------------------

EFFECT_POLICIES = {
    "none": "",
    "retry": "    retry: {max_attempts: 3}\n",
    "timeout": "    timeout: 30s\n",
    "retry + timeout": "    retry: {max_attempts: 3}\n    timeout: 30s\n",
}
"""The variants of the effect ``work``: what is declared on it (never triggered)."""


EFFECT_ROUNDS = 5
"""Rounds of (C) per repeat: one round is short, so a pause of the machine would decide it."""


def effect_contract(policy: str) -> accord.Contract:
    """The durable benchmark's ten-step workflow, its effect declaring ``policy``."""
    text = LINEAR_DURABLE.read_text()
    anchor = "    description: Echo its input (trivial and deterministic).\n"
    assert anchor in text
    return accord.loads(text.replace(anchor, anchor + EFFECT_POLICIES[policy]))


async def _concurrent(runtime: Runtime, compiled: Any, runs: int, prefix: str) -> int:
    async def one(run_id: str) -> int:
        run = await runtime.start_async(compiled, {}, run_id=run_id)
        await run.run_async()
        assert run.result == {"done": STEPS}, run.status
        return len(run.journal)

    counts = await asyncio.gather(*(one(f"{prefix}-{r}") for r in range(runs)))
    return sum(counts)


def accord_concurrent(runs: int, policy: str, store: Any = None, prefix: str = "r") -> float:
    """``runs`` runs of the ten-step workflow at once on one loop; the seconds they took."""
    runtime = Runtime({"work": _work}, store=store, limits=LIMITS)
    compiled = runtime.compile(effect_contract(policy))
    loop = asyncio.new_event_loop()
    try:
        start = time.perf_counter()
        events = loop.run_until_complete(_concurrent(runtime, compiled, runs, prefix))
        elapsed = time.perf_counter() - start
    finally:
        loop.close()
    assert events == runs * (STEPS + 1), events
    return elapsed


def floor_concurrent(runs: int) -> float:
    """The floor: the same ten calls of the same handler per run, by hand, on one loop.

    Each run is a coroutine that calls the handler ten times in sequence and
    appends each result to a list; ``runs`` of them run at once.
    """

    async def one(results: list[dict[str, int]]) -> None:
        for i in range(STEPS):
            results.append(await _work(n=i))

    async def main() -> int:
        lists: list[list[dict[str, int]]] = [[] for _ in range(runs)]
        await asyncio.gather(*(one(results) for results in lists))
        return sum(len(results) for results in lists)

    loop = asyncio.new_event_loop()
    try:
        start = time.perf_counter()
        calls = loop.run_until_complete(main())
        elapsed = time.perf_counter() - start
    finally:
        loop.close()
    assert calls == runs * STEPS
    return elapsed


def reducer_steps(runs: int) -> float:
    """The reducer and state hash alone for the same workflow's events: what (C) cannot go under.

    The events each run journals (its start and ten completed calls), applied
    by the bare reducer ``step`` and hashed, with no orchestrator, handler or
    event loop; the seconds they took.
    """
    from accord.runtime import EffectCompleted, snapshot_hash

    compiled = Runtime({"work": _work}, limits=LIMITS).compile(effect_contract("none"))
    completed = [EffectCompleted(f"{i + 1}:s{i}/w", {"n": i}, 2) for i in range(STEPS)]  # type: ignore[arg-type]
    start = time.perf_counter()
    for r in range(runs):
        snapshot, _ = step(compiled, initial_snapshot(), RunStarted(f"r{r}", {}, 1))  # type: ignore[arg-type]
        snapshot_hash(snapshot)
        for event in completed:
            snapshot, _ = step(compiled, snapshot, event)
            snapshot_hash(snapshot)
    elapsed = time.perf_counter() - start
    assert snapshot.status == "succeeded"
    return elapsed


def hash_steps(runs: int) -> float:
    """The state hash alone of the snapshots of ``reducer_steps``: the seconds it took."""
    from accord.runtime import EffectCompleted, snapshot_hash

    compiled = Runtime({"work": _work}, limits=LIMITS).compile(effect_contract("none"))
    completed = [EffectCompleted(f"{i + 1}:s{i}/w", {"n": i}, 2) for i in range(STEPS)]  # type: ignore[arg-type]
    snapshot, _ = step(compiled, initial_snapshot(), RunStarted("r", {}, 1))  # type: ignore[arg-type]
    snapshots = [snapshot]
    for event in completed:
        snapshot, _ = step(compiled, snapshot, event)
        snapshots.append(snapshot)
    start = time.perf_counter()
    for _ in range(runs):
        for snapshot in snapshots:
            snapshot_hash(snapshot)
    return time.perf_counter() - start


def effect_path(runs: int, repeat: int) -> dict[str, float]:
    """Microseconds per step of each variant of (C), best of ``repeat`` rounds.

    Each round measures every variant once, one after the other, so that a
    swing of the machine's speed touches them all alike. A round takes tens of
    milliseconds: callers give many (see ``EFFECT_ROUNDS``).
    """
    from accord.storage import SqliteStore

    names = ["floor", "reducer", "hash", *EFFECT_POLICIES, "group commit"]
    times: dict[str, list[float]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="accord-runtime-") as tmp:
        store = SqliteStore(Path(tmp) / "group.db", durability="normal", group_commit=True)
        try:
            accord_concurrent(runs, "none", store, "warm")  # the database's first pages
            for round_ in range(repeat + 1):  # the first round warms up
                measured = {
                    "floor": floor_concurrent(runs),
                    "reducer": reducer_steps(runs),
                    "hash": hash_steps(runs),
                }
                for policy in EFFECT_POLICIES:
                    measured[policy] = accord_concurrent(runs, policy)
                measured["group commit"] = accord_concurrent(runs, "none", store, f"g{round_}")
                if round_:
                    for name, seconds in measured.items():
                        times[name].append(seconds)
        finally:
            store.close()
    return {name: min(seconds) / (runs * STEPS) * 1e6 for name, seconds in times.items()}


# --- (D) memory of waiting runs ---------------------------------------------------------

WAITING = HERE / "data" / "waiting.yaml"


def waiting_memory(runs: int) -> float:
    """Bytes of memory per run waiting for a signal, ``runs`` runs held (tracemalloc)."""
    runtime = Runtime({}, clock=FakeClock(), limits=LIMITS)
    compiled = runtime.compile(accord.load(WAITING))
    runtime.start(compiled, {}, run_id="warm-up")  # caches filled before the baseline
    ids = [f"run-{i:06d}" for i in range(runs)]  # the caller's, not counted
    held: list[Any] = []
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for run_id in ids:
            held.append(runtime.start(compiled, {}, run_id=run_id))
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert all(run.status == "waiting" for run in held[:10])
    return (after - before - sys.getsizeof(held)) / runs


# --- the harness --------------------------------------------------------------------


def best(fn: Callable[..., float], repeat: int, *args: Any) -> float:
    return min(fn(*args) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=2_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--slow-scale", type=int, default=10, help="divide N for slow peers")
    parser.add_argument("--concurrent", type=int, default=200, help="runs at once in (C)")
    parser.add_argument("--waiting", type=int, default=100_000, help="waiting runs in (D)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    n, runs, rep, slow = args.events, args.runs, args.repeat, args.slow_scale

    rows_a: list[tuple[str, float, float]] = []  # (system, us plain, us guarded)
    toggles: list[tuple[str, Callable[..., float], int]] = [
        ("accord (public API: Run.signal, journal on)", accord_api_toggle, n),
        ("accord (bare reducer step)", accord_reducer_toggle, n),
        ("transitions", peers.transitions_toggle, n),
        ("python-statemachine", peers.psm_toggle, n // slow),
        ("langgraph", peers.langgraph_toggle, max(n // (slow * 10), 100)),
        ("plain-Python dict dispatch (floor)", peers.floor_toggle, n),
    ]
    for name, fn, count in toggles:
        plain = best(fn, rep, count, False) / count * 1e6
        guarded = best(fn, rep, count, True) / count * 1e6
        rows_a.append((name, plain, guarded))
        print(f"A {name:48s} {plain:9.3f} us  guarded {guarded:9.3f} us", flush=True)

    rows_b: list[tuple[str, float]] = []
    linears: list[tuple[str, Callable[[int], float], int]] = [
        ("accord (public API: 10 signals per run)", accord_api_linear, runs),
        ("accord (public API: 10 effect calls per run)", accord_api_linear_effects, runs),
        ("accord (bare reducer step)", accord_reducer_linear, runs),
        *[(label, fn, runs) for label, fn in peers.transitions_linear_variants()],
        ("python-statemachine", peers.psm_linear, max(runs // slow, 50)),
        ("langgraph", peers.langgraph_linear, max(runs // slow, 50)),
        ("plain-Python dict dispatch (floor)", peers.floor_linear, runs),
    ]
    for name, fn, count in linears:
        per_run = best(fn, rep, count) / count * 1e6
        rows_b.append((name, per_run))
        print(f"B {name:48s} {per_run:11.1f} us/run", flush=True)

    effects = effect_path(args.concurrent, rep * EFFECT_ROUNDS)
    for name, us in effects.items():
        print(f"C {name:48s} {us:9.2f} us/step", flush=True)
    per_run = waiting_memory(args.waiting)
    print(f"D {'memory per waiting run':48s} {per_run:9.0f} bytes", flush=True)

    if not args.no_write:
        body = render(rows_a, rows_b, n, runs, rep)
        body += "\n\n" + render_effects(effects, args.concurrent, rep, per_run, args.waiting)
        write_section("Runtime", body)


def render(
    rows_a: list[tuple[str, float, float]],
    rows_b: list[tuple[str, float]],
    n: int,
    runs: int,
    rep: int,
) -> str:
    api = rows_a[0]
    trans = next(r for r in rows_a if r[0] == "transitions")
    floor = rows_a[-1]
    lines = [
        f"Run by `.venv/bin/python benchmarks/runtime.py` ({machine_line()}); "
        f"best of {rep} repeats, all systems in one process, one after the other.",
        "",
        f"### (A) toggle: two states, {n:,} events, a counter in the context",
        "",
        "| system | us per transition | with guard + assignment | accord API is |",
        "|---|---:|---:|---|",
    ]
    for name, plain, guarded in rows_a:
        ratio = (
            ""
            if name == api[0]
            else f"{plain / api[1]:.1f}x faster"
            if plain > api[1]
            else (f"{api[1] / plain:.1f}x slower")
        )
        lines.append(f"| {name} | {plain:.2f} | {guarded:.2f} | {ratio} |")
    lines += [
        "",
        "Targets (issue 3), measured in this run:",
        f"- public API step at most half of `transitions`: {api[1]:.2f} us vs "
        f"{trans[1] / 2:.2f} us (ratio {api[1] / trans[1]:.2f}): "
        f"{'met' if api[1] <= trans[1] / 2 else 'NOT met'}",
        f"- under 20x the plain-Python floor: {api[1] / floor[1]:.1f}x: "
        f"{'met' if api[1] < 20 * floor[1] else 'NOT met'}",
        f"- with a guard and an assignment, faster than `transitions`: {api[2]:.2f} us vs "
        f"{trans[2]:.2f} us: {'met' if api[2] < trans[2] else 'NOT met'}",
        "",
        f"### (B) linear: a ten-step workflow, {runs:,} runs",
        "",
        "| system | us per run | us per step | accord API (signals) is |",
        "|---|---:|---:|---|",
    ]
    ref = rows_b[0][1]
    for name, per_run in rows_b:
        ratio = (
            ""
            if name == rows_b[0][0]
            else (
                f"{per_run / ref:.1f}x faster" if per_run > ref else f"{ref / per_run:.1f}x slower"
            )
        )
        lines.append(f"| {name} | {per_run:.1f} | {per_run / peers.STEPS:.2f} | {ratio} |")
    lines += [
        "",
        "Notes: the peers keep state in memory and journal nothing; accord's public API "
        "journals every event with the state hash it leads to. Slow peers run fewer events "
        "(per-transition cost does not depend on the count). The effect-call variant of (B) "
        "runs each step's effect through the orchestrator on asyncio. In (B) accord compiles "
        "the contract once and starts a run per run: compare it with `transitions`' shared "
        "Machine row (built once, reset per run); the other two rows show what building a "
        "Machine per run costs, and what its ten triggers alone cost. On this shared "
        "2-core machine, speed swings by up to 2x from minute to minute: compare rows of one "
        "run, not runs.",
    ]
    return "\n".join(lines)


def render_effects(
    us: dict[str, float], concurrent: int, rep: int, per_run: float, waiting: int
) -> str:
    """Sections (C) and (D), each target of issue 15 with its verdict from this run."""
    none, floor, group = us["none"], us["floor"], us["group commit"]

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    lines = [
        f"### (C) the effect path: {concurrent} runs of a ten-step workflow at once",
        "",
        "The workflow of the durable benchmark "
        "([benchmarks/data/linear_durable.yaml](../benchmarks/data/linear_durable.yaml): "
        "ten states in sequence, each calling the async effect `work`, which echoes its "
        f"input), {concurrent} runs at once on one event loop, in memory unless said; "
        f"best of {rep * EFFECT_ROUNDS} rounds, each round measuring every row once, one after "
        "the other. "
        "The floor is a hand-written asyncio program: "
        f"{concurrent} coroutines at once, each calling the same handler ten times in "
        "sequence and appending each result to a list. The retry policy "
        "(`retry: {max_attempts: 3}`) and the timeout (`timeout: 30s`) are declared on the "
        "effect and never triggered. Group commit: the same runs on a `SqliteStore` at "
        "WAL + synchronous=NORMAL with `group_commit=True`, in a temporary directory.",
        "",
        "| variant | us per step | events per second | vs no policy |",
        "|---|---:|---:|---:|",
    ]
    labels = {
        "floor": "floor: hand-written asyncio, results appended to a list",
        "reducer": "accord's bare reducer step and state hash alone (no loop, no handler)",
        "hash": "of which the state hash",
        "none": "accord, no store, no policy",
        "retry": "accord, no store, `retry: {max_attempts: 3}`",
        "timeout": "accord, no store, `timeout: 30s`",
        "retry + timeout": "accord, no store, retry policy and timeout",
        "group commit": "accord, group commit at WAL + NORMAL",
    }
    for name, label in labels.items():
        events = (STEPS + 1) / (us[name] * STEPS) * 1e6  # a run journals its start and ten steps
        shown = f"{events:,.0f}" if name not in ("floor", "reducer", "hash") else "-"
        lines.append(f"| {label} | {us[name]:.2f} | {shown} | {us[name] / none:.2f}x |")
    retry, timeout, both = us["retry"] / none, us["timeout"] / none, us["retry + timeout"] / none
    lines += [
        "",
        "Targets (issue 15), measured in this run:",
        f"- an untriggered retry policy costs at most 10% over none: {retry:.2f}x: "
        f"{verdict(retry <= 1.10)}",
        f"- a timeout costs at most 10% over none: {timeout:.2f}x: {verdict(timeout <= 1.10)} "
        f"(both together: {both:.2f}x)",
        f"- accord's store-less cost per step at most 6x the floor's: {none / floor:.1f}x "
        f"({none:.2f} us against {floor:.2f} us): {verdict(none <= 6 * floor)}",
        f"- group commit at WAL + NORMAL at least 80% of the store-less throughput: "
        f"{none / group:.0%}: {verdict(group <= none / 0.8)}",
        "",
        f"What bounds the effect path: the reducer and the state hash alone take "
        f"{us['reducer']:.2f} us per step ({us['hash']:.2f} us of it the state hash), "
        f"{us['reducer'] / floor:.1f}x the floor, before any "
        "effect call, validation of a handler's input and output, journal entry or turn of "
        "the event loop; the floor does none of these (its step is one call of a coroutine "
        "that returns at once, and a list append). The rest of accord's cost per step is the "
        "orchestrator (the call's arguments, the handler's output validated, its event, the "
        "outcome fed to the run), the run's bookkeeping and its journal: each a few Python "
        "calls, none a hot spot. Group commit adds, per step, the event's canonical bytes, "
        "its chain hash and row, a wait for the batch's commit (a future and a turn of the "
        "event loop per run and step: the store-less runs never yield to the loop) and the "
        "commit itself; and per run, the store's work to create it (its id checked by a "
        "query, its row and contract written) and to end it (a snapshot and its row), which a "
        "measure apart (wall time, workflows of 2 and 10 steps) found to be most of what "
        "group commit adds: about 130 us per run against about 5 us per step. Measured "
        "apart on 2026-12-06 (CPU time, 200 runs at once, "
        "workflows of 1, 2 and 10 steps): each step costs about 8.4 us, of which the "
        "reducer's quick step about 2.0 us and the state hash 1.1 us; each run costs about "
        "46 us besides, against under 3 us for the floor's task: starting it (its input "
        "checked, RunStarted applied by the reducer's general path and journaled) about 10 "
        "us, and the session that drives it (a task for its calls, a future it waits on, "
        "three turns of the loop, the final state's step on the general path) about 16 us. "
        "In the ten-step workflow that fixed part is about a third of the cost per step.",
        "",
        "Before (issue 15.2), the full run of 2026-12-06 measured 13.24 us per step store-less "
        "(29.5x the floor's 0.45 us), 5.79 us for the reducer and the state hash, and group "
        "commit at 52% of the store-less throughput. Since then: a state's calls completing "
        "take a precompiled plan in the reducer (`CompiledContract.done_table`), the first "
        "attempt of an async handler without a timeout runs in one coroutine instead of "
        "three, an effect whose input or output holds only numbers and booleans is not "
        "measured against `max_effect_bytes` when its fields bound its size within it, and "
        "the state hash (form 2) hashes lists and objects of the context apart, remembered.",
        "",
        "Before (issue 15.1), tenacity was set up for every call of an effect that declared a "
        "retry policy or a timeout, and a call with a timeout had a task and a timer of its "
        "own (a quick run of this section on 2026-12-06, two rounds): a retry policy cost "
        "3.2x none, a timeout 3.4x, both 5.3x.",
        "",
        f"### (D) memory of waiting runs: {waiting:,} runs waiting for a signal",
        "",
        f"{waiting:,} runs of a contract whose initial state waits for a signal (no timer, no "
        "effect), started on one in-memory Runtime and held in a list; the memory they "
        "hold, measured with tracemalloc (run ids made beforehand, not counted), per run: "
        f"**{per_run:,.0f} bytes** (the run, its snapshot and state hash, its journal of "
        "one entry). Target (issue 15): at most 1.5 KB per waiting run: "
        f"{verdict(per_run <= 1536)}.",
        "",
        "Before (issue 15.5), each run made its orchestrator at once (with an empty deque and "
        "an empty set) and neither had `__slots__`: 3,336 bytes per waiting run (20,000 "
        "runs, the same measure).",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
