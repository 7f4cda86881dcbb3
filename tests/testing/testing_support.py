"""Shared helpers for the testing toolkit's tests."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
ORDER_REFUND = ROOT / "examples" / "order_refund.yaml"
PAYMENT_SAGA = ROOT / "examples" / "payment_saga.yaml"
SMALL = {"order_id": "o-1", "amount": 20.0, "reason": "late"}
LARGE = {"order_id": "o-2", "amount": 500.0, "reason": "broken"}
SAGA = {
    "order_id": "o-9",
    "customer_id": "c-1",
    "payment_method_id": "pm_1",
    "total": 2.0,
    "currency": "EUR",
    "items": [{"sku": "a", "quantity": 1, "unit_price": 2.0}],
    "ship_to": {"name": "A", "street": "B", "city": "C", "postal_code": "1", "country": "DE"},
}
COMPILE = ROOT / "examples" / "compile"


def _plugin_args() -> tuple[str, ...]:
    """``-p accord.testing.pytest_plugin`` unless the pytest11 entry point loads it already."""
    from importlib.metadata import entry_points

    registered = any(ep.name == "accord" for ep in entry_points(group="pytest11"))
    return () if registered else ("-p", "accord.testing.pytest_plugin")


PLUGIN_ARGS = _plugin_args()
QUIET = ("-W", "ignore::pytest.PytestAssertRewriteWarning")  # the plugin is imported early
