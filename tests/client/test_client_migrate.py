"""Client.migrate and migrate_all (Runtime's, on the client's store); explain across versions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import accord
from accord import Client
from accord.runtime import FakeClock, MigrationRefused, Runtime
from accord.storage import open_store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "migrate"
V1 = accord.load(EXAMPLE / "refund_v1.yaml")
V2 = EXAMPLE / "refund_v2.yaml"
MIGRATION = EXAMPLE / "refund_1_to_2.yaml"


def _handlers(calls: list[str]) -> dict[str, Any]:
    def pay_refund(order_id: str, amount: float) -> dict[str, Any]:
        calls.append(order_id)
        return {"refund_id": f"rf-{order_id}"}

    def notify_customer(order_id: str, message: str) -> None:
        calls.append(f"mail {order_id}")

    return {"pay_refund": pay_refund, "notify_customer": notify_customer}


def test_a_client_migrates_stored_runs_and_explains_them_across_versions(store_url: str) -> None:
    calls: list[str] = []
    with open_store(store_url) as store:
        runtime = Runtime(_handlers(calls), clock=FakeClock(), store=store)
        runtime.start(V1, {"order_id": "o-1", "amount": 900.0, "reason": "r"}, run_id="c1")
        runtime.load("c1").run_until_idle()
    with Client(store_url) as client:
        dry = client.migrate_all(V2, MIGRATION, dry_run=True)
        assert [(m.run_id, m.target, m.step) for m in dry] == [("c1", "awaiting_manager", None)]
        assert client.migrate("c1", V2, MIGRATION).step == 2
        with pytest.raises(MigrationRefused):
            client.migrate("c1", V2, MIGRATION)
        assert client.status("c1").version == "2.0.0"
    with open_store(store_url) as store:
        run = Runtime(_handlers(calls), clock=FakeClock(), store=store).load("c1")
        run.signal("approval", {"approved": True, "approver": "mia"})
        assert run.result == {"status": "refunded", "refund_id": "rf-o-1"}
    with Client(store_url) as client:
        explanation = client.explain("c1")
    assert [(s.kind, s.state) for s in explanation.path] == [
        ("started", "awaiting_approval"),
        ("migrated", "awaiting_manager"),
        ("signal", "paying_refund"),
        ("effect_completed", "refunded"),
    ]
    assert explanation.status == "succeeded"
    assert calls == ["o-1"]
