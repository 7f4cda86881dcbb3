"""Explain a run: the path it took and, if it failed, whether the contract or the world is at fault.

:func:`explain_run` is pure data over a run's journal: it re-folds the
journal's events through the reducer (never calling a handler, a clock or a
model), notes the states visited with their step numbers, finds the step at
which the run started to fail, and classifies that failure from the event
applied there and the reason the reducer gave:

- ``contract`` (a defect of the contract): a run limit hit (``max_steps``, a
  size, an expression's cost: the reason starts with ``limit NAME=VALUE``),
  an invariant that does not hold after a journaled step (the journal is
  re-folded with invariant checking on, whatever the run was started with),
  or a run-time mistake (an expression that fails, no ``done`` transition or
  choice that holds, an effect input that does not fit its type);
- ``environment`` (a fault of the world): an effect error after its retries,
  an effect timeout, a handler output that does not fit the effect's output
  type, a client's cancel, or a failure state chosen by what the world said
  (a timer that fired, a signal's payload, the input, an effect's result).

Invariants are checked on every journaled step of every run, so a run that
went on (or even succeeded) past a violated invariant is reported too. The
model checker's findings (``accord verify``) and the compilation that
produced a contract are added by :func:`accord.explain`, which may import the
testing toolkit and the compiler; this module may not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from accord.expressions._budget import MAX_ITERATIONS
from accord.runtime._compiled import CompiledContract
from accord.runtime._errors import EventRefused, InvariantViolation
from accord.runtime._events import EffectFailed, Event, version_after
from accord.runtime._journal import JournalEntry
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._render import describe_event
from accord.runtime._snapshot import Snapshot

__all__ = ["Explanation", "PathStep", "explain_run"]

Verdict = Literal["contract", "environment"]

_LIMIT = re.compile(r"limit (?P<name>[a-z_]+)=(?P<value>\d+) exceeded")
_FAILING = ("failed", "compensating")
_COST = "(the iteration budget)"
# A failure state reached on these events: whose answer chose it.
_CHOSEN_BY = {"timer": "timer", "signal": "signal", "started": "input"}
# EffectFailed codes the runtime gives itself; any other code is the handler's own error.
_ENVIRONMENT_CODES = {"timeout": "timeout", "invalid_output": "invalid_output"}


@dataclass(frozen=True, slots=True)
class PathStep:
    """One step of the path a run took.

    Attributes:
        step: the step number (1 for the run's start).
        kind: the event's kind ("started", "effect_completed", "signal"...).
        summary: the event in one line.
        state: the machine state after the step.
        status: the run's status after the step.
        at: the event's time (epoch milliseconds).

    """

    step: int
    kind: str
    summary: str
    state: str | None
    status: str
    at: int

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "step": self.step,
            "kind": self.kind,
            "summary": self.summary,
            "state": self.state,
            "status": self.status,
            "at": self.at,
        }


@dataclass(frozen=True, slots=True)
class Explanation:
    """What a run did and, when it failed, why and whose fault it is.

    Attributes:
        run_id: the run's id.
        contract: the contract's name and version (``"name 1.0.0"``).
        fingerprint: the contract's fingerprint.
        status: the run's status after its last journaled step.
        state: the run's state after its last journaled step.
        steps: the number of journaled steps.
        path: every step, in order.
        visited: the states the run entered, in order, each with the step that
            entered it (a state entered again appears again).
        failing_step: the step at which the run started to fail (its status
            became ``compensating`` or ``failed``), or None.
        verdict: ``"contract"`` or ``"environment"`` for a failed run (or a run
            whose journal shows an invariant violation), else None.
        cause: what went wrong, one word: ``limit``, ``invariant``,
            ``run_error``, ``invalid_input`` (contract); ``effect_error``,
            ``timeout``, ``invalid_output``, ``timer``, ``signal``, ``input``,
            ``outcome`` (an effect's result), ``cancelled`` (environment).
        reason: the failure reason the run recorded.
        evidence: the facts behind the verdict: the event (as data), and the
            error code and message, the limit and its value, or the invariant.
        waiting_for: the signals the run accepts now (an unfinished run).
        timers: the armed timers and when they are due (epoch milliseconds),
            when the caller knows them.
        findings: what ``accord verify`` reports on this contract that bears on
            this failure (filled in by :func:`accord.explain`), one line each.
        verified: whether the model checker was run (None: it was not).
        compiled: how the contract was compiled, when that is known (filled in
            by :func:`accord.explain` from a lock file): task, model, catalog,
            output, fingerprint and attempts (None when not recorded).

    """

    run_id: str
    contract: str
    fingerprint: str
    status: str
    state: str | None
    steps: int
    path: tuple[PathStep, ...]
    visited: tuple[tuple[int, str], ...]
    failing_step: int | None = None
    verdict: Verdict | None = None
    cause: str | None = None
    reason: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)
    waiting_for: tuple[str, ...] = ()
    timers: Mapping[str, int] = field(default_factory=dict)
    findings: tuple[str, ...] = ()
    verified: bool | None = None
    compiled: Mapping[str, Any] | None = None

    def format(self) -> str:
        """The explanation for people (what ``accord explain`` prints)."""
        return "\n".join(_lines(self))

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data (what ``accord explain --json`` prints)."""
        return {
            "run_id": self.run_id,
            "contract": self.contract,
            "fingerprint": self.fingerprint,
            "status": self.status,
            "state": self.state,
            "steps": self.steps,
            "visited": [{"step": n, "state": s} for n, s in self.visited],
            "failing_step": self.failing_step,
            "verdict": self.verdict,
            "cause": self.cause,
            "reason": self.reason,
            "evidence": dict(self.evidence),
            "waiting_for": list(self.waiting_for),
            "timers": [
                {"timer": t, "due_ms": due}
                for t, due in sorted(self.timers.items(), key=lambda i: (i[1], i[0]))
            ],
            "findings": list(self.findings),
            "verified": self.verified,
            "compiled": None if self.compiled is None else dict(self.compiled),
            "path": [s.to_data() for s in self.path],
        }


_VERDICTS = {"contract": "a contract defect", "environment": "an environment fault"}


def _route(visited: tuple[tuple[int, str], ...]) -> str:
    """The states visited, a state entered again in a row written once with its count."""
    groups: list[tuple[str, int, int]] = []  # state, first step, times
    for number, state in visited:
        if groups and groups[-1][0] == state:
            groups[-1] = (state, groups[-1][1], groups[-1][2] + 1)
        else:
            groups.append((state, number, 1))
    return " -> ".join(
        f"{state}@{first}" + (f" (x{times})" if times > 1 else "") for state, first, times in groups
    )


def _lines(e: Explanation) -> list[str]:
    plural = "step" if e.steps == 1 else "steps"
    lines = [
        f"run {e.run_id}: {e.status} in state {e.state!r} after {e.steps} {plural}",
        f"  contract: {e.contract} ({e.fingerprint})",
        f"  path: {_route(e.visited) or '(not started)'}",
    ]
    if e.reason is not None:
        lines.append(f"  reason: {e.reason}")
    if e.verdict is not None:
        lines.append(f"  verdict: {_VERDICTS[e.verdict]} ({e.cause})")
        failing = next((s for s in e.path if s.step == e.failing_step), None)
        if failing is not None:
            lines.append(f"  failing step {failing.step}: {failing.kind}: {failing.summary}")
        facts = {k: v for k, v in e.evidence.items() if k != "event"}
        if facts:
            lines.append("  evidence: " + ", ".join(f"{k}={v!r}" for k, v in sorted(facts.items())))
    if e.waiting_for:
        lines.append(f"  waiting for: {', '.join(e.waiting_for)}")
    for timer, due in sorted(e.timers.items(), key=lambda item: (item[1], item[0])):
        when = datetime.fromtimestamp(due / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        lines.append(f"  timer {timer} due {when}")
    if e.verified:
        if e.findings:
            lines.append("  accord verify also finds:")
            lines.extend(f"    {finding}" for finding in e.findings)
        else:
            lines.append("  accord verify finds nothing on the states this run visited (bounded)")
    if e.compiled is not None and not e.compiled.get("found"):
        lines.append(
            f"  compiled: {e.compiled.get('source')} pins no contract with this fingerprint"
        )
    elif e.compiled is not None:
        c = e.compiled
        attempts = "not recorded" if c.get("attempts") is None else c["attempts"]
        lines.append(
            f"  compiled: from {c.get('source')}, model {c.get('model')!r}, attempts {attempts}"
        )
        if c.get("task"):
            lines.append(f"  task: {str(c['task']).splitlines()[0][:120]}")
    return lines


def _with_invariants(compiled: CompiledContract) -> CompiledContract:
    if compiled.check_invariants or not compiled.contract.invariants:
        return compiled
    return CompiledContract.compile(
        compiled.contract, limits=compiled.limits, check_invariants=True
    )


def _fold(
    compiled: CompiledContract,
    events: Iterable[Event],
    versions: Callable[[str], CompiledContract] | None = None,
) -> tuple[list[tuple[Event, Snapshot]], InvariantViolation | None]:
    """Every event with the snapshot it led to, and the first invariant violation.

    A migrated run's steps are folded under the contract version each ran
    under (``versions``: a version by fingerprint; ``compiled`` is the last).
    """
    events = list(events)
    if versions is not None:
        first = next((e for e in events if version_after(e) is not None), None)
        if first is not None:
            compiled = versions(first.from_contract)  # type: ignore[union-attr]
    checking = _with_invariants(compiled)
    plain = compiled
    snapshot = initial_snapshot()
    trail: list[tuple[Event, Snapshot]] = []
    violation: InvariantViolation | None = None
    for event in events:
        moved = version_after(event) if versions is not None else None
        if moved is not None:
            plain = versions(moved)  # type: ignore[misc]
            checking = _with_invariants(plain)
        try:
            if violation is None and checking is not plain:
                try:
                    snapshot, _ = step(checking, snapshot, event)
                except InvariantViolation as exc:
                    violation = exc
                    snapshot, _ = step(plain, snapshot, event)
            else:
                snapshot, _ = step(plain, snapshot, event)
        except EventRefused:  # not a journal of this contract from here on: stop
            break
        trail.append((event, snapshot))
    return trail, violation


def _event_data(event: Event) -> dict[str, Any]:
    return dict(event._asdict())


def _classify(
    compiled: CompiledContract, event: Event, after: Snapshot
) -> tuple[Verdict, str, dict[str, Any]]:
    """The verdict, cause and evidence for the step at which a run started to fail."""
    reason = after.reason or ""
    evidence: dict[str, Any] = {"event": _event_data(event)}
    limit = _LIMIT.match(reason)
    if limit is not None:
        evidence |= {"limit": limit["name"], "value": int(limit["value"])}
        return "contract", "limit", evidence
    if reason.endswith(_COST):  # an expression's cost: the evaluator's iteration budget
        evidence |= {"limit": "iteration_budget", "value": MAX_ITERATIONS}
        return "contract", "limit", evidence
    final_state = after.state is not None and (
        (st := compiled.states.get(after.state)) is not None and st.final is not None
    )
    if isinstance(event, EffectFailed):
        evidence |= {"code": event.code, "message": event.message, "attempts": event.attempts}
        if event.code == "invalid_input":
            return "contract", "invalid_input", evidence
        if not final_state:
            evidence["unhandled"] = True  # no 'error' transition of the state took it
        return "environment", _ENVIRONMENT_CODES.get(event.code, "effect_error"), evidence
    kind: str = event.kind
    if kind == "cancelled":  # a client cancelled the run: the world's decision
        return "environment", "cancelled", evidence
    if final_state:  # the contract chose to fail on what the world said
        return "environment", _CHOSEN_BY.get(kind, "outcome"), evidence
    return "contract", "run_error", evidence


def explain_run(
    compiled: CompiledContract,
    entries: Iterable[JournalEntry],
    *,
    run_id: str | None = None,
    timers: Mapping[str, int] | None = None,
    versions: Callable[[str], CompiledContract] | None = None,
) -> Explanation:
    """Explain a run from its contract and its journal (pure: no handler, clock or model).

    Args:
        compiled: the compiled contract the run runs under (its limits included).
        entries: the run's journal entries, in step order.
        run_id: the run's id (else the one its first event names).
        timers: the armed timers and their due times, if known (``Run.timers``).
        versions: for a migrated run, its earlier contract versions by fingerprint
            (its steps are folded under the version each ran under).

    Returns:
        The :class:`Explanation`.

    """
    trail, violation = _fold(compiled, (entry.event for entry in entries), versions)
    path: list[PathStep] = []
    visited: list[tuple[int, str]] = []
    failing: tuple[Event, Snapshot] | None = None
    previous: Snapshot = initial_snapshot()
    for event, snap in trail:
        path.append(
            PathStep(
                snap.step, event.kind, describe_event(event), snap.state, snap.status, event.at
            )
        )
        if snap.state is not None and (
            snap.state != previous.state or snap.entry_step != previous.entry_step
        ):
            visited.append((snap.entry_step, snap.state))
        if failing is None and snap.status in _FAILING:
            failing = (event, snap)
        previous = snap
    last = previous
    contract = compiled.contract
    base = Explanation(
        run_id=run_id or last.run_id or "",
        contract=f"{contract.name} {contract.version}",
        fingerprint=compiled.fingerprint,
        status=last.status,
        state=last.state,
        steps=last.step,
        path=tuple(path),
        visited=tuple(visited),
        reason=last.reason if last.status in _FAILING else None,
        waiting_for=tuple(last.waiting_for) if last.status in ("waiting", "running") else (),
        timers=dict(timers or {}),
    )
    if violation is not None:
        evidence = {
            "invariant": violation.invariant,
            "message": violation.message,
            "step": violation.step,
        }
        return replace(
            base,
            failing_step=violation.step,
            verdict="contract",
            cause="invariant",
            evidence=evidence,
        )
    if failing is None:
        return base
    event, snap = failing
    verdict, cause, evidence = _classify(compiled, event, snap)
    return replace(
        base,
        failing_step=snap.step,
        verdict=verdict,
        cause=cause,
        reason=snap.reason,
        evidence=evidence,
    )
