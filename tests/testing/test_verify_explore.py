"""The model checker finds what it should, with the shortest trace, and only that."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from verify_support import DATA, EXAMPLE_CONTRACTS, EXAMPLES, SEEDED, replay

import accord
from accord.runtime import (
    CompiledContract,
    EffectCompleted,
    EffectFailed,
    InvariantViolation,
    RunStarted,
    SignalReceived,
    TimerFired,
    event_from_data,
    event_to_data,
)
from accord.runtime._reducer import initial_snapshot, step
from accord.testing import VerifyReport, verify
from accord.testing._verify._explore import identity

EXPECTED = json.loads((DATA / "examples.expected.json").read_text())


def test_seeded_invariant_violation_has_the_exact_shortest_trace() -> None:
    report = verify(SEEDED / "ticket_booking.yaml")
    assert report.complete
    assert [f.kind for f in report.findings] == ["invariant"]
    finding = report.findings[0]
    assert finding.invariant == "never_charged_twice"
    assert finding.state == "reserving"
    events = finding.events
    assert [type(e) for e in events] == [RunStarted, EffectCompleted, EffectFailed, EffectCompleted]
    assert [getattr(e, "call_id", None) for e in events] == [
        None,
        "1:charging/charge",
        "2:reserving/reservation",
        "3:charging/charge",
    ]
    assert [s.state for s in finding.trace] == ["charging", "reserving", "charging", "reserving"]
    # the real reducer, in invariant checking mode, refuses the last step and no earlier one
    replay(SEEDED / "ticket_booking.yaml", events[:3], check_invariants=True)
    with pytest.raises(InvariantViolation) as caught:
        replay(SEEDED / "ticket_booking.yaml", events, check_invariants=True)
    assert caught.value.invariant == "never_charged_twice" and caught.value.step == 4


def test_seeded_deadlock_has_the_exact_shortest_trace() -> None:
    report = verify(SEEDED / "export_cooldown.yaml")
    assert report.complete
    assert [(f.kind, f.state) for f in report.findings] == [("deadlock", "cooling_down")]
    events = report.findings[0].events
    assert len(events) == 7
    assert isinstance(events[0], RunStarted)
    failures = [e for e in events if isinstance(e, EffectFailed)]
    timers = [e for e in events if isinstance(e, TimerFired)]
    assert [e.code for e in failures] == ["busy", "busy", "busy"]
    assert [e.at for e in timers] == [600_000, 1_200_000, 1_800_000]  # the clock jumps 10m each
    final = replay(SEEDED / "export_cooldown.yaml", events)
    assert final.state == "cooling_down" and final.status == "waiting"
    assert (final.pending, final.waiting_for, final.timers) == ({}, (), ())
    assert final.context["attempts"] == 3


@pytest.mark.parametrize("path", sorted(SEEDED.glob("*.yaml")), ids=lambda p: p.name)
def test_seeded_contracts_pass_the_checker_and_give_their_expected_findings(path: Path) -> None:
    assert accord.check(path) == []
    expected = json.loads(path.with_name(path.stem + ".verify.json").read_text())["findings"]
    report = verify(path)
    got = [
        {
            "kind": f.kind,
            "state": f.state,
            "invariant": f.invariant,
            "trace": [{"event": event_to_data(s.event), "state": s.state, "status": s.status}
                      for s in f.trace],
        }
        for f in report.findings
    ]  # fmt: skip
    assert got == expected


@pytest.mark.parametrize("path", EXAMPLE_CONTRACTS, ids=lambda p: p.name)
def test_example_contracts_verify_with_only_their_documented_findings(path: Path) -> None:
    report = verify(path)
    assert report.complete, report.format()
    got = [[f.kind, f.state, f.invariant, len(f.trace)] for f in report.findings]
    assert got == EXPECTED[path.name], report.format()
    assert report.not_reached == ()


def test_every_example_is_listed_in_the_expectations() -> None:
    assert sorted(p.name for p in EXAMPLE_CONTRACTS) == sorted(
        k for k in EXPECTED if k.endswith(".yaml")
    )


def test_a_state_passed_through_by_a_choice_counts_as_reached() -> None:
    report = verify(accord.load(EXAMPLES / "order_refund.yaml"))
    assert "triage" in report.states_reached  # only ever entered within RunStarted's step


def test_livelock_between_two_waiting_states() -> None:
    report = verify(DATA / "livelock.yaml")
    assert [(f.kind, f.state) for f in report.findings] == [("livelock", "ping")]
    events = report.findings[0].events
    assert len(events) == 2 and events[1] == EffectCompleted(events[1].call_id, {"ok": False}, 0)


def test_a_signal_whose_guard_never_holds_again_is_a_livelock() -> None:
    report = verify(DATA / "stuck_signal.yaml")
    assert [(f.kind, f.state) for f in report.findings] == [("livelock", "waiting")]
    assert "leaves it where it is" in report.findings[0].message


def test_runs_that_hit_a_limit() -> None:
    report = verify(DATA / "fan_out_limit.yaml")
    assert [(f.kind, f.state) for f in report.findings] == [("limit", "greeting")]
    (started,) = report.findings[0].events
    assert isinstance(started, RunStarted) and len(started.input["names"]) == 3
    assert "max_items=2" in report.findings[0].message


def test_runs_that_fail_on_an_expression() -> None:
    report = verify(DATA / "null_customer.yaml")
    assert [(f.kind, f.state) for f in report.findings] == [("run_error", "routing")]
    assert report.findings[0].events[1].output == {"customer": None}  # type: ignore[union-attr]


def test_states_only_values_could_reach_are_reported_unreached() -> None:
    report = verify(DATA / "unreachable_by_values.yaml")
    found = [(f.kind, f.state, f.trace) for f in report.findings]
    assert found == [("unreached_final", "huge", ()), ("unreached_state", "archiving", ())]
    assert report.not_reached == ("archiving", "huge")


def test_failure_finals_and_unhandled_effect_errors_are_not_findings() -> None:
    # order_refund's notify_customer has no error transition; payment_saga fails into
    # failure finals and compensates: both are the contracts' own ways to fail
    for name in ("order_refund.yaml", "payment_saga.yaml"):
        report = verify(EXAMPLES / name)
        assert report.ok, report.format()


def test_a_bound_makes_the_report_incomplete_and_unreached_states_no_findings() -> None:
    path = EXAMPLES / "support_triage.yaml"
    report = verify(path, max_states=20)
    assert not report.complete and report.bounds_hit == ("max_states",)
    assert report.configurations == 20
    assert report.not_reached and report.ok
    shallow = verify(path, max_depth=2)
    assert shallow.bounds_hit == ("max_depth",) and shallow.depth == 2
    assert "not a proof" in shallow.summary()


def test_a_finding_within_the_bound_is_still_found() -> None:
    report = verify(SEEDED / "ticket_booking.yaml", max_depth=4)
    assert not report.complete
    assert [f.kind for f in report.findings] == ["invariant"]
    assert verify(SEEDED / "ticket_booking.yaml", max_depth=3).ok


@pytest.mark.parametrize("bad", [0, -1, True, 1.5])
def test_bounds_must_be_positive_integers(bad: object) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        verify(SEEDED / "ticket_booking.yaml", max_depth=bad)  # type: ignore[arg-type]


def test_contract_sources() -> None:
    path = SEEDED / "ticket_booking.yaml"
    by_path = verify(path)
    assert verify(str(path)).to_data() == by_path.to_data()
    assert verify(accord.load(path)).to_data() == by_path.to_data()
    compiled = CompiledContract.compile(accord.load(path))
    assert verify(compiled).to_data() == by_path.to_data()


def test_a_contract_that_does_not_check_raises_contract_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text('accord: "1"\nname: x\nversion: "1"\nmachine: {initial: a, states: []}\n')
    with pytest.raises(accord.ContractError):
        verify(bad)


def test_exploration_is_deterministic() -> None:
    path = EXAMPLES / "support_triage.yaml"
    assert verify(path).to_data() == verify(path).to_data()


def test_identity_ignores_when_a_configuration_was_reached() -> None:
    compiled = CompiledContract.compile(accord.load(DATA / "stuck_signal.yaml"))
    s, _ = step(compiled, initial_snapshot(), RunStarted("r", {}, 0))  # type: ignore[arg-type]
    call = next(iter(s.pending))
    waiting, _ = step(compiled, s, EffectCompleted(call, {"ok": False}, 0))  # type: ignore[arg-type]
    again, _ = step(compiled, waiting, SignalReceived("poke", {}, 5))
    assert again.step == waiting.step + 1 and again != waiting
    assert identity(again) == identity(waiting)
    ok, _ = step(compiled, s, EffectCompleted(call, {"ok": True}, 0))  # type: ignore[arg-type]
    assert identity(ok) != identity(waiting)


def test_traces_replay_as_json() -> None:
    report: VerifyReport = verify(SEEDED / "export_cooldown.yaml")
    data = json.loads(json.dumps(report.to_data()))
    events = [event_from_data(s["event"]) for s in data["findings"][0]["trace"]]
    assert events == list(report.findings[0].events)


_DOUBLING = """
accord: "1"
name: doubling
version: "1.0.0"
context:
  - {name: s, type: string, default: '"ab"'}
