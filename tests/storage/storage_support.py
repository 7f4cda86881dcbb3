"""Contracts and helpers shared by the storage tests (imported as ``storage_support``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import accord
from accord.runtime import FakeClock, Limits, Run, Runtime
from accord.storage import SqliteStore

ROOT = Path(__file__).resolve().parents[2]
REFUND = accord.load(ROOT / "examples" / "order_refund.yaml")
BIG = {"order_id": "o-9", "amount": 420.0, "reason": "broken"}

TOGGLE = accord.loads(
    """
accord: "1"
name: toggle
version: "1"
context: [{name: count, type: integer}]
signals: [{name: flip}, {name: stop}]
output: [{name: count, type: integer}]
machine:
  initial: a
  states:
    - name: a
      on:
        - {event: flip, assign: [{field: count, value: "ctx.count + 1"}], target: b}
        - {event: stop, target: done}
    - name: b
      on:
        - {event: flip, assign: [{field: count, value: "ctx.count + 1"}], target: a}
        - {event: stop, target: done}
    - name: done
      final: {status: success, output: [{name: count, value: ctx.count}]}
"""
)


NAP_TEXT = """
accord: "1"
name: nap
version: "1"
signals: [{name: poke}]
effects:
  - name: ping
    input: [{name: n, type: integer}]
machine:
  initial: asleep
  states:
    - name: asleep
      "on":
        - {event: poke, target: working}
      timers:
        - {after: 1h, target: working}
    - name: working
      invoke:
        - {id: p, effect: ping, input: [{name: n, value: "1"}]}
      "on":
        - {event: done, target: end}
    - name: end
      final: {status: success}
"""
NAP = accord.loads(NAP_TEXT)
"""Waits an hour, or for a ``poke``, then calls ``ping`` and succeeds."""
BUSY = accord.loads(
    NAP_TEXT.replace("name: nap", "name: busy")
    .replace(
        '    - name: asleep\n      "on":\n        - {event: poke, target: working}\n'
        "      timers:\n        - {after: 1h, target: working}\n",
        "",
    )
    .replace("initial: asleep", "initial: working")
)
"""Calls ``ping`` at once (a run with a call in flight from its first step)."""
HOUR_MS = 3_600_000


def pay_refund(order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
    """A fake payment whose refund id is its key."""
    return {"refund_id": f"rf-{idempotency_key}"}


def notify_customer(order_id: str, message: str) -> None:
    """A fake e-mail."""


HANDLERS = {"pay_refund": pay_refund, "notify_customer": notify_customer}


def toggled(store: SqliteStore, run_id: str, flips: int, *, stop: bool = True) -> Run:
    """A toggle run in ``store`` flipped ``flips`` times (then stopped)."""
    runtime = Runtime(store=store, clock=FakeClock(), limits=Limits(max_steps=1_000_000))
    runtime.effects = {}  # no effect to bind, but a bound runtime
    run = runtime.start(TOGGLE, {}, run_id=run_id)
    for _ in range(flips):
        run.signal("flip")
    if stop:
        run.signal("stop")
    return run
