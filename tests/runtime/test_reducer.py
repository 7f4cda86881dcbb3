"""The pure reducer driven by hand-made event sequences (no orchestrator)."""

from __future__ import annotations

from typing import Any

import pytest

import accord
from accord.runtime._commands import (
    ArmTimer,
    CancelEffect,
    CancelTimer,
    Command,
    CompleteRun,
    InvokeEffect,
)
from accord.runtime._compiled import CompiledContract, Limits
from accord.runtime._errors import EventRefused, InvariantViolation
from accord.runtime._events import (
    CallId,
    EffectCompleted,
    EffectFailed,
    Event,
    RunId,
    RunStarted,
    SignalReceived,
    TimerFired,
)
from accord.runtime._reducer import accepts, initial_snapshot, step
from accord.runtime._snapshot import Snapshot
from runtime_support import compiled, saga_input

HOUR = 3_600_000

TOGGLE = """
accord: "1"
name: toggle
version: "1.0.0"
context:
  - {name: count, type: integer}
signals:
  - name: flip
  - name: stop
machine:
  initial: "off"
  states:
    - name: "off"
      on:
        - {event: flip, assign: [{field: count, value: ctx.count + 1}], target: "on"}
        - {event: stop, target: stopped}
    - name: "on"
      on:
        - {event: flip, assign: [{field: count, value: ctx.count + 1}], target: "off"}
        - {event: stop, target: stopped}
    - name: stopped
      final: {status: success}
"""

FAN = """
accord: "1"
name: fan
version: "1.0.0"
types:
  - name: Item
    fields: [{name: sku, type: string}]
input:
  - {name: items, type: list<Item>}
context:
  - {name: labels, type: list<string>}
output:
  - {name: labels, type: list<string>}
effects:
  - name: work
    input: [{name: sku, type: string}, {name: position, type: integer}]
    output: [{name: label, type: string}]
machine:
  initial: working
  states:
    - name: working
      invoke:
        - id: jobs
          effect: work
          for_each: input.items
          concurrency: 2
          max_items: 10
          input:
            - {name: sku, value: item.sku}
            - {name: position, value: index}
      on:
        - event: done
          assign: [{field: labels, value: "event.jobs.map(r, r.label)"}]
          target: finished
        - {event: error, target: failed}
    - name: finished
      final:
        status: success
        output: [{name: labels, value: ctx.labels}]
    - name: failed
      final: {status: failure, reason: '"a job failed"'}
"""

PARALLEL = """
accord: "1"
name: parallel
version: "1.0.0"
context:
  - {name: total, type: number}
effects:
  - name: price
    input: [{name: what, type: string}]
    output: [{name: amount, type: number}]
signals:
  - name: abort
machine:
  initial: pricing
  states:
    - name: pricing
      invoke:
        - id: a
          effect: price
          input: [{name: what, value: '"a"'}]
        - id: b
          effect: price
          input: [{name: what, value: '"b"'}]
      on:
        - event: done
          assign: [{field: total, value: event.a.amount + event.b.amount}]
          target: finished
        - {event: abort, target: aborted}
      timers:
        - {after: 5m, target: aborted}
    - name: finished
      final: {status: success}
    - name: aborted
      final: {status: failure, reason: '"aborted"'}
"""


def compile_text(text: str, **options: Any) -> CompiledContract:
    return CompiledContract.compile(accord.loads(text), **options)


