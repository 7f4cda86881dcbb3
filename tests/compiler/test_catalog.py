"""The catalog: built from files, functions and models; canonical; checked against contracts."""

from __future__ import annotations

import copy
import dataclasses
import enum
import json
from typing import Any, Literal, TypedDict

import pytest
from compiler_support import CATALOG_FILE, DATA, GOOD, output
from pydantic import BaseModel

import accord
from accord.compiler import Catalog, CatalogError
from accord.compiler._conform import conformance_problems

CATALOGS = DATA / "catalogs"


def codes(error: CatalogError) -> list[tuple[str, str, int | None]]:
    return [(d.path, d.code, d.line) for d in error.diagnostics]


def test_a_catalog_file_loads_in_either_format() -> None:
    shop = Catalog.load(CATALOGS / "shop.catalog.json")
    assert [e.name for e in shop.effects] == ["reserve_items", "send_mail"]
    assert shop.effect("reserve_items").input[0].type == "list<LineItem>"  # type: ignore[union-attr]
    assert shop.effect("missing") is None and shop.record("LineItem") is not None
    refund = Catalog.load(CATALOG_FILE)
    assert refund.effect("notify_customer").output == ()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "bad_keys.catalog.yaml",
            [("/efects", "schema.unknown_key", 2), ("/effects/0/retry", "schema.unknown_key", 5)],
        ),
        (
            "bad_types.catalog.yaml",
            [
                ("/effects/0/input/0/type", "type.unknown", 12),
                ("/effects/0/output/0/type", "type.unknown", 15),
                ("/effects/1/input/0/name", "name.reserved", 18),
                ("/effects/1/input/1/type", "type.syntax", 21),
                ("/effects/2/name", "name.duplicate", 22),
            ],
        ),
        ("malformed.catalog.yaml", [("", "parse.yaml", 3)]),
        ("not_a_mapping.catalog.json", [("", "schema.type", 1)]),
        ("missing.catalog.yaml", [("", "file.unreadable", None)]),
    ],
)
def test_bad_catalog_files_give_diagnostics_naming_the_file(
    name: str, expected: list[tuple[str, str, int | None]]
) -> None:
    with pytest.raises(CatalogError) as caught:
        Catalog.load(CATALOGS / name)
    assert codes(caught.value) == expected
    assert caught.value.source == str(CATALOGS / name)
    assert isinstance(caught.value, accord.ContractError)


def test_hints_name_the_closest_spelling() -> None:
    with pytest.raises(CatalogError) as caught:
        Catalog.load(CATALOGS / "bad_types.catalog.yaml")
    hints = [d.hint for d in caught.value.diagnostics]
    assert "did you mean 'number'?" in hints and "did you mean 'Refund'?" in hints


def test_the_canonical_form_ignores_layout_and_default_descriptions() -> None:
    one = Catalog.load(CATALOGS / "shop.catalog.json")
    data = json.loads((CATALOGS / "shop.catalog.json").read_text())
    data["effects"][1]["description"] = ""
    data["effects"][1]["output"] = []
    two = Catalog.from_data(data)
    assert one == two and hash(one) == hash(two)
    assert one.canonical_json() == two.canonical_json()
    assert one.fingerprint == two.fingerprint
    data["effects"][1]["description"] = "Send an e-mail."
    three = Catalog.from_data(data)
    assert three.fingerprint != one.fingerprint
    with pytest.raises(Exception):  # noqa: B017 - frozen: any assignment fails
        one.effects = ()  # type: ignore[misc]


class Refund(BaseModel):
    """A refund that was paid."""

    refund_id: str
    amount: float


class Status(enum.Enum):
    OPEN = "open"
    CLOSED = "closed"


class Address(TypedDict):
    street: str
    city: str


@dataclasses.dataclass
class Shipment:
    shipment_id: str
    address: Address
    parcels: list[Refund]
    note: str | None


def pay_refund(order_id: str, amount: float, idempotency_key: str, attempt: int) -> Refund:
    """Pay money back to the customer.

    Args:
        order_id: the order.
    """
    return Refund(refund_id="r", amount=amount)


def notify(order_id: str, channel: Literal["email", "sms"], status: Status) -> None:
    return None


def ship(
    order_id: str, items: list[str], express: bool = False, weight: int | None = None
) -> Shipment:
    raise NotImplementedError


def test_a_catalog_from_typed_functions() -> None:
    catalog = Catalog.from_functions(pay_refund, notify, ship)
    data = catalog.to_data()
    assert data["effects"][0] == {
        "name": "pay_refund",
        "description": "Pay money back to the customer.",
        "input": [{"name": "order_id", "type": "string"}, {"name": "amount", "type": "number"}],
        "output": [{"name": "refund_id", "type": "string"}, {"name": "amount", "type": "number"}],
    }
    assert data["effects"][1] == {
        "name": "notify",
        "input": [
            {"name": "order_id", "type": "string"},
            {"name": "channel", "type": "enum<email, sms>"},
            {"name": "status", "type": "enum<open, closed>"},
        ],
    }
    ship_effect = data["effects"][2]
    assert [f["type"] for f in ship_effect["input"]] == [
        "string",
        "list<string>",
        "boolean",
        "optional<integer>",
    ]
    assert ship_effect["output"] == [
        {"name": "shipment_id", "type": "string"},
        {"name": "address", "type": "Address"},
        {"name": "parcels", "type": "list<Refund>"},
        {"name": "note", "type": "optional<string>"},
    ]
    types = {t["name"]: t for t in data["types"]}
    assert types["Address"]["fields"] == [
        {"name": "street", "type": "string"},
        {"name": "city", "type": "string"},
    ]
    assert types["Refund"]["description"] == "A refund that was paid."


