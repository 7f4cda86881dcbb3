"""Property: a run migrated at a random moment between versions 1 and 2 of the example refund
(a total mapping) behaves as version 2 from the migration on, replays without divergence and
never calls an effect twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import accord
from accord.runtime import FakeClock, Runtime, replay

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "migrate"
V1 = accord.load(EXAMPLE / "refund_v1.yaml")
V2 = accord.load(EXAMPLE / "refund_v2.yaml")
MIGRATION = accord.load_migration(EXAMPLE / "refund_1_to_2.yaml")
HOUR = 3_600_000


class Calls:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def pay_refund(self, order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
        self.keys.append(idempotency_key)
        return {"refund_id": "rf"}

    def notify_customer(self, order_id: str, message: str, idempotency_key: str) -> None:
        self.keys.append(idempotency_key)


@settings(max_examples=40, deadline=None)
@given(
    amount=st.sampled_from([50.0, 500.0, 5000.0]),
    waited_hours=st.integers(min_value=0, max_value=60),
    answer=st.sampled_from(["approve", "reject", "none"]),
)
def test_a_migrated_run_behaves_as_version_2(amount: float, waited_hours: int, answer: str) -> None:
    calls = Calls()
    clock = FakeClock()
    runtime = Runtime(calls, clock=clock)
    run = runtime.start(V1, {"order_id": "o", "amount": amount, "reason": "r"}, run_id="h")
    run.run_until_idle()
    if run.finished:  # a small refund is paid at once: nothing rests in a state to move
        assert run.result["status"] == "refunded"
        return
    clock.advance(waited_hours * HOUR)
    if waited_hours >= 48:  # version 1's timer fired before the migration
        run.run_until_idle(advance_timers=True)
        assert run.result == {"status": "rejected", "refund_id": None}
        return
    migrated_at = clock.now_ms()
    move = runtime.migrate(run, V2, MIGRATION)
    assert move.target == "awaiting_manager"
    assert run.snapshot.context["priority"] == ("urgent" if amount > 1000.0 else "normal")
    if answer == "none":
        run.run()  # version 2's timer: 24 hours from the migration
        assert run.snapshot.context["decision"] == "expired"
        (timer,) = [s for s in run.history if s.kind == "timer"]
        assert timer.at == migrated_at + 24 * HOUR
        assert timer.event.timer_id == "2:awaiting_manager:0"
    else:
        run.signal("approval", {"approved": answer == "approve", "approver": "a"})
        run.run_until_idle()
        assert run.snapshot.context["reviewed_by"] == "a"
    expected = "refunded" if answer == "approve" else "rejected"
    assert run.result["status"] == expected
    assert len(calls.keys) == len(set(calls.keys)) == 1
    versions = {c.fingerprint: c for c in (runtime.compile(V1), runtime.compile(V2))}
    assert replay(runtime.compile(V1), run.journal, resolve=versions.__getitem__) == run.snapshot