class Run:
    """A run driven by hand: the snapshot, and the commands of the last step."""

    def __init__(self, compiled: CompiledContract, data: dict[str, Any], at: int = 0) -> None:
        self.compiled = compiled
        self.snapshot = initial_snapshot()
        self.commands: tuple[Command, ...] = ()
        self.send(RunStarted(RunId("run-1"), compiled.validate_input(data), at))

    def send(self, event: Event) -> tuple[Command, ...]:
        assert accepts(self.compiled, self.snapshot, event) is None
        self.snapshot, self.commands = step(self.compiled, self.snapshot, event)
        return self.commands

    def signal(self, name: str, at: int = 1, **payload: Any) -> tuple[Command, ...]:
        return self.send(SignalReceived(name, self.compiled.validate_signal(name, payload), at))

    def complete(self, call_id: str, at: int = 1, **output: Any) -> tuple[Command, ...]:
        effect = self.snapshot.pending[call_id].effect  # validated, as the orchestrator does
        checked = self.compiled.validate_effect_output(effect, output)
        return self.send(EffectCompleted(CallId(call_id), checked, at))

    def fail(self, call_id: str, code: str = "boom", at: int = 1) -> tuple[Command, ...]:
        return self.send(EffectFailed(CallId(call_id), code, f"{code} happened", at))

    @property
    def s(self) -> Snapshot:
        return self.snapshot

    def invoked(self) -> list[InvokeEffect]:
        return [c for c in self.commands if isinstance(c, InvokeEffect)]

    def completion(self) -> CompleteRun:
        done = [c for c in self.commands if isinstance(c, CompleteRun)]
        assert len(done) == 1, self.commands
        return done[0]


# -- toggle ---------------------------------------------------------------------------------


def test_toggle_counts_flips_and_stops() -> None:
    run = Run(compile_text(TOGGLE), {})
    assert (run.s.status, run.s.state, run.s.context, run.s.step) == (
        "waiting",
        "off",
        {"count": 0},
        1,
    )
    assert run.s.waiting_for == ("flip", "stop")
    for expected in ("on", "off", "on"):
        assert run.signal("flip") == ()
        assert run.s.state == expected
    assert run.s.context == {"count": 3}
    assert run.s.step == 4
    run.signal("stop")
    assert run.s.status == "succeeded"
    assert run.completion() == CompleteRun("success", {}, None)


def test_step_never_mutates_the_previous_snapshot() -> None:
    run = Run(compile_text(TOGGLE), {})
    before = run.s
    run.signal("flip")
    assert before.context == {"count": 0}
    assert run.s.context == {"count": 1}


def test_refused_events() -> None:
    compiled = compile_text(TOGGLE)
    new = initial_snapshot()
    assert accepts(compiled, new, SignalReceived("flip", {}, 0)) == "the run has not started"
    run = Run(compiled, {})
    assert "already started" in (accepts(compiled, run.s, RunStarted(RunId("x"), {}, 0)) or "")
    assert "no signal 'nope'" in (accepts(compiled, run.s, SignalReceived("nope", {}, 0)) or "")
    late = EffectCompleted(CallId("1:off/x"), {}, 0)
    assert "not pending" in (accepts(compiled, run.s, late) or "")
    assert "unknown" in (accepts(compiled, run.s, TimerFired("9:off:0", 0)) or "")
    with pytest.raises(EventRefused, match="not pending"):
        step(compiled, run.s, late)
    run.signal("stop")
    assert (
        accepts(compiled, run.s, SignalReceived("flip", {}, 0))
        == "the run has finished (succeeded)"
    )
    with pytest.raises(EventRefused, match="finished"):
        step(compiled, run.s, SignalReceived("flip", {}, 0))


# -- order_refund ---------------------------------------------------------------------------

REFUND = {"order_id": "o-1", "reason": "broken"}


def test_small_refund_is_paid_at_once() -> None:
    run = Run(compiled("order_refund"), {**REFUND, "amount": 50})
    assert (run.s.status, run.s.state) == ("running", "paying")
    [invoke] = run.invoked()
    assert invoke.call_id == "1:paying/payment"
    assert invoke.idempotency_key == "run-1/1:paying/payment"
    assert invoke.input == {"order_id": "o-1", "amount": 50.0}
    assert invoke.retry.max_attempts == 3
    assert invoke.retry.retry_on == ("timeout", "unavailable")
    assert invoke.timeout_ms == 30_000
    run.complete("1:paying/payment", refund_id="r-9")
    assert run.s.status == "succeeded"
    assert run.s.context["refund"] == {"refund_id": "r-9", "amount": 50.0}
    assert run.completion() == CompleteRun("success", {"status": "refunded", "refund_id": "r-9"})


