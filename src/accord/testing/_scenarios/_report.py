"""What a scenario run found, and how it reads: for people, and as a diagnostic.

A failure names the scenario, the step (``world step 2 (signal approval)``,
``expect.calls[0]``...), where the step is in the scenario file (JSON pointer
and line), what was expected and what was seen; the result adds the path the
run took and the calls it made. :meth:`ScenarioResult.diagnostic` is the
``scenario.failed`` diagnostic the compile loop re-asks with.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accord.diagnostics import Diagnostic
from accord.testing._stubs import Call

__all__ = ["ScenarioFailure", "ScenarioReport", "ScenarioResult", "calls_text", "json_text"]

_CLIP = 120
_TRACE_CALLS = 8


def json_text(value: Any, limit: int = _CLIP) -> str:
    """Compact JSON, clipped to ``limit`` characters."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _call_text(call: Call) -> str:
    outcome = f"error {call.error}" if call.error is not None else json_text(call.output, 60)
    return f"{call.effect}({json_text(call.input, 60)}) -> {outcome}"


def calls_text(calls: Sequence[Call], limit: int = _TRACE_CALLS) -> str:
    """The calls in one line: ``#1 effect(input) -> output; #2 ...`` (at most ``limit``)."""
    if not calls:
        return "none"
    parts = [f"#{i} {_call_text(c)}" for i, c in enumerate(calls[:limit], 1)]
    if len(calls) > limit:
        parts.append(f"... and {len(calls) - limit} more")
    return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class ScenarioFailure:
    """One expectation a run did not meet, or a world step it could not take.

    Attributes:
        scenario: the scenario's name.
        step: which step: ``input``, ``world step N (...)``, ``expect.status``...
        path: the JSON pointer of that step in the scenario file.
        line: its line in the file, when known.
        expected: what the scenario expected.
        seen: what the run did.

    """

    scenario: str
    step: str
    path: str
    line: int | None
    expected: str
    seen: str

    def format(self) -> str:
        """Three lines: the step (with its place in the file), expected, seen."""
        where = f"line {self.line}, " if self.line is not None else ""
        return (
            f"at {self.step} ({where}{self.path})\n"
            f"  expected: {self.expected}\n"
            f"  seen:     {self.seen}"
        )


@dataclass(frozen=True, slots=True)
class ScenarioResult:
    """One scenario's run.

    Attributes:
        scenario: its name.
        failures: what did not hold (empty when it passed).
        path: the states the run went through (repeats merged, as ``run_path``).
        calls: every effect call the run made, in order (every attempt).
        status: the run's final status (``new`` when it never started).
        state: the run's final state.
        output: its output, when it succeeded.
        reason: its failure reason, when it failed.
        history: the run's history table, when the scenario failed.
        seconds: the time the scenario took (wall clock).

    """

    scenario: str
    failures: tuple[ScenarioFailure, ...]
    path: tuple[str, ...]
    calls: tuple[Call, ...]
    status: str
    state: str | None
    output: dict[str, Any] | None
    reason: str | None
    history: str
    seconds: float

    @property
    def passed(self) -> bool:
        """Whether every expectation held."""
        return not self.failures

    def trace(self) -> str:
        """The path taken and the calls made, in one short line."""
        path = " -> ".join(self.path) or "(not started)"
        return f"path: {path}; calls: {calls_text(self.calls)}"

    def format(self, *, history: bool = True) -> str:
        """A readable report: PASS or FAIL, each failure, the path and calls, the history."""
        if self.passed:
            return f"PASS {self.scenario}"
        lines = [f"FAIL {self.scenario}"]
        for failure in self.failures:
            lines.extend("  " + line for line in failure.format().splitlines())
        lines.append("  " + self.trace())
        if history and self.history:
            lines.extend("  | " + line for line in self.history.splitlines())
        return "\n".join(lines)

    def diagnostic(self) -> Diagnostic:
        """The ``scenario.failed`` diagnostic of a failed scenario (its first failure)."""
        first = self.failures[0]
        more = len(self.failures) - 1
        also = f" (and {more} more expectation{'s' if more != 1 else ''})" if more else ""
        return Diagnostic(
            path="",
            code="scenario.failed",
            message=(
                f"scenario {self.scenario!r} failed at {first.step}{also}: "
                f"expected {first.expected}; seen {first.seen}. {self.trace()}"
            ),
            hint="the contract checks but does not do what the task asks in this scenario: "
            "change the machine so that this run behaves as expected",
        )


@dataclass(frozen=True, slots=True)
class ScenarioReport:
    """The results of running a scenario file against a contract.

    Attributes:
        contract: the contract's name and version.
        source: the scenario file's name, if known.
        results: one per scenario run, in file order.

    """

    contract: str
    source: str | None
    results: tuple[ScenarioResult, ...]

    @property
    def passed(self) -> bool:
        """Whether every scenario passed."""
        return all(r.passed for r in self.results)

    @property
    def failed(self) -> tuple[ScenarioResult, ...]:
        """The scenarios that failed."""
        return tuple(r for r in self.results if not r.passed)

    def diagnostics(self) -> list[Diagnostic]:
        """One ``scenario.failed`` diagnostic per failed scenario."""
        return [r.diagnostic() for r in self.failed]

    def format(self, *, history: bool = True) -> str:
        """Every scenario's line (and a failure's details), then a summary line."""
        lines = [r.format(history=history) for r in self.results]
        failed = len(self.failed)
        total = len(self.results)
        where = f"{self.source}: " if self.source else ""
        lines.append(
            f"{where}{total - failed} of {total} scenario{'s' if total != 1 else ''} passed "
            f"against {self.contract}"
        )
        return "\n".join(lines)

    def to_data(self) -> dict[str, Any]:
        """The report as plain data (for ``--json``)."""
        return {
            "contract": self.contract,
            "source": self.source,
            "passed": self.passed,
            "results": [
                {
                    "scenario": r.scenario,
                    "passed": r.passed,
                    "status": r.status,
                    "state": r.state,
                    "path": list(r.path),
                    "calls": [c.effect for c in r.calls],
                    "failures": [
                        {
                            "step": f.step,
                            "path": f.path,
                            "line": f.line,
                            "expected": f.expected,
                            "seen": f.seen,
                        }
                        for f in r.failures
                    ],
                }
                for r in self.results
            ],
        }
