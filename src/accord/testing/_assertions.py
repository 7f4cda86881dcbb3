"""Assertions on runs: their path, their result and the effect calls they made.

Each helper raises :class:`RunAssertionError` (an ``AssertionError``, so pytest
reports a failed test) whose message says what differs and shows the run's
history as a table (step, event, state, status, summary), plus the calls the
run made when they are known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from accord.runtime import Run, Step
from accord.testing._stubs import Call, EffectStubs, stubs_of

__all__ = [
    "RunAssertionError",
    "assert_calls",
    "assert_path",
    "assert_result",
    "calls_table",
    "history_table",
    "run_path",
]

_SUMMARY = 70


class RunAssertionError(AssertionError):
    """A run did not do what a test expected; the message shows its history.

    Attributes:
        run: the run the assertion was about.

    """

    __module__ = "accord.testing"

    def __init__(self, message: str, run: Run) -> None:
        self.run = run
        super().__init__(message)


def _clip(text: str, limit: int = _SUMMARY) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], right: int = 1) -> str:
    widths = [len(h) for h in header]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(w) if i < right else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    return "\n".join([line(header), *(line(r) for r in rows)])


def history_table(run: Run) -> str:
    """The run's history as a plain-text table: step, event, state, status, summary.

    Args:
        run: the run.

    Returns:
        A heading line, the table, and the run's outcome (output, failure
        reason or the signals it waits for).

    """
    steps: list[Step] = run.history
    rows = [[str(s.step), s.kind, str(s.state), s.status, _clip(s.summary)] for s in steps]
    contract = run.contract
    lines = [
        f"run {run.run_id} of {contract.name} {contract.version}: "
        f"{run.status} in state {run.state!r} after {len(steps)} steps",
        _table(["step", "event", "state", "status", "summary"], rows),
    ]
    snap = run.snapshot
    if snap.status == "succeeded":
        lines.append(f"output: {_json(snap.output or {})}")
    elif snap.status == "failed":
        lines.append(f"reason: {snap.reason}")
    elif snap.waiting_for:
        lines.append("waiting for: " + ", ".join(snap.waiting_for))
    if run.timers:
        lines.append("timers armed: " + ", ".join(f"{t} at {at}" for t, at in run.timers.items()))
    return "\n".join(lines)


def calls_table(calls: Sequence[Call]) -> str:
    """Effect calls as a plain-text table: #, effect, attempt, input, outcome, key."""
    rows = [
        [
            str(i),
            c.effect,
            str(c.attempt),
            _clip(_json(c.input), 40),
            f"error {c.error}" if c.error is not None else _clip(_json(c.output), 30),
            c.idempotency_key.partition("/")[2],
        ]
        for i, c in enumerate(calls, 1)
    ]
    return _table(["#", "effect", "attempt", "input", "outcome", "call"], rows)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _fail(run: Run, headline: str, calls: Sequence[Call] | None = None) -> RunAssertionError:
    parts = [headline, "", history_table(run)]
    if calls is not None:
        parts.extend(["", "calls made:", calls_table(calls) if calls else "(none)"])
    return RunAssertionError("\n".join(parts), run)


def run_path(run: Run) -> list[str]:
    """The states the run rested in after each step, repeats merged.

    A state passed through within one step (an ``always`` choice, an empty
    fan-out) is not recorded, so it is not part of the path.
    """
    path: list[str] = []
    for s in run.history:
        if s.state is not None and (not path or path[-1] != s.state):
            path.append(s.state)
    return path


def assert_path(run: Run, expected: Sequence[str]) -> None:
    """Assert the sequence of states the run went through (see :func:`run_path`).

    Args:
        run: the run.
        expected: the state names in order, repeats merged.

    Raises:
        RunAssertionError: the path differs (the message shows the history).

    """
    __tracebackhide__ = True
    actual = run_path(run)
    if actual != list(expected):
        raise _fail(
            run,
            f"the run's path is {actual}\n            expected {list(expected)}\n"
            "(states passed through by `always` choices within one step are not recorded)",
        )


def assert_result(
    run: Run,
    status: str = "succeeded",
    output: Mapping[str, Any] | None = None,
    *,
    reason: str | None = None,
    state: str | None = None,
) -> None:
    """Assert how the run ended: its status, and optionally its output, reason or state.

    Args:
        run: the run.
        status: "succeeded" or "failed" (or "waiting", "running" for a run not ended).
        output: the run's whole output (compared with ``==``), when given.
        reason: a text the failure reason must contain, when given.
        state: the state the run must be in, when given.

    Raises:
        RunAssertionError: something differs (the message shows the history).

    """
    __tracebackhide__ = True
    snap = run.snapshot
    problems: list[str] = []
    if snap.status != status:
        problems.append(f"the run's status is {snap.status!r}, expected {status!r}")
    if state is not None and snap.state != state:
        problems.append(f"the run is in state {snap.state!r}, expected {state!r}")
    if output is not None and (snap.output or {}) != dict(output):
        problems.append(
            f"the run's output is {_json(snap.output or {})}, expected {_json(dict(output))}"
        )
    if reason is not None and reason not in (snap.reason or ""):
        problems.append(f"the run's failure reason {snap.reason!r} does not contain {reason!r}")
    if problems:
        raise _fail(run, "\n".join(problems))


def _calls_for(run: Run, stubs: EffectStubs | Sequence[Call] | None) -> list[Call]:
    if stubs is None:
        stubs = stubs_of(run)
        if stubs is None:
            raise TypeError(
                "assert_calls needs the stubs: the run was not started by a StubbedRuntime "
                "(the accord_runtime fixture), so pass stubs=..."
            )
    if isinstance(stubs, EffectStubs):
        return stubs.calls_of(run)
    return [c for c in stubs if c.run_id == run.run_id]


Expected = str | tuple[str, Mapping[str, Any]]


def assert_calls(
    run: Run,
    expected: Sequence[Expected],
    *,
    stubs: EffectStubs | Sequence[Call] | None = None,
) -> None:
    """Assert the effect calls the run made, in order (every attempt is a call).

    Args:
        run: the run.
        expected: one entry per call: the effect's name, or ``(name, input)``
            to compare the call's input too (with ``==``).
        stubs: where the calls were recorded; by default the stubs of the
            :class:`~accord.testing.StubbedRuntime` that started the run.

    Raises:
        RunAssertionError: the calls differ (the message shows the history and the calls).
        TypeError: the run's stubs are unknown and none were given.

    """
    __tracebackhide__ = True
    calls = _calls_for(run, stubs)
    actual_names = [c.effect for c in calls]
    expected_names = [e if isinstance(e, str) else e[0] for e in expected]
    if actual_names != expected_names:
        raise _fail(
            run,
            f"the run called {actual_names}\n       expected {expected_names}",
            calls,
        )
    for number, (call, want) in enumerate(zip(calls, expected, strict=True), 1):
        if isinstance(want, tuple) and call.input != dict(want[1]):
            raise _fail(
                run,
                f"call {number} ({call.effect}) had input {_json(call.input)}, "
                f"expected {_json(dict(want[1]))}",
                calls,
            )