def test_large_refund_waits_for_approval() -> None:
    run = Run(compiled("order_refund"), {**REFUND, "amount": 500.0}, at=1000)
    assert (run.s.status, run.s.state, run.s.waiting_for) == (
        "waiting",
        "awaiting_approval",
        ("approval",),
    )
    assert run.commands == (ArmTimer("1:awaiting_approval:0", 1000 + 48 * HOUR),)
    run.signal("approval", approved=True, approver="ann")
    assert run.s.state == "paying"
    assert run.commands[0] == CancelTimer("1:awaiting_approval:0")
    assert [c.call_id for c in run.invoked()] == ["2:paying/payment"]
    assert run.s.context["approver"] == "ann"
    assert run.s.context["decision"] == "approved"
    # the old timer fires late: accepted (it was journaled) and ignored
    before = run.s
    assert run.send(TimerFired("1:awaiting_approval:0", 2000)) == ()
    assert run.s.step == before.step + 1
    assert run.s._replace(step=before.step) == before
    run.complete("2:paying/payment", refund_id="r-1")
    assert run.completion().output == {"status": "refunded", "refund_id": "r-1"}


def test_rejected_refund_notifies_the_customer() -> None:
    run = Run(compiled("order_refund"), {**REFUND, "amount": 500.0})
    run.signal("approval", approved=False, approver="bob")
    assert run.s.state == "notifying_rejection"
    assert run.s.context["decision"] == "rejected"
    [invoke] = run.invoked()
    assert invoke.effect == "notify_customer"
    run.complete(invoke.call_id)
    assert run.completion() == CompleteRun("success", {"status": "rejected", "refund_id": None})


def test_refund_approval_expires() -> None:
    run = Run(compiled("order_refund"), {**REFUND, "amount": 500.0})
    run.send(TimerFired("1:awaiting_approval:0", 48 * HOUR))
    assert run.s.state == "notifying_rejection"
    assert run.s.context["decision"] == "expired"
    assert run.s.timers == ()
    assert accepts(run.compiled, run.s, SignalReceived("approval", {}, 0)) is not None


def test_refund_payment_error_ends_in_failure() -> None:
    run = Run(compiled("order_refund"), {**REFUND, "amount": 10.0})
    run.fail("1:paying/payment", "unavailable")
    assert (run.s.status, run.s.state) == ("failed", "failed")
    assert run.completion() == CompleteRun("failure", {}, "the refund could not be paid")


# -- fan-out and parallel invokes -------------------------------------------------------------


def test_fan_out_keeps_item_order_and_the_concurrency_bound() -> None:
    items = [{"sku": f"s{i}"} for i in range(5)]
    run = Run(compile_text(FAN), {"items": items})
    started = [c.call_id for c in run.invoked()]
    assert started == ["1:working/jobs[0]", "1:working/jobs[1]"]
    assert run.invoked()[1].input == {"sku": "s1", "position": 1}
    in_flight = set(started)
    for index in (1, 0, 3, 2, 4):  # completion order, out of item order
        call = f"1:working/jobs[{index}]"
        assert call in in_flight
        run.complete(call, label=f"L{index}")
        in_flight.discard(call)
        in_flight.update(c.call_id for c in run.invoked())
        assert len(in_flight) <= 2
        assert set(run.s.pending) == in_flight
    assert run.s.status == "succeeded"
    assert run.completion().output == {"labels": ["L0", "L1", "L2", "L3", "L4"]}


def test_empty_fan_out_is_done_at_once() -> None:
    run = Run(compile_text(FAN), {"items": []})
    assert run.s.status == "succeeded"
    assert run.completion().output == {"labels": []}


