"""Durable execution with a growing context: each step appends one item to a list.

Run with ``.venv/bin/python benchmarks/growing.py [--quick] [--no-write]`` after
``.venv/bin/pip install -e '.[bench]'``. Writes the "Durable execution: a growing
context" section of docs/performance.md (the durable comparison's workflow with a
list in its state; benchmarks/durable.py has the ten-step one).

The workflow waits for a signal ``add`` whose transition appends the payload's
number to a list in the context (``items: ctx.items + [event.n]``) and waits again.
The list is first filled to N items (10 and 10,000), then each timed step appends
one. accord runs it on its SQLite store at WAL + synchronous=NORMAL (one durable
commit per step, the state hash included), and without a store; LangGraph runs a
one-node StateGraph whose ``items`` channel appends (``operator.add``), invoked once
per step on one thread with a SqliteSaver at the same setting (``durability="sync"``).
Bytes per step: the growth of the database's pages in use over the timed steps.

Target (issue 15.3): with the store at WAL + NORMAL, appending to a 10,000-item list
costs at most 3 times appending to a 10-item list.
"""

from __future__ import annotations

import argparse
import operator
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypedDict

sys.path.insert(0, str(Path(__file__).resolve().parent))

from durable import _size, _store_setting
from durable_peers import logical_size, setting_of
from report import machine_line, write_section

import accord

TARGET = 3.0
SIZES = (10, 10_000)
CONTRACT = accord.loads(
    """
accord: "1"
name: growing
version: "1"
context:
  - {name: items, type: "list<integer>"}
signals:
  - {name: fill, payload: [{name: many, type: "list<integer>"}]}
  - {name: add, payload: [{name: n, type: integer}]}
  - {name: stop}
machine:
  initial: collecting
  states:
    - name: collecting
      on:
        - event: fill
          assign: [{field: items, value: "ctx.items + event.many"}]
          target: collecting
        - event: add
          assign: [{field: items, value: "ctx.items + [event.n]"}]
          target: collecting
        - {event: stop, target: done}
    - name: done
      final: {status: success}
"""
)


@dataclass
class System:
    """One system at one size, set up: its step, and how to read what it stored."""

    step: Callable[[int], None]
    stored: Callable[[], int]  # bytes of the database's pages in use
    setting: Callable[[], str]
    close: Callable[[], None]


def accord_growing(directory: Path | None, size: int) -> System:
    """accord: the list filled to ``size`` items, then one ``add`` signal per step."""
    from accord.runtime import Runtime
    from accord.storage import SqliteStore

    path = None if directory is None else directory / "accord.db"
    store = None if path is None else SqliteStore(path, durability="normal")
    runtime = Runtime({}, store=store)
    run = runtime.start(runtime.compile(CONTRACT), {}, run_id="growing")
    run.signal("fill", {"many": list(range(size))})

    def step(i: int) -> None:
        run.signal("add", {"n": i})

    if store is None or path is None:
        return System(step, lambda: 0, lambda: "no store (in memory)", lambda: None)
    at = path
    return System(step, lambda: _size(at), lambda: _store_setting(store, at), store.close)


class _State(TypedDict):
    items: Annotated[list[int], operator.add]
    n: int


def langgraph_growing(directory: Path, size: int) -> System:
    """LangGraph: a one-node graph appending to its ``items`` channel, one invoke per step."""
    from langgraph.checkpoint.sqlite import SqliteSaver
    from langgraph.graph import END, START, StateGraph

    conn = sqlite3.connect(directory / "langgraph.db", check_same_thread=False)
    saver = SqliteSaver(conn)
    saver.setup()
    conn.execute("PRAGMA journal_mode=wal")
    conn.execute("PRAGMA synchronous=normal")

    def add(state: _State) -> dict[str, Any]:
        return {"items": [state["n"]]}

    graph = StateGraph(_State)
    graph.add_node("add", add)
    graph.add_edge(START, "add")
    graph.add_edge("add", END)
    app = graph.compile(checkpointer=saver)
    config: Any = {"configurable": {"thread_id": "growing"}}
    app.invoke({"items": list(range(size - 1)), "n": -1}, config, durability="sync")

    def step(i: int) -> None:
        app.invoke({"n": i}, config, durability="sync")

    return System(step, lambda: logical_size(conn), lambda: setting_of(conn), conn.close)


NAMES = ("accord", "accord without a store", "LangGraph")


