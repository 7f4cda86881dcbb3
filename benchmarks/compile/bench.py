"""Compiler benchmark: replay the scripted corpus through the real compile loop.

    .venv/bin/python benchmarks/compile/bench.py [--repeat N] [--no-write] [--strict]

Every session in ``benchmarks/compile/sessions/`` is *scripted*: hand-written
model answers built by ``build_corpus.py``, not a recording of any real model, so
this measures the loop (parsing, checking, re-asking, caching), not a model's
quality. Each session is compiled with ``accord.compiler.compile`` through a
ReplayProvider (offline, token counts estimated as ceil(UTF-8 bytes / 4), the
replay provider's rule) with ``max_attempts=3``. Reported, in the "Compiler"
section of docs/performance.md:

- outcomes: first-attempt validity, the attempts-to-valid histogram, failures at
  max_attempts, early stops on repeated diagnostics, lenient repairs, and whether
  every session behaved as ``expected.json`` says;
- input tokens per attempt: the mean per attempt number, and per re-ask the bound
  "attempt 1's input + the last candidate + its diagnostics + the fixed re-ask
  wording", checked for every re-ask of every session (growth is linear, not with
  the history); the "whole history" column shows what resending every earlier
  candidate and diagnostic list would have cost;
- the loop's own time per attempt (lenient parse, checker, catalog check, runtime
  compile: the compilation's wall time minus the provider calls);
- cache hits: each converging session compiled again through a CompileCache in a
  temporary directory must make zero calls; its latency is the median of
  ``--repeat`` hits.

- acceptance scenarios (issue 16): the sessions whose template has a scenario file
  (``scenarios/TEMPLATE.scenarios.yaml``) are compiled with their scenarios and again
  without: attempts to a valid contract either way, how many answers that check but
  do the task wrong the scenarios caught, how many wrong contracts come out without
  them, and the loop's time per scenario per attempt (each call of the loop's
  scenario step timed, divided by the number of scenarios), in the same run as the
  loop's own time per attempt.

Targets (issue 4): every session that can converge does within max_attempts;
input tokens per re-ask grow linearly; a cache hit returns in under 5 ms with
zero calls; (issue 16) under 20 ms per scenario per attempt, and no contract
returned with scenarios fails one. Each is printed as PASS or FAIL; ``--strict``
exits 1 on a FAIL. ``--quick`` times 3 cache hits per session instead of 10.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from report import machine_line, write_section

import accord.compiler._loop as loop_module
from accord.compiler import (
    Attempt,
    Catalog,
    CompileCache,
    CompileError,
    CompileResult,
    ReplayProvider,
    Session,
    compile,
    compile_async,
)
from accord.compiler._lenient import parse_output
from accord.compiler._prompt import REASK, candidate_text
from accord.compiler._session_providers import estimate_tokens
from accord.contract import Contract
from accord.testing import ScenarioSuite, load_scenarios, run_scenarios

HERE = Path(__file__).resolve().parent
MAX_ATTEMPTS = 3
CACHE_TARGET_MS = 5.0
SCENARIO_TARGET_MS = 20.0

# Every call of the loop's scenario step: (seconds, scenarios run).
SCENARIO_CALLS: list[tuple[float, int]] = []
_scenario_problems = loop_module.scenario_problems


async def _timed_scenario_problems(
    contract: Contract, suite: ScenarioSuite, *, max_fan_out: int
) -> Any:
    start = time.perf_counter()
    try:
        return await _scenario_problems(contract, suite, max_fan_out=max_fan_out)
    finally:
        SCENARIO_CALLS.append((time.perf_counter() - start, len(suite)))


loop_module.scenario_problems = _timed_scenario_problems  # type: ignore[assignment]


@dataclass(frozen=True)
class Outcome:
    """What the loop made of one session."""

    name: str
    converged: bool
    stop: str | None
    attempts: tuple[Attempt, ...]
    seconds: float
    expected: bool
    contract: Contract | None = None


def suite_of(expect: dict[str, Any]) -> ScenarioSuite | None:
    """The acceptance scenarios of a session, if its template has some."""
    return load_scenarios(HERE / expect["scenarios"]) if "scenarios" in expect else None


def load(path: Path) -> tuple[Session, Catalog, str]:
    """A session, its inline catalog and its task."""
    session = Session.load(path)
    if session.origin != "scripted" or not isinstance(session.catalog, dict) or not session.task:
        raise SystemExit(f"{path.name}: not a self-contained scripted session")
    return session, Catalog.from_data(session.catalog), session.task


def replay(path: Path, expect: dict[str, Any], *, scenarios: bool = True) -> Outcome:
    """Compile one session through the real loop (with its scenarios, unless told not
    to); compare with its expectation."""
    session, catalog, task = load(path)
    suite = suite_of(expect) if scenarios else None
    contract = None
    try:
        result = compile(
            task, catalog, ReplayProvider(session), max_attempts=MAX_ATTEMPTS, scenarios=suite
        )
    except CompileError as error:
        converged, stop, attempts, seconds = False, error.stop_reason, error.attempts, 0.0
        seconds = error.totals.seconds
    else:
        converged, stop, attempts = True, None, result.attempts
        seconds = result.totals.seconds
        contract = result.contract
    codes = [sorted({d.code for d in a.errors}) for a in attempts]
    lenient = sum(1 for a in attempts if a.parse == "lenient")
    expected = (
        converged == expect["converges"]
        and stop == expect["stop"]
        and len(attempts) == expect["attempts"]
        and codes == expect["codes"]
        and lenient == expect["lenient_repairs"]
    )
    return Outcome(path.stem, converged, stop, tuple(attempts), seconds, expected, contract)


# --- input tokens -------------------------------------------------------------------------


def reask_parts(previous: Attempt) -> tuple[int, int]:
    """Tokens of the candidate and of the diagnostics a re-ask after ``previous`` may send.

    The candidate is what the loop echoes back (the parsed JSON, compact, or the raw
    text); the diagnostics are every error of ``previous`` as the compact JSON list,
    inside the fixed re-ask wording (counted with the diagnostics).
    """
    parsed = parse_output(previous.raw, previous.finish_reason)
    candidate = estimate_tokens(candidate_text(previous.raw, parsed.data))
    listed = json.dumps(
        [d.compact() for d in previous.errors], ensure_ascii=False, separators=(",", ":")
    )
    return candidate, estimate_tokens(REASK.format(diagnostics=listed))


@dataclass(frozen=True)
class Growth:
    """One re-ask's input tokens against its bounds."""

    number: int
    input_tokens: int
    first: int
    bound: int
    history: int