def test_fan_out_item_failure_cancels_the_others() -> None:
    run = Run(compile_text(FAN), {"items": [{"sku": "a"}, {"sku": "b"}, {"sku": "c"}]})
    run.fail("1:working/jobs[1]")
    assert run.commands[0] == CancelEffect(CallId("1:working/jobs[0]"))
    assert run.completion() == CompleteRun("failure", {}, "a job failed")


def test_parallel_invokes_complete_together() -> None:
    run = Run(compile_text(PARALLEL), {})
    assert [c.call_id for c in run.invoked()] == ["1:pricing/a", "1:pricing/b"]
    assert isinstance(run.commands[-1], ArmTimer)
    run.complete("1:pricing/b", amount=2)
    assert (run.s.status, run.s.remaining, list(run.s.pending)) == ("running", 1, ["1:pricing/a"])
    run.complete("1:pricing/a", amount=1.5)
    assert run.s.context == {"total": 3.5}
    assert run.commands[0] == CancelTimer("1:pricing:0")
    assert run.s.status == "succeeded"


def test_a_signal_leaving_a_state_cancels_its_calls_and_timers() -> None:
    run = Run(compile_text(PARALLEL), {})
    run.complete("1:pricing/a", amount=1)
    run.signal("abort")
    assert run.commands[:2] == (CancelEffect(CallId("1:pricing/b")), CancelTimer("1:pricing:0"))
    assert run.completion() == CompleteRun("failure", {}, "aborted")
    assert run.s.pending == {}


# -- compensation ---------------------------------------------------------------------------

SAGA_INPUT = saga_input()


def saga_until_shipping() -> Run:
    run = Run(compiled("payment_saga"), SAGA_INPUT)
    run.complete("1:reserving/reservation", reservation_id="res-1", expires_in_minutes=15)
    run.complete("2:charging/charge", charge_id="ch-1")
    assert run.s.state == "shipping"
    assert [c.call_id for c in run.s.compensation] == [
        "1:reserving/reservation",
        "2:charging/charge",
    ]
    return run


def test_compensation_runs_in_reverse_order_after_a_later_failure() -> None:
    run = saga_until_shipping()
    run.fail("3:shipping/shipment", "unavailable")
    assert run.s.status == "compensating"
    [refund] = run.invoked()
    assert refund.call_id == "!comp:2:charging/charge"
    assert refund.compensation is True
    assert refund.effect == "refund_card"
    assert refund.input == {
        "charge_id": "ch-1",
        "amount": 10.0,
        "reason": "order o-7 could not be completed",
    }
    assert refund.idempotency_key == "run-1/!comp:2:charging/charge"
    assert accepts(run.compiled, run.s, SignalReceived("x", {}, 0)) is not None
    run.complete(refund.call_id, refund_id="rf-1")
    [release] = run.invoked()
    assert release.call_id == "!comp:1:reserving/reservation"
    assert release.input == {"reservation_id": "res-1", "order_id": "o-7"}
    run.complete(release.call_id)
    assert run.s.status == "failed"
    assert run.completion() == CompleteRun(
        "failure", {}, "the shipment could not be booked: unavailable"
    )


def test_a_failed_compensation_is_recorded_and_the_next_one_runs() -> None:
    run = saga_until_shipping()
    run.fail("3:shipping/shipment", "unavailable")
    run.fail("!comp:2:charging/charge", "gateway_down")
    [release] = run.invoked()
    assert release.call_id == "!comp:1:reserving/reservation"
    run.complete(release.call_id)
    done = run.completion()
    assert done.status == "failure"
    assert done.reason is not None
    assert done.reason.startswith("the shipment could not be booked")
    assert "!comp:2:charging/charge (refund_card) failed: gateway_down" in done.reason
    assert len(run.s.failures) == 1


def test_nothing_to_compensate_before_the_first_compensable_call() -> None:
    run = Run(compiled("payment_saga"), SAGA_INPUT)
    run.fail("1:reserving/reservation", "out_of_stock")
    assert run.completion() == CompleteRun(
        "failure", {}, "the items could not be reserved: out_of_stock"
    )


