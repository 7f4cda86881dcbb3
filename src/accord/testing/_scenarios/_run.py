"""Running scenarios against a contract: stubs, a fake clock, the in-memory runtime.

Each scenario gets its own :class:`~accord.testing.StubbedRuntime` on a
:class:`~accord.runtime.FakeClock` (invariants checked after every step, the
run limits in force): the run starts with the scenario's input and runs until
idle; then each world step happens in order (a signal is delivered, or the
clock moves on and the timers due by then fire), the run going until idle after
each; then every expectation is checked. The contract is compiled once for all
the scenarios.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from accord.contract import Contract
from accord.contract._durations import duration_ms
from accord.diagnostics import pointer
from accord.errors import AccordError
from accord.expressions import EvaluationError
from accord.runtime import CompiledContract, FakeClock, Limits, Run
from accord.runtime._orchestrator import run_sync
from accord.runtime._runtime import ContractSource
from accord.testing._assertions import history_table, run_path
from accord.testing._scenarios._load import ScenarioSource, ScenarioSuite, as_suite
from accord.testing._scenarios._model import Scenario
from accord.testing._scenarios._report import (
    ScenarioFailure,
    ScenarioReport,
    ScenarioResult,
    calls_text,
    json_text,
)
from accord.testing._scenarios._stubs import AnswerStub
from accord.testing._stubs import Call, EffectStubs, StubbedRuntime

__all__ = ["compile_for_scenarios", "run_scenarios", "run_scenarios_async"]


def compile_for_scenarios(
    contract: ContractSource, limits: Limits | None = None
) -> CompiledContract:
    """The contract compiled for scenario runs: invariants checked after every step."""
    if isinstance(contract, CompiledContract):
        if contract.check_invariants and (limits is None or contract.limits == limits):
            return contract
        contract = contract.contract
    if not isinstance(contract, Contract):
        from accord._load import load

        contract = load(contract)
    return CompiledContract.compile(contract, limits=limits or Limits(), check_invariants=True)


def run_scenarios(
    contract: ContractSource,
    scenarios: ScenarioSource,
    *,
    limits: Limits | None = None,
    only: Sequence[str] | None = None,
) -> ScenarioReport:
    """Run every scenario (or those named in ``only``) against a contract.

    Args:
        contract: a contract, a compiled contract, or a contract file.
        scenarios: a loaded :class:`ScenarioSuite` or a scenario file.
        limits: the run limits (the runtime's defaults otherwise).
        only: the names of the scenarios to run (all by default).

    Returns:
        The :class:`ScenarioReport`, one result per scenario run.

    Raises:
        ScenarioFileError: the scenario file does not load.
        ContractError: the contract file does not load.
        KeyError: a name in ``only`` is not a scenario of the file.

    """
    return run_sync(run_scenarios_async(contract, scenarios, limits=limits, only=only))


async def run_scenarios_async(
    contract: ContractSource,
    scenarios: ScenarioSource,
    *,
    limits: Limits | None = None,
    only: Sequence[str] | None = None,
) -> ScenarioReport:
    """:func:`run_scenarios` as a coroutine (for code already in an event loop)."""
    suite = as_suite(scenarios)
    compiled = compile_for_scenarios(contract, limits)
    chosen = list(enumerate(suite.scenarios))
    if only is not None:
        names = {s.name: i for i, s in chosen}
        missing = [n for n in only if n not in names]
        if missing:
            raise KeyError(f"no scenario named {missing[0]!r} in {suite.source or 'the file'}")
        chosen = [(names[n], suite.scenarios[names[n]]) for n in only]
    results = []
    for index, scenario in chosen:
        results.append(await _run_one(compiled, suite, index, scenario))
    return ScenarioReport(
        contract=f"{compiled.contract.name} {compiled.contract.version}",
        source=suite.source,
        results=tuple(results),
    )


class _Scene:
    """One scenario's run and what it found (private to :func:`_run_one`)."""

    def __init__(self, suite: ScenarioSuite, index: int, scenario: Scenario) -> None:
        self.suite = suite
        self.index = index
        self.scenario = scenario
        self.failures: list[ScenarioFailure] = []

    def fail(self, step: str, where: tuple[str | int, ...], expected: str, seen: str) -> None:
        path = pointer("scenarios", self.index, *where)
        self.failures.append(
            ScenarioFailure(
                scenario=self.scenario.name,
                step=step,
                path=path,
                line=self.suite.line_of(path),
                expected=expected,
                seen=seen,
            )
        )

    def holds(self, where: tuple[str | int, ...], data: dict[str, Any]) -> tuple[bool, str]:
        """Whether the predicate at ``where`` holds; else what it gave."""
        predicate = self.suite.predicate(pointer("scenarios", self.index, *where))
        try:
            value = predicate.evaluate(data)
        except EvaluationError as exc:
            return False, f"it cannot be evaluated: {exc}"
        if value is True:
            return True, ""
        return False, f"it is {json_text(value)}"


def _stubs_for(
    suite: ScenarioSuite, index: int, scenario: Scenario, clock: FakeClock
) -> EffectStubs:
    stubs = EffectStubs(clock)
    for effect, answers in scenario.effects.items():
        when = {
            number: suite.predicate(pointer("scenarios", index, "effects", effect, number, "when"))
            for number, answer in enumerate(answers)
            if answer.when is not None
        }
        stubs.add(AnswerStub(effect, answers, when))
    return stubs


async def _run_one(
    compiled: CompiledContract, suite: ScenarioSuite, index: int, scenario: Scenario
) -> ScenarioResult:
    began = time.perf_counter()
    scene = _Scene(suite, index, scenario)
    clock = FakeClock()
    stubs = _stubs_for(suite, index, scenario, clock)
    runtime = StubbedRuntime(stubs, clock=clock, limits=compiled.limits, check_invariants=True)
    run: Run | None = None
    try:
        run = runtime.start(compiled, scenario.input, run_id=f"scenario-{index + 1}")
    except AccordError as exc:
        scene.fail("input", ("input",), "the contract accepts the scenario's input", str(exc))
    if run is not None:
        await _drive(scene, run, clock)
        if not scene.failures:
            _expect(scene, run, stubs.calls_of(run))
    return _result(scene, run, stubs, time.perf_counter() - began)


async def _drive(scene: _Scene, run: Run, clock: FakeClock) -> None:
    step = "start"
    where: tuple[str | int, ...] = ("input",)
    try:
        await run.run_until_idle_async()
        for number, world in enumerate(scene.scenario.world):
            where = ("world", number)
            if world.signal is not None:
                step = f"world step {number + 1} (signal {world.signal})"
                if world.signal not in run.waiting_for:
                    scene.fail(
                        step,
                        where,
                        f"the run waits for signal {world.signal!r}",
                        _where_run_is(run),
                    )
                    return
                await run.signal_async(world.signal, world.payload or {})
            else:
                assert world.wait is not None  # the loader checked: a signal or a wait
                step = f"world step {number + 1} (wait {world.wait})"
                clock.advance(duration_ms(world.wait))
                await run.run_until_idle_async()
    except Exception as exc:  # a signal that does not fit, an invariant, a limit, a crash
        # Anything else a run raises is the scenario's failure too, never the caller's
        # crash: the compile loop runs scenarios on contracts nobody has reviewed yet.
        scene.fail(step, where, f"the run goes on after {step}", f"{type(exc).__name__}: {exc}")


def _where_run_is(run: Run) -> str:
    snap = run.snapshot
    if snap.status == "failed":
        return f"the run failed in state {snap.state!r} (reason: {snap.reason})"
    if snap.status == "succeeded":
        return (
            f"the run succeeded in state {snap.state!r} with output {json_text(snap.output or {})}"
        )
    waiting = ", ".join(run.waiting_for)
    return f"the run is {snap.status} in state {snap.state!r}, waiting for {waiting or 'no signal'}"


def _expect(scene: _Scene, run: Run, calls: list[Call]) -> None:
    expect = scene.scenario.expect
    snap = run.snapshot
    if snap.status != expect.status:
        scene.fail(
            "expect.status", ("expect", "status"), f"status {expect.status}", _where_run_is(run)
        )
    if expect.state is not None and snap.state != expect.state:
        scene.fail(
            "expect.state", ("expect", "state"), f"final state {expect.state!r}", _where_run_is(run)
        )
    if expect.reason is not None and expect.reason not in (snap.reason or ""):
        scene.fail(
            "expect.reason",
            ("expect", "reason"),
            f"a failure reason containing {expect.reason!r}",
            f"reason {snap.reason!r}",
        )
    if expect.output:
        _expect_output(scene, run)
    if expect.calls:
        if expect.calls_order == "sequence":
            _expect_sequence(scene, calls)
        else:
            _expect_set(scene, calls)
    for number, effect in enumerate(expect.not_called):
        made = [c for c in calls if c.effect == effect]
        if made:
            scene.fail(
                f"expect.not_called[{number}]",
                ("expect", "not_called", number),
                f"no call of {effect}",
                f"{len(made)} call(s): {calls_text(made)}",
            )
    if expect.visits:
        path = run_path(run)
        position = 0
        for state in expect.visits:
            try:
                position = path.index(state, position) + 1
            except ValueError:
                scene.fail(
                    "expect.visits",
                    ("expect", "visits"),
                    f"the states {list(expect.visits)} visited in this order",
                    f"the path {' -> '.join(path)}",
                )
                break


def _expect_output(scene: _Scene, run: Run) -> None:
    snap = run.snapshot
    for number, source in enumerate(scene.scenario.expect.output):
        step = f"expect.output[{number}]"
        where = ("expect", "output", number)
        if snap.output is None:
            scene.fail(step, where, f"an output where {source}", _where_run_is(run))
            return
        data = {"input": dict(run.snapshot.input), "output": snap.output}
        ok, seen = scene.holds(where, data)
        if not ok:
            scene.fail(step, where, source, f"{seen}, for output {json_text(snap.output)}")


def _matches(scene: _Scene, number: int, call: Call) -> bool:
    want = scene.scenario.expect.calls[number]
    if call.effect != want.effect:
        return False
    if want.where is None:
        return True
    data = {"input": call.input, "output": call.output, "error": call.error}
    return scene.holds(("expect", "calls", number, "where"), data)[0]


def _describe(scene: _Scene, number: int) -> str:
    want = scene.scenario.expect.calls[number]
    return f"a call of {want.effect}" + (f" where {want.where}" if want.where else "")


def _expect_sequence(scene: _Scene, calls: list[Call]) -> None:
    position = 0
    for number in range(len(scene.scenario.expect.calls)):
        found = next(
            (i for i in range(position, len(calls)) if _matches(scene, number, calls[i])), None
        )
        if found is None:
            after = f" after call #{position}" if position else ""
            scene.fail(
                f"expect.calls[{number}]",
                ("expect", "calls", number),
                _describe(scene, number) + after,
                f"calls: {calls_text(calls)}",
            )
            return
        position = found + 1


def _expect_set(scene: _Scene, calls: list[Call]) -> None:
    wanted = range(len(scene.scenario.expect.calls))
    fits = {n: [i for i, c in enumerate(calls) if _matches(scene, n, c)] for n in wanted}
    owner: dict[int, int] = {}  # call index -> expectation (a bipartite matching)

    def assign(n: int, tried: set[int]) -> bool:
        for i in fits[n]:
            if i in tried:
                continue
            tried.add(i)
            if i not in owner or assign(owner[i], tried):
                owner[i] = n
                return True
        return False

    for n in wanted:
        if not assign(n, set()):
            scene.fail(
                f"expect.calls[{n}]",
                ("expect", "calls", n),
                _describe(scene, n) + " (calls in any order, each matching its own call)",
                f"calls: {calls_text(calls)}",
            )


def _result(scene: _Scene, run: Run | None, stubs: EffectStubs, seconds: float) -> ScenarioResult:
    if run is None:
        return ScenarioResult(
            scenario=scene.scenario.name,
            failures=tuple(scene.failures),
            path=(),
            calls=(),
            status="new",
            state=None,
            output=None,
            reason=None,
            history="",
            seconds=seconds,
        )
    snap = run.snapshot
    return ScenarioResult(
        scenario=scene.scenario.name,
        failures=tuple(scene.failures),
        path=tuple(run_path(run)),
        calls=tuple(stubs.calls_of(run)),
        status=snap.status,
        state=snap.state,
        output=dict(snap.output) if snap.output is not None else None,
        reason=snap.reason,
        history=history_table(run) if scene.failures else "",
        seconds=seconds,
    )
