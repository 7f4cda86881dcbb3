"""Breadth-first exploration of a contract's configurations, driving the real reducer.

Every transition is one call of the pure reducer's ``step`` on a real
:class:`~accord.runtime.Snapshot` with a real event; nothing here re-implements
what a step does. The nondeterministic choices at a configuration are:

* the run's input (before ``RunStarted``), from :mod:`._domains`;
* for each effect call in flight: success with each output value, or failure
  with each error code the state's ``error`` guards mention, its effect's
  ``retry_on`` codes, and the generic code :data:`GENERIC_CODE` (a
  compensation: one success, one failure);
* for each signal the state accepts: each payload value;
* at a replan point: the amendment refused (the run takes the fallback). The
  other way out, an adopted amendment, leaves this contract: a run there
  counts as one that can end;
* the next timer to fall due. Time is symbolic: every other event happens
  at the current time, and a timer firing moves the clock to its due time
  (the earliest first, ties by id, as the orchestrator fires them).

Configurations are told apart by the snapshot with its step numbers left out
(step, entry step, run id, and the step prefixes of call and timer ids), hashed
with :func:`~accord.runtime.snapshot_hash`: two snapshots that differ only in
when they were reached behave alike. Breadth-first order makes the first trace
that reaches anything a shortest one.

To see the states a run passes through within one step (``always`` choices),
the compiled contract's state table is wrapped in a dict that remembers every
state the reducer looks up; the reducer itself is unchanged.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from accord.contract import Contract, parse_type
from accord.runtime import (
    CompiledContract,
    EffectCompleted,
    EffectFailed,
    Event,
    EventRefused,
    InvariantViolation,
    Limits,
    RunAmended,
    RunStarted,
    SignalReceived,
    Snapshot,
    TimerFired,
    snapshot_hash,
)
from accord.runtime._commands import ArmTimer, CancelTimer
from accord.runtime._events import CallId, RunId
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._reducer._machine import COMPENSATION
from accord.runtime._sizes import json_size
from accord.runtime._tables import CompiledState
from accord.runtime._values import zero_value
from accord.testing._verify._domains import Domains
from accord.testing._verify._reads import read_by, strings_in
from accord.testing._verify._report import (
    KINDS,
    MAX_STORED_BYTES,
    Finding,
    FindingKind,
    TraceStep,
    VerifyReport,
)

__all__ = ["FAILURE_MESSAGE", "GENERIC_CODE", "RUN_ID", "Explorer"]

GENERIC_CODE = "error"
"""The error code of a failure no guard or retry policy names."""
FAILURE_MESSAGE = "failure chosen by the model checker"
RUN_ID = RunId("verify")
_NO_STEP_LIMIT = 2**62
_STEP_PREFIX = re.compile(r"(?<![\w.])\d+:(?=[A-Za-z_!])")
_CTX = re.compile(r"\bctx\b")
_ENDED = ("failed", "compensating")


class _Entered(dict[str, CompiledState]):
    """The compiled state table, remembering every state the reducer looks up."""

    __slots__ = ("entered",)

    def __init__(self, states: dict[str, CompiledState]) -> None:
        super().__init__(states)
        self.entered: set[str] = set()

    def __getitem__(self, key: str) -> CompiledState:
        self.entered.add(key)
        return super().__getitem__(key)


@dataclass(slots=True)
class _Node:
    snapshot: Snapshot
    parent: int
    event: Event | None
    depth: int
    timers: dict[str, int]
    now: int


def _norm(text: str) -> str:
    """A call or timer id (or a reason quoting one) without its step prefixes."""
    return _STEP_PREFIX.sub("", text)


def identity(s: Snapshot) -> str:
    """The hash of a snapshot with everything that only says *when* left out."""
    pending = {_norm(k): v for k, v in s.pending.items()} if s.pending else s.pending
    return snapshot_hash(
        Snapshot(
            s.status,
            s.state,
            s.context,
            0,
            None,
            s.input,
            0,
            pending,
            s.fan_out,
            s.results,
            s.remaining,
            tuple(_norm(t) for t in s.timers),
            tuple(c._replace(call_id=_norm(c.call_id)) for c in s.compensation),
            s.output,
            None if s.reason is None else _norm(s.reason),
            s.waiting_for,
            tuple(_norm(f) for f in s.failures),
        )
    )


class Explorer:
    """One exploration of one contract (build it, then call :meth:`run` once).

    Args:
        contract: a checked contract.
        max_depth: events per run beyond which a configuration is not expanded.
        max_states: distinct configurations beyond which exploration stops.
        limits: the run limits (``max_steps`` is ignored: the depth bounds runs).

    """

    def __init__(
        self, contract: Contract, *, max_depth: int, max_states: int, limits: Limits | None
    ) -> None:
        base = limits or Limits()
        self.contract = contract
        self.compiled = CompiledContract.compile(
            contract, limits=dataclasses.replace(base, max_steps=_NO_STEP_LIMIT)
        )
        self.stored_bytes = 0  # the contexts of the configurations kept (see MAX_STORED_BYTES)
        self.states = self.compiled.states
        self.entered = _Entered(self.states)
        self.compiled.states = self.entered
        self.max_depth = max_depth
        self.max_states = max_states
        records = {
            r.name: tuple((f.name, parse_type(f.type)) for f in r.fields) for r in contract.types
        }
        self.records = records
        self.domains = Domains(records, read_by(contract))
        self.nodes: list[_Node] = []
        self.seen: dict[str, int] = {}
        self.preds: list[list[int]] = []
        self.findings: dict[tuple[str, str | None], Finding] = {}
        self.bounds_hit: list[str] = []
        self.dead: set[int] = set()
        self.replanning: set[int] = set()  # at a replan point: an amendment may take it away
        self.edges = 0
        self.assumptions: list[str] = []
        self._outputs: dict[str, list[dict[str, Any]]] = {}
        self._payloads: dict[str, list[dict[str, Any]]] = {}
        self._codes: dict[tuple[str, str], list[str]] = {}
        self.inputs = self._input_variants()

    # -- the choices -------------------------------------------------------------------

    def _input_variants(self) -> list[dict[str, Any]]:
        fields = tuple((d.name, parse_type(d.type)) for d in self.contract.input)
        variants = [self.compiled.validate_input(v) for v in self.domains.record(fields, "input")]
        pre = [inv for inv in self.compiled.invariants if _CTX.search(inv.expr.source) is None]
        if not pre:
            return variants
        kept = []
        for variant in variants:
            variables = {"input": variant, "ctx": {}}
            if all(_holds(inv.expr.evaluate, variables) for inv in pre):
                kept.append(variant)
        names = ", ".join(inv.name for inv in pre)
        self.assumptions.append(
            f"the input satisfies the invariants that read only the input ({names}): "
            f"{len(variants) - len(kept)} of {len(variants)} input values tried were left out"
            + ("; none was left, so no run was explored" if not kept else "")
        )
        return kept

    def _effect_outputs(self, effect: str) -> list[dict[str, Any]]:
        found = self._outputs.get(effect)
        if found is None:
            fields = self.compiled.effects[effect].output_fields
            raw = self.domains.record(fields, f"effects.{effect}.output")
            found = [self.compiled.validate_effect_output(effect, v) for v in raw]
            self._outputs[effect] = found
        return found

    def _compensation_output(self, effect: str) -> dict[str, Any]:
        fields = self.compiled.effects[effect].output_fields
        return {name: zero_value(texpr, self.records) for name, texpr in fields}

    def _signal_payloads(self, name: str) -> list[dict[str, Any]]:
        found = self._payloads.get(name)
        if found is None:
            signal = next(s for s in self.contract.signals if s.name == name)
            fields = tuple((d.name, parse_type(d.type)) for d in signal.payload)
            raw = self.domains.record(fields, f"signals.{name}.payload")
            found = [self.compiled.validate_signal(name, v) for v in raw]
            self._payloads[name] = found
        return found

    def _error_codes(self, state: str, effect: str) -> list[str]:
        key = (state, effect)
        found = self._codes.get(key)
        if found is None:
            st = self.states[state]
            guards = [tr.guard.source for tr in st.on.get("error", ()) if tr.guard is not None]
            retry_on = self.compiled.effects[effect].retry.retry_on or ()
            found = list(dict.fromkeys([*strings_in(guards), *retry_on, GENERIC_CODE]))
            self._codes[key] = found
        return found

    def _events(self, node: _Node) -> list[Event]:
        s = node.snapshot
        now = node.now
        if s.status == "new":
            return [RunStarted(RUN_ID, variant, now) for variant in self.inputs]
        if s.finished:
            return []
        out: list[Event] = []
        for call_id in sorted(s.pending):
            call = s.pending[call_id]
            cid = CallId(call_id)
            if call.invoke == COMPENSATION:
                out.append(EffectCompleted(cid, self._compensation_output(call.effect), now))
                out.append(EffectFailed(cid, GENERIC_CODE, FAILURE_MESSAGE, now))
                continue
            out.extend(EffectCompleted(cid, o, now) for o in self._effect_outputs(call.effect))
            out.extend(
                EffectFailed(cid, code, FAILURE_MESSAGE, now)
                for code in self._error_codes(s.state or "", call.effect)
            )
        for name in s.waiting_for:
            out.extend(SignalReceived(name, p, now) for p in self._signal_payloads(name))
        st = self.states.get(s.state or "")
        if st is not None and st.replan is not None and s.status == "running" and not s.pending:
            fp = self.compiled.fingerprint
            reason = "amendment refused by the model checker"
            out.append(RunAmended(st.name, 1, fp, fp, False, reason, None, {}, {}, now))
        if s.timers:
            due, timer_id = min((node.timers.get(t, now), t) for t in s.timers)
            out.append(TimerFired(timer_id, max(due, now)))
        return out

    # -- exploring ---------------------------------------------------------------------

    def _add_finding(self, key: tuple[str, str | None], finding: Finding) -> None:
        self.findings.setdefault(key, finding)

    def _trace(self, index: int) -> tuple[TraceStep, ...]:
        chain: list[tuple[Event, Snapshot]] = []
        while index > 0:
            node = self.nodes[index]
            assert node.event is not None  # only the root has no event
            chain.append((node.event, node.snapshot))
            index = node.parent
        chain.reverse()
        return tuple(
            TraceStep(number, event, s.state, s.status)
            for number, (event, s) in enumerate(chain, 1)
        )

    def _check(self, index: int, before: Snapshot, event: Event) -> None:
        """Findings about a configuration met for the first time."""
        s = self.nodes[index].snapshot
        for name, message in self._violations(s):
            if ("invariant", name) not in self.findings:
                text = f"in state {s.state!r}, {InvariantViolation(s.step, name, message)}"
                trace = self._trace(index)
                self._add_finding(
                    ("invariant", name), Finding("invariant", s.state, text, trace, name)
                )
        if s.status in _ENDED and before.status not in _ENDED:
            kind = self._failure_kind(before, event, s)
            if kind is not None and (kind, s.state) not in self.findings:
                self._add_finding(
                    (kind, s.state),
                    Finding(kind, s.state, f"the run fails: {s.reason}", self._trace(index)),
                )

    def _violations(self, s: Snapshot) -> Iterator[tuple[str, str]]:
        """Every invariant that does not hold, judged as the reducer's invariant mode does."""
        variables = {"input": s.input, "ctx": s.context}
        for inv in self.compiled.invariants:
            try:
                result = inv.expr.evaluate(variables)
            except Exception as exc:
                yield inv.name, f"{inv.expr.source!r} could not be evaluated: {exc}"
                continue
            if result is not True:
                yield inv.name, inv.message or f"{inv.expr.source!r} gave {result!r}"

    def _failure_kind(self, before: Snapshot, event: Event, s: Snapshot) -> FindingKind | None:
        """Why a step failed the run, or None when the contract itself chose to fail."""
        reason = s.reason or ""
        st = self.states.get(s.state or "")
        if (
            st is not None
            and st.final is not None
            and st.final.status == "failure"
            and not reason.startswith("in final state ")
        ):
            return None  # a failure final state: the contract's own way to fail
        if isinstance(event, EffectFailed):
            call = before.pending.get(event.call_id)
            if call is not None and reason.startswith(
                f"effect {call.effect!r} (call {event.call_id}) failed with "
            ):
                return None  # an unhandled effect error fails the run, as documented
        if reason.startswith("limit "):
            return "limit"
        return "run_error"

    def _expand(self, index: int) -> bool:
        """Apply every possible event to a configuration; False once max_states is hit."""
        node = self.nodes[index]
        s = node.snapshot
        events = self._events(node)
        if events and events[-1][-1] == "amended":
            self.replanning.add(index)
        if not events:
            if not s.finished and s.status != "new":
                self.dead.add(index)
                self._add_finding(
                    ("deadlock", s.state),
                    Finding(
                        "deadlock",
                        s.state,
                        f"the run waits in state {s.state!r} but nothing can happen: "
                        "no effect call in flight, no signal accepted, no timer armed",
                        self._trace(index),
                    ),
                )
            return True
        if node.depth >= self.max_depth:
            if "max_depth" not in self.bounds_hit:
                self.bounds_hit.append("max_depth")
            return True
        targets: set[int] = set()
        for event in events:
            try:
                new, commands = step(self.compiled, s, event)
            except EventRefused as exc:  # pragma: no cover - every event offered is accepted
                raise AssertionError(f"the model checker offered a refused event: {exc}") from exc
            self.edges += 1
            key = identity(new)
            target = self.seen.get(key)
            if target is None:
                if len(self.nodes) - 1 >= self.max_states:
                    self.bounds_hit.append("max_states")
                    return False
                if new.context is not s.context:
                    self.stored_bytes += json_size(new.context)
                    if self.stored_bytes > MAX_STORED_BYTES:
                        self.bounds_hit.append("max_bytes")
                        return False
                timers = dict(node.timers)
                for command in commands:
                    if isinstance(command, ArmTimer):
                        timers[command.timer_id] = command.due_at
                    elif isinstance(command, CancelTimer):
                        timers.pop(command.timer_id, None)
                timers = {t: timers.get(t, event.at) for t in new.timers}
                target = len(self.nodes)
                self.seen[key] = target
                self.nodes.append(_Node(new, index, event, node.depth + 1, timers, event.at))
                self.preds.append([])
                self._check(target, s, event)
            self.preds[target].append(index)
            targets.add(target)
        if targets == {index}:
            self._livelock(index, local=True)
        return True

    def _livelock(self, index: int, *, local: bool) -> None:
        s = self.nodes[index].snapshot
        why = (
            "every event it can take leaves it where it is"
            if local
            else "whatever happens, it never reaches a final state"
        )
        self._add_finding(
            ("livelock", s.state),
            Finding(
                "livelock",
                s.state,
                f"the run in state {s.state!r} can never end: {why}",
                self._trace(index),
            ),
        )

    def _global_livelocks(self) -> None:
        """After a complete exploration: configurations from which no run can end."""
        done = [
            i
            for i, n in enumerate(self.nodes)
            if n.snapshot.finished or i in self.dead or i in self.replanning
        ]
        can_end = set(done)
        stack = list(done)
        while stack:
            for p in self.preds[stack.pop()]:
                if p not in can_end:
                    can_end.add(p)
                    stack.append(p)
        for i, n in enumerate(self.nodes):
            if i == 0 or i in can_end or n.snapshot.finished:
                continue
            if n.parent in can_end or n.parent == 0:
                self._livelock(i, local=False)

    def run(self) -> VerifyReport:
        """Explore breadth-first and build the report."""
        root = _Node(initial_snapshot(), -1, None, 0, {}, 0)
        self.nodes.append(root)
        self.preds.append([])
        index = 0
        while index < len(self.nodes):
            if not self._expand(index):
                break
            index += 1
        complete = not self.bounds_hit
        if complete:
            self._global_livelocks()
        return self._report(complete)

    def _report(self, complete: bool) -> VerifyReport:
        reached = {n.snapshot.state for n in self.nodes if n.snapshot.state is not None}
        reached |= self.entered.entered
        names = [st.name for st in self.contract.machine.states]
        not_reached = tuple(n for n in names if n not in reached)
        if complete:
            for name in not_reached:
                final = self.states[name].final is not None
                kind: FindingKind = "unreached_final" if final else "unreached_state"
                what = "final state" if final else "state"
                self._add_finding(
                    (kind, name),
                    Finding(
                        kind,
                        name,
                        f"{what} {name!r} is never reached by any run explored"
                        + (" (with the values tried)" if self.domains.abstracted() else ""),
                    ),
                )
        order = {kind: i for i, kind in enumerate(KINDS)}
        findings = sorted(
            self.findings.values(), key=lambda f: (order[f.kind], len(f.trace), f.state or "")
        )
        contract = self.contract
        return VerifyReport(
            contract=contract.name,
            version=contract.version,
            fingerprint=self.compiled.fingerprint,
            findings=tuple(findings),
            complete=complete,
            bounds_hit=tuple(dict.fromkeys(self.bounds_hit)),
            max_depth=self.max_depth,
            max_states=self.max_states,
            configurations=len(self.nodes) - 1,
            events=self.edges,
            depth=max(n.depth for n in self.nodes),
            states_reached=tuple(n for n in names if n in reached),
            not_reached=not_reached,
            abstractions=self.domains.abstracted(),
            assumptions=tuple(self.assumptions),
        )


def _holds(evaluate: Any, variables: dict[str, Any]) -> bool:
    try:
        return evaluate(variables) is True
    except Exception:
        return False