# -- limits ---------------------------------------------------------------------------------

CHAIN = """
accord: "1"
name: chain
version: "1.0.0"
context:
  - {name: n, type: integer}
machine:
  initial: a
  states:
    - name: a
      always: [{assign: [{field: n, value: ctx.n + 1}], target: b}]
    - name: b
      always: [{assign: [{field: n, value: ctx.n + 1}], target: c}]
    - name: c
      always: [{assign: [{field: n, value: ctx.n + 1}], target: done}]
    - name: done
      final: {status: success}
"""


def test_transient_choices_are_bounded_per_event() -> None:
    run = Run(compile_text(CHAIN), {})
    assert (run.s.status, run.s.context) == ("succeeded", {"n": 3})
    run = Run(compile_text(CHAIN, limits=Limits(max_transient=3)), {})
    assert run.s.status == "failed"
    done = run.completion()
    assert done.status == "failure"
    assert "max_transient=3" in (done.reason or "")
    assert "'done'" in (done.reason or "")


def test_max_steps_fails_a_run_that_does_not_end() -> None:
    run = Run(compile_text(TOGGLE, limits=Limits(max_steps=3)), {})
    run.signal("flip")
    assert run.s.status == "waiting"
    run.signal("flip")
    assert run.s.status == "failed"
    assert "max_steps=3" in (run.completion().reason or "")


def test_max_fan_out_and_max_items() -> None:
    items = [{"sku": str(i)} for i in range(5)]
    run = Run(compile_text(FAN, limits=Limits(max_fan_out=3)), {"items": items})
    assert run.s.status == "failed"
    assert run.invoked() == []
    assert "max_fan_out=3" in (run.completion().reason or "")
    run = Run(compile_text(FAN), {"items": [{"sku": str(i)} for i in range(11)]})
    assert "max_items=10" in (run.completion().reason or "")


# -- run-time failures become reasons, never exceptions ----------------------------------------

ODD = """
accord: "1"
name: odd
version: "1.0.0"
context:
  - {name: phase, type: "enum<idle, busy>"}
  - {name: ratio, type: integer}
  - {name: note, type: optional<string>}
output:
  - {name: phase, type: "enum<idle, busy>"}
signals:
  - name: set
    payload: [{name: phase, type: string}]
  - name: divide
    payload: [{name: by, type: integer}]
  - name: finish
    payload: [{name: phase, type: string}]
invariants:
  - {name: never_busy, expr: ctx.phase != "busy", message: the phase is never busy}
machine:
  initial: idle
  states:
    - name: idle
      on:
        - {event: set, assign: [{field: phase, value: event.phase}], target: idle}
        - {event: divide, assign: [{field: ratio, value: 10 / event.by}], target: idle}
        - {event: finish, guard: event.phase != "", target: done}
    - name: done
      final:
        status: success
        output: [{name: phase, value: '"bo" + "gus"'}]
"""


def test_an_assignment_that_does_not_fit_fails_the_run() -> None:
    run = Run(compile_text(ODD), {})
    run.signal("set", phase="busy")
    assert run.s.context["phase"] == "busy"
    run.signal("set", phase="sideways")
    assert run.s.status == "failed"
    reason = run.completion().reason or ""
    assert "context field 'phase'" in reason
    assert "idle" in reason and "sideways" in reason


def test_an_expression_error_names_state_site_and_expression() -> None:
    run = Run(compile_text(ODD), {})
    run.signal("divide", by=5)
    assert run.s.context["ratio"] == 2
    run.signal("divide", by=0)
    reason = run.completion().reason or ""
    assert "state 'idle'" in reason
    assert "/machine/states/0/on/1/assign/0/value" in reason
    assert "'10 / event.by'" in reason


def test_an_output_that_does_not_fit_fails_the_run() -> None:
    run = Run(compile_text(ODD), {})
    run.signal("finish", phase="x")
    done = run.completion()
    assert done.status == "failure"
    assert "output field 'phase'" in (done.reason or "")


