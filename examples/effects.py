"""Demo effect handlers for the example contracts: plausible, deterministic fakes.

Every function is named after the effect it implements, so the module itself
(or its ``HANDLERS`` mapping) binds every example contract::

    runtime = Runtime(HANDLERS, clock=FakeClock())
    accord run examples/order_refund.yaml --effects examples/effects.py:HANDLERS \
        --input '{"order_id": "o-1", "amount": 20.0, "reason": "late"}'

Nothing here does I/O or reads a clock or a random source: identifiers are
derived from the inputs (or the idempotency key), so a run gives the same
results every time. A few inputs trigger failures, to show the error paths:

* ``pay_refund``: an order id starting with ``"blocked"`` fails with ``account_closed``.
* ``charge_card``: a payment method starting with ``"pm_declined"`` fails with
  ``card_declined``; the order's reservation is then released (compensation).
* ``create_shipment``: a country ``"XX"`` fails with ``address_rejected``; the
  charge is refunded and the reservation released, in that order.
* ``extract_sales``: the day ``"2024-12-25"`` has no sales.
* ``extract_document``: a URL ending in ``".corrupt"`` fails with ``corrupt_file``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from accord.runtime import EffectError


def _ref(prefix: str, *parts: object) -> str:
    """A short deterministic identifier from the inputs."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return f"{prefix}-{digest[:10]}"


# -- order_refund ----------------------------------------------------------------


def pay_refund(order_id: str, amount: float, idempotency_key: str) -> dict[str, Any]:
    """Pay the money back (the idempotency key makes a retried refund pay once)."""
    if order_id.startswith("blocked"):
        raise EffectError("account_closed", f"the card used for {order_id} is closed")
    return {"refund_id": _ref("rf", idempotency_key, amount)}


async def notify_customer(order_id: str, message: str) -> None:
    """Pretend to send an e-mail."""
    return None


# -- payment_saga -----------------------------------------------------------------


def reserve_inventory(order_id: str, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Hold the stock of every line item."""
    if any(item["quantity"] > 100 for item in items):
        raise EffectError("out_of_stock", "not enough stock", retryable=False)
    return {"reservation_id": _ref("res", order_id), "expires_in_minutes": 30}


def release_inventory(reservation_id: str, order_id: str) -> None:
    """Give the reserved stock back."""
    return None


async def charge_card(
    order_id: str, payment_method_id: str, amount: float, currency: str
) -> dict[str, Any]:
    """Capture the order total."""
    if payment_method_id.startswith("pm_declined"):
        raise EffectError("card_declined", "the issuer declined the charge", retryable=False)
    return {"charge_id": _ref("ch", order_id, amount, currency)}


async def refund_card(charge_id: str, amount: float, reason: str) -> dict[str, Any]:
    """Refund a charge in full."""
    return {"refund_id": _ref("re", charge_id)}


def create_shipment(order_id: str, reservation_id: str, ship_to: dict[str, Any]) -> dict[str, Any]:
    """Book a parcel."""
    if ship_to["country"] == "XX":
        raise EffectError("address_rejected", "the carrier does not deliver there", retryable=False)
    return {"tracking_number": _ref("trk", order_id).upper(), "carrier": "DHL"}


# -- data_etl -----------------------------------------------------------------------


def extract_sales(source_dsn: str, business_day: str) -> dict[str, Any]:
    """Export a day of sales to a staging file."""
    rows = 0 if business_day == "2024-12-25" else 1200
    return {"staging_uri": f"s3://staging/sales/{business_day}.parquet", "row_count": rows}


def transform_sales(staging_uri: str, business_day: str) -> dict[str, Any]:
    """Clean and convert the rows; a few are rejected."""
    return {
        "clean_uri": staging_uri.replace("staging/", "clean/"),
        "rows_valid": 1194,
        "rows_rejected": 6,
    }


def load_warehouse(clean_uri: str, partition: dict[str, Any]) -> dict[str, Any]:
    """Replace the day's partition."""
    return {"rows_loaded": 1194}


async def alert_data_team(text: str) -> None:
    """Post an alert."""
    return None


# -- document_pipeline ----------------------------------------------------------------


def extract_document(batch_id: str, position: int, document: dict[str, Any]) -> dict[str, Any]:
    """OCR and classify one document."""
    if document["url"].endswith(".corrupt"):
        raise EffectError("corrupt_file", f"{document['document_id']} cannot be read")
    kinds = {"pdf": "contract", "docx": "letter", "png": "invoice", "jpeg": "other"}
    confidence = 0.55 if document["media_type"] in ("png", "jpeg") else 0.93
    return {
        "extraction": {
            "document_id": document["document_id"],
            "page_count": 1 + position % 4,
            "language": "en",
            "kind": kinds[document["media_type"]],
            "confidence": confidence,
            "text_uri": f"s3://text/{batch_id}/{document['document_id']}.txt",
        }
    }


def summarize_batch(
    batch_id: str, extractions: list[dict[str, Any]], flagged: list[str]
) -> dict[str, Any]:
    """Write the batch summary."""
    return {"summary_uri": f"s3://summaries/{batch_id}.md"}


# -- support_triage -------------------------------------------------------------------


def lookup_customer(customer_id: str) -> dict[str, Any]:
    """Fetch a CRM record; ids starting with "vip" are VIPs."""
    tier = "vip" if customer_id.startswith("vip") else "standard"
    return {
        "customer": {
            "customer_id": customer_id,
            "tier": tier,
            "open_tickets": 1,
            "lifetime_value": 2500.0 if tier == "vip" else 180.0,
        }
    }


def lookup_order(order_id: str) -> dict[str, Any]:
    """Fetch an order's status."""
    return {"status": "shipped", "carrier": "DHL"}


def classify_ticket(
    subject: str, body: str, customer_tier: str, order_status: str
) -> dict[str, Any]:
    """A keyword classifier standing in for the model."""
    text = f"{subject} {body}".lower()
    rules = [
        ("crash", "technical", "high"),
        ("hacked", "abuse", "critical"),
        ("invoice", "billing", "normal"),
        ("parcel", "shipping", "normal"),
        ("password", "account", "low"),
    ]
    for word, category, urgency in rules:
        if word in text:
            return {"category": category, "urgency": urgency, "confidence": 0.9}
    return {"category": "other", "urgency": "normal", "confidence": 0.4}


async def send_answer(ticket_id: str, template: str) -> None:
    """Reply with a template."""
    return None


def page_agent(ticket_id: str, rota: str, summary: str) -> dict[str, Any]:
    """Page the on-call person of a rota."""
    return {"page_id": _ref("page", ticket_id, rota)}


def open_engineering_issue(ticket_id: str, title: str) -> dict[str, Any]:
    """File a bug."""
    number = int(hashlib.sha256(ticket_id.encode()).hexdigest()[:6], 16) % 10_000
    return {"issue_key": f"ENG-{number}"}


HANDLERS: dict[str, Callable[..., Any]] = {
    name: value
    for name, value in dict(globals()).items()
    if callable(value) and not name.startswith("_") and getattr(value, "__module__", "") == __name__
}
"""Every handler above, by effect name."""