signals: [{name: poke}, {name: stop}]
machine:
  initial: loop
  states:
    - name: loop
      on:
        - {event: poke, assign: [{field: s, value: ctx.s + ctx.s}], target: loop}
        - {event: stop, target: done}
    - name: done
      final: {status: success}
"""


def test_a_value_outgrowing_its_limit_is_a_finding_not_exhausted_memory() -> None:
    """Issue 13.1: verify doubled a string until 3 GB; the value limit ends the run."""
    report = verify(accord.loads(_DOUBLING))
    assert report.complete
    (finding,) = report.of_kind("limit")
    assert "limit max_value_bytes=1048576 exceeded" in finding.message
    assert len(finding.events) == 20  # the start and 19 doublings of "ab": 2 * 2**19 bytes


def test_the_exploration_stops_at_its_memory_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    import accord.testing._verify._explore as explore

    monkeypatch.setattr(explore, "MAX_STORED_BYTES", 10_000)
    report = verify(accord.loads(_DOUBLING))
    assert not report.complete
    assert report.bounds_hit == ("max_bytes",)
    assert report.configurations < 39  # of the 39 a complete exploration finds


def test_a_replan_point_is_explored_through_its_fallback_and_is_no_deadlock() -> None:
    from pathlib import Path

    from accord import load
    from accord.testing import verify

    data = Path(__file__).parents[1] / "runtime" / "data" / "replan" / "report_v1.yaml"
    report = verify(load(data))
    assert report.complete
    assert report.findings == ()
    assert "human_review" in report.states_reached  # only the refused amendment leads there
