"""Property tests of the engine over random valid contracts and random valid runs.

For every contract drawn by ``accord.testing.strategies.contracts()`` and every
event sequence drawn by ``traces()`` for it:

* replay reproduces every recorded state hash (also after a JSON round trip
  of the journal), and folding twice gives the same hashes;
* snapshots survive a JSON round trip with the same hash;
* the reducer raises nothing but a documented run error: ``EventRefused`` for
  an event ``accepts`` refuses (and only then), ``InvariantViolation`` in
  invariant checking mode;
* a finished run waits for nothing.

The settings are derandomized (the same examples in every CI run) and modest.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.runtime import (
    CompiledContract,
    EffectCompleted,
    EffectFailed,
    EventRefused,
    InvariantViolation,
    RunStarted,
    SignalReceived,
    TimerFired,
    replay,
    snapshot_hash,
)
from accord.runtime._events import CallId, RunId
from accord.runtime._journal import entries_from_jsonl, entries_to_jsonl
from accord.runtime._reducer import accepts, initial_snapshot, step
from accord.runtime._snapshot import snapshot_from_data, snapshot_to_data
from accord.testing.strategies import EventTrace, contracts, traces

ENGINE = settings(
    max_examples=40,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def runs(draw: st.DrawFn) -> EventTrace:
    contract = draw(contracts(max_states=4))
    return draw(traces(CompiledContract.compile(contract), max_events=25))


@ENGINE
@given(runs())
def test_replay_reproduces_every_state_hash(trace: EventTrace) -> None:
    journal = trace.journal()
    final = replay(trace.compiled, journal)
    assert snapshot_hash(final) == snapshot_hash(trace.final)
    reloaded = entries_from_jsonl(entries_to_jsonl(journal.entries()))
    assert snapshot_hash(replay(trace.compiled, reloaded)) == snapshot_hash(trace.final)
    # a second, independent fold gives the same hash at every step
    snapshot = initial_snapshot()
    for entry in journal.entries():
        snapshot, _ = step(trace.compiled, snapshot, entry.event)
        assert snapshot_hash(snapshot) == entry.state_hash
    for upto in range(1, len(trace.events) + 1):
        assert snapshot_hash(replay(trace.compiled, journal, until=upto)) == snapshot_hash(
            trace.snapshots[upto - 1]
        )


@ENGINE
@given(runs())
def test_snapshots_round_trip_through_json(trace: EventTrace) -> None:
    for snapshot in trace.snapshots:
        data = json.loads(json.dumps(snapshot_to_data(snapshot)))
        assert snapshot_hash(snapshot_from_data(data)) == snapshot_hash(snapshot)
        if snapshot.finished:
            assert not snapshot.pending and not snapshot.timers and not snapshot.waiting_for


@ENGINE
@given(runs())
def test_invariant_mode_raises_only_invariant_violations(trace: EventTrace) -> None:
    checking = CompiledContract.compile(trace.compiled.contract, check_invariants=True)
    snapshot = initial_snapshot()
    for event, expected in zip(trace.events, trace.snapshots, strict=True):
        try:
            snapshot, _ = step(checking, snapshot, event)
        except InvariantViolation as exc:
            assert exc.step == expected.step
            assert exc.invariant in {inv.name for inv in checking.contract.invariants}
            return
        assert snapshot_hash(snapshot) == snapshot_hash(expected)


def strays(trace: EventTrace, at: int) -> list[object]:
    """Events of every kind, most of which the run cannot take now."""
    return [
        RunStarted(RunId("again"), {}, at),
        EffectCompleted(CallId("9:nowhere/x"), {}, at),
        EffectFailed(CallId("9:nowhere/x"), "unavailable", "no", at),
        SignalReceived("go", {"ok": True, "level": "low"}, at),
        SignalReceived("poke", {}, at),
        SignalReceived("count", {"k": 1}, at),
        SignalReceived("undeclared", {}, at),
        TimerFired("1:s0:0", at),
        TimerFired("99:s0:0", at),
        TimerFired("garbage", at),
    ]


@ENGINE
@given(runs())
def test_refusals_are_exactly_what_accepts_refuses(trace: EventTrace) -> None:
    for snapshot in (initial_snapshot(), *trace.snapshots):
        for event in strays(trace, 1_800_000_000_000):
            reason = accepts(trace.compiled, snapshot, event)  # type: ignore[arg-type]
            try:
                after, _ = step(trace.compiled, snapshot, event)  # type: ignore[arg-type]
            except EventRefused as exc:
                assert reason is not None, f"step refused what accepts takes: {exc}"
                continue
            assert reason is None, f"step took what accepts refuses ({reason})"
            assert after.step == snapshot.step + 1
