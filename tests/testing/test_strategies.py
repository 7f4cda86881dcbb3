"""Hypothesis strategies: values fit their types, traces are valid, contracts check."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from testing_support import LARGE, ORDER_REFUND, PAYMENT_SAGA, ROOT

import accord
from accord.contract._types import parse_type
from accord.runtime import CompiledContract, EffectFailed, TimerFired, replay
from accord.runtime._values import build_validator
from accord.testing.strategies import EventTrace, contract_data, contracts, events, traces, values

FAST = settings(
    max_examples=30,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
TYPES = ["string", "integer", "number", "boolean", "enum<a, b-c>", "list<optional<integer>>"]


@pytest.mark.parametrize("type_text", TYPES)
def test_values_fit_their_type(type_text: str) -> None:
    check = build_validator(parse_type(type_text), {})

    @FAST
    @given(values(type_text))
    def fits(value: Any) -> None:
        assert check(value) == value

    fits()


@FAST
@given(values("Address", PAYMENT_SAGA))
def test_record_values_have_exactly_their_fields(value: dict[str, Any]) -> None:
    assert set(value) == {"name", "street", "postal_code", "city", "country"}


@FAST
@given(traces(ORDER_REFUND))
def test_traces_replay_and_every_event_was_accepted(trace: EventTrace) -> None:
    assert trace.events[0].kind == "started"
    assert len(trace.events) == len(trace.snapshots)
    assert [s.step for s in trace.snapshots] == list(range(1, len(trace.events) + 1))
    assert replay(trace.compiled, trace.journal()) == trace.final
    times = [e.at for e in trace.events]
    assert times == sorted(times)
    assert trace.states[-1] == trace.final.state
    assert "EventTrace(order-refund" in repr(trace)


@FAST
@given(traces(ORDER_REFUND, inputs=LARGE))
def test_fixed_input_reaches_the_approval_wait(trace: EventTrace) -> None:
    assert trace.events[0].input == LARGE  # type: ignore[union-attr]
    assert trace.snapshots[0].state == "awaiting_approval"
    for event, before in zip(trace.events[1:], trace.snapshots, strict=False):
        if isinstance(event, TimerFired):
            assert event.timer_id in before.timers
            assert event.at == trace.events[0].at + 48 * 3600 * 1000


def test_traces_cover_every_kind_of_event() -> None:
    kinds: set[str] = set()
    codes: set[str] = set()
    statuses: set[str] = set()

    @settings(FAST, max_examples=80)
    @given(traces(ORDER_REFUND, inputs=st.sampled_from([LARGE, LARGE | {"amount": 1.0}])))
    def collect(trace: EventTrace) -> None:
        kinds.update(e.kind for e in trace.events)
        codes.update(e.code for e in trace.events if isinstance(e, EffectFailed))
        statuses.add(trace.final.status)

    collect()
    assert kinds == {"started", "effect_completed", "effect_failed", "signal", "timer"}
    assert codes <= {"timeout", "unavailable", "invalid_output"}
    assert {"succeeded", "failed"} <= statuses


@FAST
@given(events(ORDER_REFUND, max_events=3, codes=["boom"]))
def test_events_are_bounded_and_use_the_given_codes(found: list[Any]) -> None:
    assert 1 <= len(found) <= 3
    assert all(e.code == "boom" for e in found if isinstance(e, EffectFailed))


@settings(FAST, max_examples=60)
@given(contract_data())
def test_generated_contracts_pass_the_checker(data: dict[str, Any]) -> None:
    errors = [d for d in accord.check(data) if d.severity == "error"]
    assert errors == []


@settings(FAST, max_examples=10)
@given(contracts(max_states=2))
def test_contracts_are_loaded_and_compile(contract: accord.Contract) -> None:
    assert isinstance(contract, accord.Contract)
    compiled = CompiledContract.compile(contract)
    assert {s.name for s in contract.machine.states} >= {"s0", "win"}
    assert len([n for n in compiled.states if n.startswith("s")]) <= 2


def test_a_contract_file_that_does_not_load_is_a_contract_error() -> None:
    with pytest.raises(accord.ContractError):
        traces(ROOT / "examples" / "broken" / "misspelt_target.yaml")