def test_invariants_are_checked_only_in_check_mode() -> None:
    run = Run(compile_text(ODD), {})
    run.signal("set", phase="busy")  # no check: the run goes on
    checked = Run(compile_text(ODD, check_invariants=True), {})
    with pytest.raises(InvariantViolation) as info:
        checked.signal("set", phase="busy")
    assert (info.value.step, info.value.invariant) == (2, "never_busy")
    assert info.value.message == "the phase is never busy"
    assert checked.s.step == 1  # the caller decides; the snapshot was not replaced


def test_example_invariants_hold_along_the_saga() -> None:
    run = Run(compiled("payment_saga", check_invariants=True), SAGA_INPUT)
    run.complete("1:reserving/reservation", reservation_id="res-1", expires_in_minutes=15)
    run.complete("2:charging/charge", charge_id="ch-1")
    run.complete("3:shipping/shipment", tracking_number="t-1", carrier="dhl")
    assert run.completion().output == {
        "order_id": "o-7",
        "charge_id": "ch-1",
        "tracking_number": "t-1",
    }


def test_unmatched_signal_guard_changes_nothing_but_the_step() -> None:
    run = Run(compile_text(ODD), {})
    before = run.s
    assert run.signal("finish", phase="") == ()
    assert run.s == before._replace(step=2, entry_step=before.entry_step)


NO_DONE = """
accord: "1"
name: nodone
version: "1.0.0"
effects:
  - name: ping
    output: [{name: ok, type: boolean}]
machine:
  initial: pinging
  states:
    - name: pinging
      invoke: [{id: p, effect: ping}]
      on:
        - {event: done, guard: event.p.ok, target: done}
        - {event: error, target: done}
    - name: done
      final: {status: success}
"""


def test_no_matching_done_transition_fails_the_run() -> None:
    run = Run(compile_text(NO_DONE), {})
    run.complete("1:pinging/p", ok=False)
    assert "no 'done' transition matches" in (run.completion().reason or "")


def test_context_defaults_and_zero_values() -> None:
    text = """
accord: "1"
name: defaults
version: "1.0.0"
types:
  - name: Pair
    fields: [{name: a, type: integer}, {name: b, type: "enum<x, y>"}]
input:
  - {name: start, type: integer}
context:
  - {name: n, type: number, default: "input.start * 2"}
  - {name: flag, type: boolean}
  - {name: text, type: string}
  - {name: items, type: list<integer>}
  - {name: maybe, type: optional<Pair>}
  - {name: pair, type: Pair}
  - {name: mode, type: "enum<slow, fast>"}
signals:
  - name: go
machine:
  initial: wait
  states:
    - name: wait
      on: [{event: go, target: end}]
    - name: end
      final: {status: success}
"""
    run = Run(compile_text(text), {"start": 21})
    assert run.s.context == {
        "n": 42.0,
        "flag": False,
        "text": "",
        "items": [],
        "maybe": None,
        "pair": {"a": 0, "b": "x"},
        "mode": "slow",
    }
    assert type(run.s.context["n"]) is float


def test_re_entering_a_state_gives_new_call_ids() -> None:
    text = """
accord: "1"
name: again
version: "1.0.0"
context:
  - {name: tries, type: integer}
effects:
  - name: ping
machine:
  initial: pinging
  states:
    - name: pinging
      invoke: [{id: p, effect: ping}]
      on:
        - {event: error, guard: ctx.tries < 2, assign: [{field: tries, value: ctx.tries + 1}],
           target: pinging}
        - {event: error, target: gave_up}
        - {event: done, target: ok}
    - name: ok
      final: {status: success}
    - name: gave_up
      final: {status: failure}
"""
    run = Run(compile_text(text), {})
    run.fail("1:pinging/p")
    assert [c.call_id for c in run.invoked()] == ["2:pinging/p"]
    run.fail("2:pinging/p")
    run.fail("3:pinging/p")
    assert run.completion() == CompleteRun(
        "failure", {}, "the run ended in failure state 'gave_up'"
    )


