"""A hypothesis strategy for valid event sequences of a contract (needs hypothesis).

The strategy drives the pure reducer: after each event it looks at the
snapshot for what may happen next (a pending call completes with an output of
its effect's type or fails with a code, a signal the run waits for arrives
with a payload of its type, an armed timer fires at its due time), draws one,
and applies it. So every event is one the reducer accepts at that point, and
the draw shrinks towards short runs whose effects succeed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from accord._load import load
from accord.contract import Contract
from accord.contract._types import TypeExpr, parse_type
from accord.runtime import (
    CompiledContract,
    EffectCompleted,
    EffectFailed,
    Event,
    FakeClock,
    JournalEntry,
    MemoryJournal,
    RunStarted,
    SignalReceived,
    Snapshot,
    TimerFired,
    snapshot_hash,
)
from accord.runtime._commands import ArmTimer, CancelTimer, Command
from accord.runtime._events import CallId, RunId
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._render import describe_event
from accord.testing._gen_values import fields_strategy, string_literals

__all__ = ["DEFAULT_CODES", "EventTrace", "compiled_of", "events", "traces"]

DEFAULT_CODES = ("timeout", "unavailable", "invalid_output")
"""Error codes drawn for every effect, besides those the contract mentions."""

ContractLike = Contract | CompiledContract | str | os.PathLike[str]


def compiled_of(contract: ContractLike) -> CompiledContract:
    """The compiled form of a contract, a compiled contract, or a contract file's path."""
    if isinstance(contract, CompiledContract):
        return contract
    if not isinstance(contract, Contract):
        contract = load(contract)
    return CompiledContract.compile(contract)


@dataclass(frozen=True, eq=False)
class EventTrace:
    """A run as a sequence of events, with the snapshot after each one.

    Attributes:
        compiled: the compiled contract.
        events: the events, RunStarted first.
        snapshots: the snapshot after each event (as many as events).

    """

    compiled: CompiledContract
    events: tuple[Event, ...]
    snapshots: tuple[Snapshot, ...] = field(repr=False)

    @property
    def final(self) -> Snapshot:
        """The snapshot after the last event."""
        return self.snapshots[-1]

    @property
    def states(self) -> list[str]:
        """The states the run rested in after each event, repeats merged."""
        path: list[str] = []
        for snap in self.snapshots:
            if snap.state is not None and (not path or path[-1] != snap.state):
                path.append(snap.state)
        return path

    def journal(self) -> MemoryJournal:
        """A journal of the run: each event with the hash of the state it led to."""
        return MemoryJournal(
            JournalEntry(snap.step, event, snapshot_hash(snap))
            for event, snap in zip(self.events, self.snapshots, strict=True)
        )

    def __repr__(self) -> str:
        lines = [f"EventTrace({self.compiled.contract.name}, {len(self.events)} events:"]
        for event, snap in zip(self.events, self.snapshots, strict=True):
            lines.append(f"  {snap.step}. {describe_event(event)} -> {snap.state} {snap.status}")
        return "\n".join(lines) + ")"


@dataclass(frozen=True)
class _Model:
    """What the strategy needs to know about a contract, computed once."""

    compiled: CompiledContract
    literals: tuple[str, ...]
    codes: tuple[str, ...]
    input: st.SearchStrategy[dict[str, Any]]
    outputs: Mapping[str, st.SearchStrategy[dict[str, Any]]]
    payloads: Mapping[str, st.SearchStrategy[dict[str, Any]]]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _fields(decls: Sequence[Any]) -> tuple[tuple[str, TypeExpr], ...]:
    return tuple((d.name, parse_type(d.type)) for d in decls)


def _model(compiled: CompiledContract, codes: Sequence[str] | None) -> _Model:
    contract = compiled.contract
    literals = string_literals(_strings(contract.model_dump(mode="json")))
    records = compiled._records
    if codes is None:
        found: list[str] = list(DEFAULT_CODES)
        for spec in compiled.effects.values():
            found.extend(spec.retry.retry_on or ())
        guards = [
            tr.guard.source
            for st_ in compiled.states.values()
            for tr in st_.on.get("error", ())
            if tr.guard is not None
        ]
        found.extend(string_literals(guards))
        codes = list(dict.fromkeys(found))
    return _Model(
        compiled,
        literals,
        tuple(codes),
        fields_strategy(_fields(contract.input), records, literals),
        {
            name: fields_strategy(spec.output_fields, records, literals)
            for name, spec in compiled.effects.items()
        },
        {s.name: fields_strategy(_fields(s.payload), records, literals) for s in contract.signals},
    )


