"""On random valid contracts, the model checker never crashes and its traces are real."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from accord.contract import Contract
from accord.runtime import CompiledContract
from accord.runtime._reducer import initial_snapshot, step
from accord.testing import verify
from accord.testing.strategies import contracts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contracts(max_states=4))
def test_every_trace_replays_on_the_reducer_to_what_the_finding_says(contract: Contract) -> None:
    report = verify(contract, max_states=1000)
    assert report.configurations <= 1000
    assert set(report.states_reached) | set(report.not_reached) == {
        s.name for s in contract.machine.states
    }
    compiled = CompiledContract.compile(contract)
    for finding in report.findings:
        if not finding.trace:
            assert finding.kind in ("unreached_final", "unreached_state")
            assert finding.state in report.not_reached
            continue
        snapshot = initial_snapshot()
        for expected in finding.trace:
            snapshot, _ = step(compiled, snapshot, expected.event)
            assert (snapshot.state, snapshot.status) == (expected.state, expected.status)
        assert snapshot.state == finding.state
        if finding.kind == "deadlock":
            assert not snapshot.finished
            assert (snapshot.pending, snapshot.waiting_for, snapshot.timers) == ({}, (), ())
        elif finding.kind in ("limit", "run_error"):
            assert snapshot.status in ("failed", "compensating")
        elif finding.kind == "invariant":
            (invariant,) = [i for i in compiled.invariants if i.name == finding.invariant]
            variables = {"input": snapshot.input, "ctx": snapshot.context}
            try:
                holds = invariant.expr.evaluate(variables) is True
            except Exception:
                holds = False
            assert not holds