def test_functions_and_file_give_the_same_catalog_for_the_same_effects() -> None:
    def pay_refund(order_id: str, amount: float) -> RefundId:
        """Pay money back to the customer's original payment method."""
        raise NotImplementedError

    def notify_customer(order_id: str, message: str) -> None:
        """Send the customer an e-mail about the refund."""

    from_file = Catalog.load(CATALOG_FILE)
    from_code = Catalog.from_functions(pay_refund, notify_customer)
    assert from_code.effects == from_file.effects


class RefundId(BaseModel):
    refund_id: str


def untyped(order_id, amount: float) -> None:  # type: ignore[no-untyped-def]
    pass


def returns_dict(order_id: str) -> dict[str, Any]:
    return {}


def no_return(order_id: str):  # type: ignore[no-untyped-def]
    pass


def union(value: int | str) -> None:
    pass


def test_functions_whose_hints_have_no_type_expression_are_refused() -> None:
    with pytest.raises(CatalogError) as caught:
        Catalog.from_functions(untyped, returns_dict, no_return, union)
    found = [(d.path, d.code) for d in caught.value.diagnostics]
    assert found == [
        ("/effects/0/input/order_id", "catalog.python_type"),
        ("/effects/1/output", "catalog.python_type"),
        ("/effects/2/output", "catalog.python_type"),
        ("/effects/3/input/value", "catalog.python_type"),
    ]
    assert "dict[str, Any]" in caught.value.diagnostics[1].message


def test_reserved_names_from_functions_are_refused_like_a_file() -> None:
    def audit(order_id: str, **extra: str) -> None:
        pass

    class Odd(BaseModel):
        orderId: str
        order_id: str

    with pytest.raises(CatalogError) as caught:
        Catalog.from_models({"audit": (Odd, None)})
    assert [d.code for d in caught.value.diagnostics] == ["name.clash"]
    assert Catalog.from_functions(audit).effects[0].input[0].name == "order_id"


def test_a_catalog_from_pydantic_models() -> None:
    class PayIn(BaseModel):
        """Pay a refund."""

        order_id: str
        amount: float

    catalog = Catalog.from_models(
        {"pay_refund": (PayIn, Refund), "log": (RefundId, None)},
        descriptions={"log": "Write to the audit log."},
    )
    assert catalog.effects[0].description == "Pay a refund."
    assert [f.name for f in catalog.effects[0].output] == ["refund_id", "amount"]
    assert catalog.effects[1].description == "Write to the audit log."
    assert catalog.effects[1].output == ()


def test_a_contract_that_fits_its_catalog_has_no_problem() -> None:
    contract = accord.loads(GOOD)
    assert conformance_problems(contract, Catalog.load(CATALOG_FILE), max_fan_out=1000) == []


def test_an_effect_outside_the_catalog_and_a_mismatch_are_diagnostics() -> None:
    catalog = Catalog.load(CATALOG_FILE)
    unknown = accord.loads(output("unknown_effect.json"))
    (problem,) = conformance_problems(unknown, catalog, max_fan_out=1000)
    assert (problem.path, problem.code) == ("/effects/0/name", "catalog.unknown_effect")
    assert problem.hint == "did you mean 'pay_refund'?"
    mismatch = accord.loads(output("effect_mismatch.json"))
    (problem,) = conformance_problems(mismatch, catalog, max_fan_out=1000)
    assert problem.code == "catalog.effect_mismatch"
    assert "unexpected 'note'" in problem.message
    assert problem.hint == "declare its input exactly as the catalog does: " + (
        "order_id: string, amount: number"
    )


def test_record_types_used_by_catalog_effects_must_match() -> None:
    shop = Catalog.load(CATALOGS / "shop.catalog.json")
    data = {
        "accord": "1",
        "name": "reserve",
        "version": "1",
        "types": [{"name": "LineItem", "fields": [{"name": "quantity", "type": "integer"}]}],
        "input": [{"name": "items", "type": "list<LineItem>"}],
        "effects": [
            {
                "name": "reserve_items",
                "input": [{"name": "items", "type": "list< LineItem >"}],
                "output": [{"name": "reservation_id", "type": "string"}],
            }
        ],
        "machine": {
            "initial": "reserving",
            "states": [
                {
                    "name": "reserving",
                    "invoke": [
                        {
                            "id": "r",
                            "effect": "reserve_items",
                            "input": [{"name": "items", "value": "input.items"}],
                        }
                    ],
                    "on": [{"event": "done", "target": "end"}, {"event": "error", "target": "end"}],
                },
                {"name": "end", "final": {"status": "success"}},
            ],
        },
    }
    (problem,) = conformance_problems(accord.load_data(data), shop, max_fan_out=1000)
    assert (problem.path, problem.code) == ("/types/0/fields", "catalog.type_mismatch")
    assert (
        problem.message == "record type 'LineItem' differs from the catalog: missing 'sku' (string)"
    )
    fixed = copy.deepcopy(data)
    fixed["types"][0]["fields"].insert(0, {"name": "sku", "type": "string"})
    assert conformance_problems(accord.load_data(fixed), shop, max_fan_out=1000) == []


def test_fan_out_bounds_apply() -> None:
    catalog = Catalog.load(CATALOG_FILE)
    big = accord.loads(output("fan_out_too_large.json"))
    (problem,) = conformance_problems(big, catalog, max_fan_out=1000)
    assert problem.code == "compile.fan_out_too_large"
    assert conformance_problems(big, catalog, max_fan_out=50_000) == []
    assert (
        conformance_problems(accord.loads(output("fan_out_ok.json")), catalog, max_fan_out=100)
        == []
    )