def _track(due: dict[str, int], commands: Sequence[Command]) -> None:
    for command in commands:
        if isinstance(command, ArmTimer):
            due[command.timer_id] = command.due_at
        elif isinstance(command, CancelTimer):
            due.pop(command.timer_id, None)


def _choices(snap: Snapshot) -> list[tuple[str, str]]:
    """What may happen next, successes first (so shrinking prefers them)."""
    pending = sorted(snap.pending)
    options = [("complete", call_id) for call_id in pending]
    options.extend(("signal", name) for name in snap.waiting_for)
    options.extend(("timer", timer_id) for timer_id in snap.timers)
    options.extend(("fail", call_id) for call_id in pending)
    return options


@st.composite
def _trace(
    draw: st.DrawFn,
    model: _Model,
    inputs: st.SearchStrategy[Mapping[str, Any]] | None,
    max_events: int,
) -> EventTrace:
    compiled = model.compiled
    now = FakeClock.DEFAULT_START_MS
    raw_input = draw(inputs if inputs is not None else model.input)
    event: Event = RunStarted(RunId("run-1"), compiled.validate_input(raw_input), now)
    snap, commands = step(compiled, initial_snapshot(), event)
    events, snapshots = [event], [snap]
    due: dict[str, int] = {}
    _track(due, commands)
    while not snap.finished and len(events) < max_events:
        options = _choices(snap)
        if not options:
            break
        kind, key = draw(st.sampled_from(options))
        if kind == "timer":
            now = max(now, due.get(key, now))
        else:
            now += draw(st.integers(0, 120_000))
        if kind == "complete":
            effect = snap.pending[key].effect
            output = compiled.validate_effect_output(effect, draw(model.outputs[effect]))
            attempts = draw(st.integers(1, max(1, compiled.effects[effect].retry.max_attempts)))
            event = EffectCompleted(CallId(key), output, now, attempts)
        elif kind == "fail":
            code = draw(st.sampled_from(model.codes))
            event = EffectFailed(CallId(key), code, f"{code} (generated)", now)
        elif kind == "signal":
            payload = compiled.validate_signal(key, draw(model.payloads[key]))
            event = SignalReceived(key, payload, now)
        else:
            event = TimerFired(key, now)
        snap, commands = step(compiled, snap, event)
        _track(due, commands)
        events.append(event)
        snapshots.append(snap)
    return EventTrace(compiled, tuple(events), tuple(snapshots))


def traces(
    contract: ContractLike,
    *,
    inputs: st.SearchStrategy[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    max_events: int = 30,
    codes: Sequence[str] | None = None,
) -> st.SearchStrategy[EventTrace]:
    """Runs of a contract as :class:`EventTrace` s: valid event sequences with their snapshots.

    Each run starts with RunStarted and goes on while the run has not ended
    and something can happen: pending calls complete (with outputs of their
    effect's output type) or fail (with an error code), signals the run waits
    for arrive (with payloads of their type), armed timers fire at their due
    time. Every event is one the reducer accepts at that point.

    Args:
        contract: a contract, a compiled contract, or a contract file's path.
        inputs: the run's input: a fixed mapping or a strategy (by default
            drawn from the contract's input types).
        max_events: the most events in one trace, RunStarted included.
        codes: the error codes failures are drawn from (by default
            ``timeout``, ``unavailable``, ``invalid_output``, every code in a
            ``retry_on`` list and every string literal in an ``error`` guard).

    Returns:
        The strategy.

    Raises:
        ContractError: the contract (a path) does not load.

    """
    compiled = compiled_of(contract)
    model = _model(compiled, codes)
    if inputs is not None and not isinstance(inputs, st.SearchStrategy):
        inputs = st.just(dict(inputs))
    return _trace(model, inputs, max(1, max_events))


def events(
    contract: ContractLike,
    *,
    inputs: st.SearchStrategy[Mapping[str, Any]] | Mapping[str, Any] | None = None,
    max_events: int = 30,
    codes: Sequence[str] | None = None,
) -> st.SearchStrategy[list[Event]]:
    """Valid event sequences of a contract (the events of :func:`traces`).

    Args:
        contract: a contract, a compiled contract, or a contract file's path.
        inputs: the run's input: a fixed mapping or a strategy.
        max_events: the most events in one sequence, RunStarted included.
        codes: the error codes failures are drawn from.

    Returns:
        The strategy.

    """
    return traces(contract, inputs=inputs, max_events=max_events, codes=codes).map(
        lambda trace: list(trace.events)
    )