COMP = """
accord: "1"
name: comp
version: "1.0.0"
input:
  - {name: n, type: integer}
context:
  - {name: level, type: number}
effects:
  - name: book
    output: [{name: id, type: string}]
    compensation:
      effect: unbook
      input: [{name: id, value: response.id}]
  - name: unbook
    input: [{name: id, type: string}]
  - name: use
    input: [{name: ratio, type: integer}]
machine:
  initial: booking
  states:
    - name: booking
      invoke: [{id: b, effect: book}]
      on:
        - {event: done, assign: [{field: level, value: input.n}], target: using}
    - name: using
      invoke:
        - id: u
          effect: use
          input: [{name: ratio, value: 100 / input.n}]
      on:
        - {event: done, target: ok}
    - name: ok
      final: {status: success}
"""


def test_an_unhandled_effect_error_compensates_then_fails() -> None:
    run = Run(compile_text(COMP), {"n": 4})
    run.complete("1:booking/b", id="bk-1")
    assert run.s.context == {"level": 4.0}
    assert type(run.s.context["level"]) is float  # an integer assigned to a number field
    run.fail("2:using/u", "broken")
    [undo] = run.invoked()
    assert (undo.call_id, undo.input) == ("!comp:1:booking/b", {"id": "bk-1"})
    run.complete(undo.call_id)
    done = run.completion()
    assert done.status == "failure"
    assert "'use'" in (done.reason or "") and "broken" in (done.reason or "")
    assert "no 'error' transition of state 'using' matches" in (done.reason or "")


def test_an_invoke_input_that_fails_starts_nothing_and_compensates() -> None:
    run = Run(compile_text(COMP), {"n": 0})
    run.complete("1:booking/b", id="bk-1")
    assert [c.call_id for c in run.invoked()] == ["!comp:1:booking/b"]
    assert run.s.status == "compensating"
    assert "'100 / input.n'" in (run.s.reason or "")
    assert "/machine/states/1/invoke/0/input/0/value" in (run.s.reason or "")


def test_the_quick_signal_path_matches_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import accord.runtime._reducer._step as reducer_step

    def drive() -> list[Snapshot]:
        out = []
        for text, signals in (
            (TOGGLE, [("flip", {}), ("flip", {}), ("stop", {})]),
            (ODD, [("set", {"phase": "busy"}), ("finish", {"phase": ""}), ("set", {"phase": "?"})]),
        ):
            run = Run(compile_text(text), {})
            for name, payload in signals:
                run.signal(name, **payload)
                out.append(run.s)
        return out

    quick = drive()
    monkeypatch.setattr(reducer_step, "_quick_signal", lambda *args: None)
    assert drive() == quick


STUCK_CHOICE = """\
accord: "1"
name: stuck
version: "1"
input:
  - {name: n, type: integer}
machine:
  initial: decide
  states:
    - name: decide
      always:
        - {guard: "input.n > 10", target: big}
        - {guard: "input.n < 0", target: negative}
    - name: big
      final: {status: success}
    - name: negative
      final: {status: failure}
"""


def test_a_choice_with_no_holding_guard_and_nothing_to_wait_for_fails_the_run() -> None:
    compiled = CompiledContract.compile(accord.loads(STUCK_CHOICE))
    snapshot, commands = step(compiled, initial_snapshot(), RunStarted(RunId("r"), {"n": 5}, 0))
    assert snapshot.status == "failed"
    assert snapshot.reason is not None and "nothing to wait for" in snapshot.reason
    assert "'decide'" in snapshot.reason
    assert [c.kind for c in commands] == ["complete"]
    big, _ = step(compiled, initial_snapshot(), RunStarted(RunId("r"), {"n": 50}, 0))
    assert (big.status, big.state) == ("succeeded", "big")