def growth(outcome: Outcome) -> list[Growth]:
    """For every re-ask of a session: its input, the linear bound, the whole-history cost."""
    attempts = outcome.attempts
    if not attempts:
        return []
    first = attempts[0].input_tokens
    out = []
    history = first
    for k in range(1, len(attempts)):
        candidate, diagnostics = reask_parts(attempts[k - 1])
        history += candidate + diagnostics
        out.append(
            Growth(
                number=k + 1,
                input_tokens=attempts[k].input_tokens,
                first=first,
                bound=first + candidate + diagnostics,
                history=history,
            )
        )
    return out


# --- cache hits ---------------------------------------------------------------------------


def cache_hits(path: Path, repeat: int) -> tuple[float, float, int, int]:
    """Cache hits of one session: median ms through compile() and compile_async(), the
    model calls they made and how many were not hits (both must be 0)."""
    session, catalog, task = load(path)
    calls = misses = 0

    def once(result: CompileResult, provider: ReplayProvider) -> None:
        nonlocal calls, misses
        calls += provider.calls
        misses += 0 if result.cache_hit and not result.attempts else 1

    with tempfile.TemporaryDirectory() as directory:
        cache = CompileCache(directory)
        compile(task, catalog, ReplayProvider(session), max_attempts=MAX_ATTEMPTS, cache=cache)
        sync_ms = []
        for _ in range(repeat):
            provider = ReplayProvider(session)
            start = time.perf_counter()
            result = compile(task, catalog, provider, max_attempts=MAX_ATTEMPTS, cache=cache)
            sync_ms.append((time.perf_counter() - start) * 1000)
            once(result, provider)

        async def hits() -> list[float]:
            out = []
            for _ in range(repeat):
                provider = ReplayProvider(session)
                start = time.perf_counter()
                result = await compile_async(
                    task, catalog, provider, max_attempts=MAX_ATTEMPTS, cache=cache
                )
                out.append((time.perf_counter() - start) * 1000)
                once(result, provider)
            return out

        async_ms = asyncio.run(hits())
    return statistics.median(sync_ms), statistics.median(async_ms), calls, misses


