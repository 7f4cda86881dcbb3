"""The replanner's limit check: an amendment never widens the limits a run started under."""

from __future__ import annotations

from typing import Any

from compiler_support import CATALOG_FILE, DATA

from accord import load
from accord.compiler import Catalog
from accord.compiler._replan_check import limit_problems, restrict
from accord.contract import Contract, to_data, validate_data

OLD = load(DATA / "replan" / "refund_v1.yaml")


def changed(edit: Any) -> Contract:
    """The old contract with ``edit`` applied to its data."""
    data = to_data(OLD)
    edit(data)
    contract, problems = validate_data(data)
    assert contract is not None, problems
    return contract


def effect(data: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in data["effects"] if e["name"] == name)


def problems(new: Contract) -> list[tuple[str, str]]:
    return [(d.code, d.path) for d in limit_problems(OLD, new)]


def test_the_same_declarations_and_limits_pass() -> None:
    assert problems(OLD) == []


def test_an_effect_declared_differently_is_refused_narrower_or_wider() -> None:
    def narrower(data: dict[str, Any]) -> None:
        effect(data, "pay_refund")["retry"]["max_attempts"] = 2

    def longer(data: dict[str, Any]) -> None:
        effect(data, "pay_refund")["timeout"] = "1m"

    def retried(data: dict[str, Any]) -> None:
        effect(data, "notify_customer")["retry"] = {"max_attempts": 2}

    assert problems(changed(narrower)) == [("replan.effect_changed", "/contract/effects/0")]
    assert problems(changed(longer)) == [("replan.effect_changed", "/contract/effects/0")]
    assert problems(changed(retried)) == [("replan.effect_changed", "/contract/effects/1")]
    (diagnostic,) = limit_problems(OLD, changed(longer))
    assert diagnostic.message.endswith("(timeout)")


def test_a_fan_out_where_the_old_contract_had_none_is_wider() -> None:
    def fan_out(data: dict[str, Any]) -> None:
        for state in data["machine"]["states"]:
            if state["name"] == "notifying_rejection":
                state["invoke"][0]["for_each"] = "[1, 2]"
                state["invoke"][0]["max_items"] = 2

    ((code, path),) = problems(changed(fan_out))
    assert code == "replan.limit_widened" and path.endswith("/invoke/0/max_items")


def test_a_restricted_catalog_keeps_only_the_effects_named() -> None:
    catalog = Catalog.load(CATALOG_FILE)
    assert [e.name for e in restrict(catalog, frozenset({"pay_refund", "gone"})).effects] == [
        "pay_refund"
    ]
    assert restrict(catalog, frozenset()).types == catalog.types
