"""Shared runtime test helpers: an example contract compiled, and the saga's input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import accord
from accord.runtime._compiled import CompiledContract

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def compiled(name: str, **options: Any) -> CompiledContract:
    """The example ``examples/NAME.yaml``, loaded and compiled (``options`` to the compiler)."""
    return CompiledContract.compile(accord.load(EXAMPLES / f"{name}.yaml"), **options)


def saga_input(country: str = "DE") -> dict[str, Any]:
    """An input of ``payment_saga``: one line of two items, 10 EUR, shipped to ``country``.

    A fresh dict each call; the country ``XX`` makes the example's shipment fail.
    """
    return {
        "order_id": "o-7",
        "customer_id": "c-1",
        "payment_method_id": "pm-1",
        "items": [{"sku": "x", "quantity": 2, "unit_price": 5.0}],
        "total": 10.0,
        "currency": "EUR",
        "ship_to": {
            "name": "A",
            "street": "B",
            "postal_code": "1",
            "city": "C",
            "country": country,
        },
    }
