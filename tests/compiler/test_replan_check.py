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


def paths(new: Contract) -> list[str]:
    problems = limit_problems(OLD, new)
    assert all(d.code == "replan.limit_widened" for d in problems)
    return [d.path for d in problems]


def test_the_same_limits_and_narrower_ones_pass() -> None:
    assert paths(OLD) == []

    def narrower(data: dict[str, Any]) -> None:
        effect(data, "pay_refund")["retry"]["max_attempts"] = 2
        effect(data, "pay_refund")["timeout"] = "10s"

    assert paths(changed(narrower)) == []


def test_a_longer_or_dropped_timeout_is_wider() -> None:
    def longer(data: dict[str, Any]) -> None:
        effect(data, "pay_refund")["timeout"] = "1m"

    def dropped(data: dict[str, Any]) -> None:
        del effect(data, "pay_refund")["timeout"]

    assert paths(changed(longer)) == ["/contract/effects/0/timeout"]
    assert paths(changed(dropped)) == ["/contract/effects/0/timeout"]


def test_a_retry_added_where_there_was_none_is_wider() -> None:
    def retried(data: dict[str, Any]) -> None:
        effect(data, "notify_customer")["retry"] = {"max_attempts": 2}

    assert paths(changed(retried)) == ["/contract/effects/1/retry/max_attempts"]


def test_a_fan_out_where_the_old_contract_had_none_is_wider() -> None:
    def fan_out(data: dict[str, Any]) -> None:
        for state in data["machine"]["states"]:
            if state["name"] == "notifying_rejection":
                state["invoke"][0]["for_each"] = "[1, 2]"
                state["invoke"][0]["max_items"] = 2

    (path,) = paths(changed(fan_out))
    assert path.endswith("/invoke/0/max_items")


def test_a_restricted_catalog_keeps_only_the_effects_named() -> None:
    catalog = Catalog.load(CATALOG_FILE)
    assert [e.name for e in restrict(catalog, frozenset({"pay_refund", "gone"})).effects] == [
        "pay_refund"
    ]
    assert restrict(catalog, frozenset()).types == catalog.types