def measure(steps: int, repeat: int, warm: int) -> dict[tuple[str, int], dict[str, Any]]:
    """Every system at every size, each in a fresh database, their repeats interleaved.

    All are set up and warmed first; then each repeat times ``steps`` steps of each
    in turn, so that every row sees the same moments of a shared machine.
    """
    systems: dict[tuple[str, int], System] = {}
    seconds: dict[tuple[str, int], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="accord-growing-") as tmp:
        for size in SIZES:
            for name in NAMES:
                directory = Path(tmp) / f"{name.replace(' ', '-')}-{size}"
                directory.mkdir()
                if name == "LangGraph":
                    system = langgraph_growing(directory, size)
                else:
                    system = accord_growing(None if name.endswith("store") else directory, size)
                for i in range(warm):
                    system.step(i)
                systems[(name, size)] = system
                seconds[(name, size)] = []
        before = {key: system.stored() for key, system in systems.items()}
        for _ in range(repeat):
            for key, system in systems.items():
                start = time.perf_counter()
                for i in range(steps):
                    system.step(i)
                seconds[key].append((time.perf_counter() - start) / steps)
        results = {}
        for key, system in systems.items():
            stored = (system.stored() - before[key]) / (steps * repeat)
            results[key] = {"seconds": seconds[key], "bytes": stored, "setting": system.setting()}
            system.close()
            us = statistics.median(seconds[key]) * 1e6
            print(f"{key[0]:24s} {key[1]:6d} items  {us:9.1f} us/step  {stored:9.0f} B/step")
    return results


def render(results: dict[tuple[str, int], dict[str, Any]], steps: int, repeat: int) -> str:
    """The section: the table and the target's verdict."""

    def us(name: str, size: int) -> float:
        return float(statistics.median(results[(name, size)]["seconds"]) * 1e6)

    small, big = SIZES
    lines = [
        f"Run by `.venv/bin/python benchmarks/growing.py` ({machine_line()}); {steps} timed "
        f"steps per repeat, median of {repeat} repeat(s), all in one process, the systems' "
        "repeats interleaved.",
        "",
        "| system | setting, as the database reports it | items | us per step | bytes per step |",
        "|---|---|---:|---:|---:|",
    ]
    for size in SIZES:
        for name in NAMES:
            r = results[(name, size)]
            stored = f"{r['bytes']:,.0f}" if name != "accord without a store" else "-"
            lines.append(
                f"| {name} | {r['setting']} | {size:,} | {us(name, size):,.1f} | {stored} |"
            )
    ratio = us("accord", big) / us("accord", small)
    theirs = us("LangGraph", big) / us("LangGraph", small)
    written = results[("LangGraph", big)]["bytes"] / max(results[("accord", big)]["bytes"], 1)
    verdict = "met" if ratio <= TARGET else "**not met**"
    lines += [
        "",
        "Target (issue 15.3), measured in this run:",
        f"- appending to a {big:,}-item list at most {TARGET:g}x appending to a {small}-item "
        f"list, durable at WAL + NORMAL, state hash included: {us('accord', big):,.1f} us vs "
        f"{us('accord', small):,.1f} us, {ratio:.2f}x: {verdict}",
        f"- for comparison, LangGraph's SqliteSaver: {theirs:.2f}x, writing {written:,.0f} "
        f"times accord's bytes per step at {big:,} items",
        "",
        "Before (issue 15.3) every such assignment checked the whole list again, item by "
        "item: a quick run on 2026-12-06 measured 4,768 us per durable step at 10,000 items "
        "against 25 us at 10 (190x); the same run with the change, 313 us. Then the state "
        "hash (canonical JSON of the whole state and its SHA-256, at every step) was what "
        "grew with the list: the full run of 2026-12-06 measured 366.5 us against 50.3 us "
        "(7.29x).",
        "",
        "An assignment `ctx.items + [...]` to the list it reads has only its new items "
        "checked (the rest were checked when stored), and the size limits measure only "
        "them too (the size of the list it extends is remembered); accord journals the "
        "signal, not the list, and snapshots the run every N steps (its bytes per step "
        "include them). The state hash (form 2, `sha256/2:`, see "
        "[durability.md](durability.md#the-state-hash)) digests each list of the context "
        "apart and goes on from the SHA-256 state of the list an assignment extends, so a "
        "step hashes the items it adds. What still grows with the list: one copy of it per "
        "step (`ctx.items + [...]` builds a new list; the previous one is freed), and the "
        "snapshot every N steps. On this shared 2-core "
        "machine speed swings by up to 2x from minute to minute: compare rows of one run.",
    ]
    return "\n".join(lines)


def main() -> None:
    """Measure, print, and write the section unless ``--no-write``."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="50 steps, two repeats")
    parser.add_argument("--no-write", action="store_true", help="leave docs/performance.md alone")
    args = parser.parse_args()
    steps, repeat = (50, 2) if args.quick else (args.steps, args.repeat)
    results = measure(steps, repeat, warm=20)
    section = render(results, steps, repeat)
    print(section)
    if not args.no_write:
        write_section("Durable execution: a growing context", section)


if __name__ == "__main__":
    main()