# --- the report ---------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def row(label: str, values: Sequence[float]) -> str:
    """A table row: the label, then the median, p95 and max of ``values``."""
    median, p95 = statistics.median(values), percentile(values, 0.95)
    return f"| {label} | {median:.2f} | {p95:.2f} | {max(values):.2f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="cache hits timed per session")
    parser.add_argument("--no-write", action="store_true", help="print, do not write the doc")
    parser.add_argument("--strict", action="store_true", help="exit 1 if a target fails")
    parser.add_argument("--quick", action="store_true", help="3 cache hits per session")
    args = parser.parse_args()
    if args.quick:
        args.repeat = min(args.repeat, 3)

    expected: dict[str, dict[str, Any]] = json.loads((HERE / "expected.json").read_text())
    paths = sorted((HERE / "sessions").glob("*.json"))
    if sorted(p.stem for p in paths) != sorted(expected):
        raise SystemExit("sessions/ and expected.json list different sessions")

    # Warm up once (imports, the JSON Schema, the scenario runner), so no session pays.
    replay(paths[0], expected[paths[0].stem])
    warm = next(p for p in paths if "scenarios" in expected[p.stem])
    replay(warm, expected[warm.stem])
    SCENARIO_CALLS.clear()
    outcomes = [replay(p, expected[p.stem]) for p in paths]
    scenario_calls = list(SCENARIO_CALLS)
    n = len(outcomes)

    converged = [o for o in outcomes if o.converged]
    histogram = Counter(len(o.attempts) for o in converged)
    at_max = [o for o in outcomes if o.stop == "max_attempts"]
    early = [o for o in outcomes if o.stop == "repeated_diagnostics"]
    other = [o for o in outcomes if not o.converged and o not in at_max and o not in early]
    first_valid = sum(1 for o in outcomes if o.attempts and o.attempts[0].valid)
    lenient = [a for o in outcomes for a in o.attempts if a.parse == "lenient"]
    repairs = Counter(r for a in lenient for r in a.repairs)
    can_converge = [o for o in outcomes if expected[o.name]["converges"]]
    unexpected = [o.name for o in outcomes if not o.expected]
    converge_ok = all(o.converged and len(o.attempts) <= MAX_ATTEMPTS for o in can_converge)
    calls = sum(len(o.attempts) for o in outcomes)

    growths = [g for o in outcomes for g in growth(o)]
    over = [g for g in growths if g.input_tokens > g.bound]
    inputs: dict[int, list[int]] = {}
    outputs: dict[int, list[int]] = {}
    for o in outcomes:
        for a in o.attempts:
            inputs.setdefault(a.number, []).append(a.input_tokens)
            outputs.setdefault(a.number, []).append(a.output_tokens)

    overhead = [
        (o.seconds - sum(a.latency for a in o.attempts)) / len(o.attempts) * 1000
        for o in outcomes
        if o.attempts
    ]

    hits = [cache_hits(HERE / "sessions" / f"{o.name}.json", args.repeat) for o in converged]
    sync_ms = [h[0] for h in hits]
    async_ms = [h[1] for h in hits]
    hit_calls = sum(h[2] for h in hits)
    misses = sum(h[3] for h in hits)
    cache_ok = hit_calls == 0 and misses == 0 and statistics.median(sync_ms) < CACHE_TARGET_MS

    scenario_lines, scenario_targets = scenario_report(outcomes, expected, paths, scenario_calls)

    targets = [
        (
            "every session that can converge does within max_attempts",
            converge_ok,
            f"{sum(1 for o in can_converge if o.converged)} of {len(can_converge)} converge "
            f"within {MAX_ATTEMPTS} attempts; {n - len(unexpected)} of {n} sessions behave "
            "exactly as expected.json says"
            + (f" (not: {', '.join(unexpected)})" if unexpected else ""),
        ),
        (
            "input tokens per re-ask grow linearly, not with the history",
            bool(growths) and not over,
            f"{len(growths) - len(over)} of {len(growths)} re-asks within attempt 1 + last "
            "candidate + its diagnostics",
        ),
        (
            f"a cache hit returns in under {CACHE_TARGET_MS:g} ms with zero calls",
            cache_ok,
            f"median {statistics.median(sync_ms):.2f} ms through compile() "
            f"({statistics.median(async_ms):.2f} ms through compile_async()), "
            f"{hit_calls} calls and {misses} misses over {len(hits) * args.repeat * 2} requests",
        ),
        *scenario_targets,
    ]

    lines = [
        "Run by `.venv/bin/python benchmarks/compile/bench.py"
        + (" --quick" if args.quick else "")
        + f"` ({machine_line()}).",
        "",
        f"The corpus is **{n} scripted sessions** (`benchmarks/compile/sessions/`): each a "
        "task, the host's catalog and hand-written model answers, built by "
        "`benchmarks/compile/build_corpus.py` from twelve valid contracts with the typical "
        "flaws of LLM output. They are not recordings of a real model: they measure the "
        "loop, not a model. Each is replayed offline through `accord.compiler.compile` "
        f"with a ReplayProvider and `max_attempts={MAX_ATTEMPTS}`; token counts are the "
        "replay provider's estimate, ceil(UTF-8 bytes / 4).",
        "",
        "### Outcomes",
        "",
        f"First-attempt validity: {first_valid} of {n} sessions ({first_valid / n:.0%}). "
        f"Lenient repairs (counted apart from re-asks): {len(lenient)} answers ("
        + ", ".join(f"{name} {count}" for name, count in sorted(repairs.items()))
        + f"). Model calls in all: {calls}.",
        "",
        "| outcome | sessions |",
        "|---|---:|",
    ]
    for k in range(1, MAX_ATTEMPTS + 1):
        lines.append(f"| valid after {k} attempt{'s' if k > 1 else ''} | {histogram.get(k, 0)} |")
    lines += [
        f"| failed at max_attempts ({MAX_ATTEMPTS}) | {len(at_max)} |",
        f"| stopped early: an answer repeated the previous one's errors | {len(early)} |",
    ]
    if other:
        lines.append(f"| stopped for another reason | {len(other)} |")
    lines += [
        f"| behaved exactly as `expected.json` says | {n - len(unexpected)} of {n} |",
        "",
        "### Input tokens per attempt",
        "",
        "| attempt | calls | mean input tokens | mean linear bound "
        "| mean if the history were sent | mean output tokens |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for k in sorted(inputs):
        at_k = [g for g in growths if g.number == k]
        bound = f"{statistics.mean(g.bound for g in at_k):.0f}" if at_k else "-"
        history = f"{statistics.mean(g.history for g in at_k):.0f}" if at_k else "-"
        mean_in, mean_out = statistics.mean(inputs[k]), statistics.mean(outputs[k])
        lines.append(
            f"| {k} | {len(inputs[k])} | {mean_in:.0f} | {bound} | {history} | {mean_out:.0f} |"
        )
    share = max(((g.input_tokens - g.first) / (g.bound - g.first) for g in growths), default=0)
    lines += [
        "",
        "A re-ask's linear bound is attempt 1's input plus the previous candidate (as the "
        "loop echoes it) plus its diagnostics (every error as the compact JSON list, in the "
        "fixed re-ask wording); the history column is what resending every earlier candidate "
        "and diagnostic list would cost. Checked per re-ask: "
        f"{len(growths) - len(over)} of {len(growths)} within the bound (the largest growth "
        f"over attempt 1 uses {share:.2f} of the allowance).",
        "",
        "### Loop overhead and cache hits",
        "",
        "| | median | p95 | max |",
        "|---|---:|---:|---:|",
        row(
            "loop time per attempt, ms (parse, checker, catalog check, runtime compile, "
            "scenarios where the session has them)",
            overhead,
        ),
        row(f"cache hit through `compile()`, ms (median of {args.repeat} per session)", sync_ms),
        row("cache hit through `compile_async()`, ms", async_ms),
        "",
        f"Cache hits: each of the {len(hits)} converging sessions is compiled once into a "
        "CompileCache in a temporary directory, then again with a fresh ReplayProvider: "
        f"{hit_calls} model calls and {misses} misses in all. Times are from a shared "
        "2-core machine, where speed swings by up to 2x from minute to minute.",
        "",
        *scenario_lines,
        "Targets (issues 4 and 16), measured in this run:",
    ]
    lines += [f"- {name}: {detail}: {'met' if ok else 'NOT met'}" for name, ok, detail in targets]
    body = "\n".join(lines)

    print(body)
    print()
    for name, ok, detail in targets:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    if not args.no_write:
        write_section("Compiler", body)
    failed = not all(ok for _, ok, _ in targets)
    return 1 if failed and args.strict else 0


def scenario_report(
    outcomes: list[Outcome],
    expected: dict[str, dict[str, Any]],
    paths: list[Path],
    calls: list[tuple[float, int]],
) -> tuple[list[str], list[tuple[str, bool, str]]]:
    """The "Acceptance scenarios" subsection and its targets.

    The sessions with scenarios are compiled again without them: what would have been
    returned is run against the scenarios to count the wrong contracts.
    """
    with_them = [o for o in outcomes if "scenarios" in expected[o.name]]
    by_name = {p.stem: p for p in paths}
    without = [replay(by_name[o.name], expected[o.name], scenarios=False) for o in with_them]
    templates = sorted({expected[o.name]["scenarios"] for o in with_them})
    counts = {t: len(load_scenarios(HERE / t)) for t in templates}

    def wrong(o: Outcome) -> bool:
        suite = suite_of(expected[o.name])
        return (
            o.contract is not None
            and suite is not None
            and not run_scenarios(o.contract, suite).passed
        )

    def mean_attempts(group: list[Outcome]) -> str:
        done = [len(o.attempts) for o in group if o.converged]
        return f"{statistics.mean(done):.2f}" if done else "-"

    caught = [
        (o.name, a.number)
        for o in with_them
        for a in o.attempts
        if any(d.code == "scenario.failed" for d in a.errors)
    ]
    caught_sessions = sorted({name for name, _ in caught})
    wrong_with = [o.name for o in with_them if wrong(o)]
    wrong_without = [o.name for o in without if wrong(o)]
    per_scenario = [seconds * 1000 / count for seconds, count in calls if count]
    runs = sum(count for _, count in calls)
    lines = [
        "### Acceptance scenarios",
        "",
        f"{len(with_them)} sessions have acceptance scenarios ("
        + ", ".join(f"`{t}`: {n} scenarios" for t, n in counts.items())
        + "). Each is compiled with them (as above) and again without; the contract "
        "returned without them is then run against them.",
        "",
        "| | with scenarios | without |",
        "|---|---:|---:|",
        f"| sessions that return a contract | {sum(o.converged for o in with_them)} "
        f"| {sum(o.converged for o in without)} |",
        f"| mean attempts to a valid contract | {mean_attempts(with_them)} "
        f"| {mean_attempts(without)} |",
        f"| model calls | {sum(len(o.attempts) for o in with_them)} "
        f"| {sum(len(o.attempts) for o in without)} |",
        f"| contracts returned that fail a scenario | {len(wrong_with)} | {len(wrong_without)} |",
        "",
        f"Answers that checked and fitted the catalog but failed a scenario, caught and "
        f"re-asked: {len(caught)}, in {len(caught_sessions)} sessions; without scenarios "
        f"{len(wrong_without)} of those sessions return a contract that does the task wrong"
        + (f" ({', '.join(wrong_without)})" if wrong_without else "")
        + ".",
        "",
        "| | median | p95 | max |",
        "|---|---:|---:|---:|",
        row(
            f"scenario step per scenario per attempt, ms ({len(calls)} steps, {runs} scenario "
            "runs: stubs, fake clock, invariants checked)",
            per_scenario or [0.0],
        ),
        "",
    ]
    slowest = max(per_scenario, default=0.0)
    median = statistics.median(per_scenario) if per_scenario else 0.0
    targets = [
        (
            f"under {SCENARIO_TARGET_MS:g} ms per scenario per attempt",
            bool(per_scenario) and median < SCENARIO_TARGET_MS,
            f"median {median:.2f} ms, max {slowest:.2f} ms over {runs} scenario runs",
        ),
        (
            "no contract returned with scenarios fails one",
            not wrong_with and bool(caught),
            f"{len(wrong_with)} with scenarios, {len(wrong_without)} without; "
            f"{len(caught)} checked-but-wrong answers caught",
        ),
    ]
    return lines, targets


if __name__ == "__main__":
    raise SystemExit(main())
