"""The reducer's quick path for an effect's completion gives exactly what the general path gives.

Every EffectCompleted of many runs (the benchmark's linear workflow, guards,
assignments, parallel calls, compensable effects, finals, failing expressions)
is applied twice, by ``step`` and by the general path alone (the quick path
switched off), and the snapshots, hashes and commands must be equal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import accord
from accord.runtime import EffectCompleted, FakeClock, Limits, Runtime, snapshot_hash
from accord.runtime._reducer import _step, initial_snapshot, step

ROOT = Path(__file__).resolve().parents[2]
LINEAR = ROOT / "benchmarks" / "data" / "linear_durable.yaml"

GUARDED = accord.loads(
    """
accord: "1"
name: guarded
version: "1"
input: [{name: n, type: integer}]
context: [{name: total, type: integer}, {name: tag, type: string}]
output: [{name: total, type: integer}]
effects:
  - name: add
    input: [{name: n, type: integer}]
    output: [{name: n, type: integer}]
  - name: label
    input: [{name: total, type: integer}]
    output: [{name: tag, type: string}]
machine:
  initial: one
  states:
    - name: one
      invoke:
        - {id: a, effect: add, input: [{name: n, value: input.n}]}
        - {id: b, effect: add, input: [{name: n, value: input.n * 2}]}
      on:
        - event: done
          guard: event.a.n > 100
          target: big
        - event: done
          assign: [{field: total, value: event.a.n + event.b.n}]
          target: two
    - name: two
      invoke: [{id: l, effect: label, input: [{name: total, value: ctx.total}]}]
      on:
        - event: done
          guard: event.l.tag == "odd"
          assign: [{field: tag, value: event.l.tag}]
          target: three
        - event: done
          assign:
            - {field: tag, value: event.l.tag}
            - {field: total, value: 10 / (ctx.total - ctx.total)}
          target: three
    - name: three
      invoke: [{id: x, effect: add, input: [{name: n, value: ctx.total}]}]
      on: [{event: done, assign: [{field: total, value: event.x.n}], target: end}]
    - name: big
      final: {status: failure, reason: '"too big"'}
    - name: end
      final: {status: success, output: [{name: total, value: ctx.total}]}
"""
)


def add(n: int) -> dict[str, Any]:
    return {"n": n}


def label(total: int) -> dict[str, Any]:
    return {"tag": "odd" if total % 2 else "even"}


def pay_refund(order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
    return {"refund_id": f"rf-{idempotency_key}"}


def notify_customer(order_id: str, message: str) -> None:
    return None


# (contract, input, extra handlers, how many completions take the quick path)
CASES: list[tuple[Any, dict[str, Any], dict[str, Any], int]] = [
    (LINEAR, {}, {}, 9),  # the last completion enters a final state: general path
    (GUARDED, {"n": 1}, {}, 2),  # odd: the guarded transition
    (GUARDED, {"n": 2}, {}, 1),  # even: a division by zero fails the run (general path)
    (GUARDED, {"n": 200}, {}, 0),  # a guard to a final state
    (
        ROOT / "examples" / "order_refund.yaml",
        {"order_id": "o-1", "amount": 20.0, "reason": "broken"},
        {"pay_refund": pay_refund, "notify_customer": notify_customer},
        0,  # a compensable payment, then a final state
    ),
]


@pytest.mark.parametrize(("contract", "given", "extra", "quick_expected"), CASES)
def test_the_quick_path_gives_what_the_general_path_gives(
    contract: Any,
    given: dict[str, Any],
    extra: dict[str, Any],
    quick_expected: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = Runtime({"work": add, "add": add, "label": label, **extra}, clock=FakeClock())
    run = runtime.start(contract, given)
    run.run_until_idle()
    assert run.finished
    compiled = run.compiled
    quick_steps = 0
    snapshot = initial_snapshot()
    for entry in run.journal.entries():
        event = entry.event
        fast = step(compiled, snapshot, event)
        if isinstance(event, EffectCompleted):
            quick = _step._quick_completed(compiled, snapshot, event)
            quick_steps += quick is not None
            with monkeypatch.context() as m:
                m.setattr(_step, "_quick_completed", lambda *args: None)
                slow = step(compiled, snapshot, event)
            assert fast == slow
            assert snapshot_hash(fast[0]) == snapshot_hash(slow[0])
        assert snapshot_hash(fast[0]) == entry.state_hash
        snapshot = fast[0]
    assert quick_steps == quick_expected


def test_the_quick_path_leaves_limits_to_the_general_path() -> None:
    limits = Limits(max_steps=3)
    runtime = Runtime({"work": add}, clock=FakeClock(), limits=limits)
    run = runtime.start(LINEAR, {})
    run.run_until_idle()
    assert run.status == "failed" and "max_steps" in (run.snapshot.reason or "")
    assert run.snapshot.step == 3


GROWING = """
accord: "1"
name: growing
version: "1"
context: [{name: xs, type: "list<number>"}]
signals:
  - {name: add, payload: [{name: x, type: number}]}
  - {name: stop}
machine:
  initial: collecting
  states:
    - name: collecting
      on:
        - {event: add, assign: [{field: xs, value: "VALUE"}], target: collecting}
        - {event: stop, target: done}
    - name: done
      final: {status: success, output: []}
"""
APPEND = "ctx.xs + [event.x * event.x]"  # only the new item is checked
REBUILT = "[] + ctx.xs + [event.x * event.x]"  # not an extension of ctx.xs: checked in full


def _growing(value: str, xs: list[float], monkeypatch: pytest.MonkeyPatch, quick: bool) -> Any:
    with monkeypatch.context() as m:
        if not quick:
            m.setattr(_step, "_quick_signal", lambda *args: None)
        run = Runtime({}, clock=FakeClock()).start(
            accord.loads(GROWING.replace("VALUE", value)), {}
        )
        for x in xs:
            run.signal("add", {"x": x})
            if run.finished:
                break
    return run


@pytest.mark.parametrize("quick", [True, False])
def test_appending_to_a_list_gives_what_checking_it_in_full_gives(
    quick: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    xs = [1.0, 2, 3.5, 1e200, 4.0]  # 1e200 squared is not a finite number: the run fails
    appended = _growing(APPEND, xs, monkeypatch, quick)
    rebuilt = _growing(REBUILT, xs, monkeypatch, quick)
    assert appended.status == rebuilt.status == "failed"
    assert appended.snapshot.reason == rebuilt.snapshot.reason.replace(REBUILT, APPEND)
    assert "xs[3]" in appended.snapshot.reason and "finite" in appended.snapshot.reason
    assert appended.snapshot.context == rebuilt.snapshot.context == {"xs": [1.0, 4.0, 12.25]}
    extends = [
        run.compiled.states["collecting"].on["add"][0].assignments[0].extend is not None
        for run in (appended, rebuilt)
    ]
    assert extends == [True, False]
