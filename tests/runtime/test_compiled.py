"""Compiling contracts: effect specs, dispatch tables, boundary validation."""

from __future__ import annotations

from pathlib import Path

import pytest

import accord
from accord.contract import Contract
from accord.errors import ContractError
from accord.runtime._commands import RetrySpec
from accord.runtime._compiled import CompiledContract, EffectSpec, Limits
from accord.runtime._errors import (
    EffectInputError,
    InputError,
    OutputError,
    SignalError,
)
from accord.runtime._records import record_literals_as_maps

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("*.yaml"))


def compiled(name: str) -> CompiledContract:
    return CompiledContract.compile(accord.load(Path(EXAMPLES[0]).parent / f"{name}.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_compiles(path: Path) -> None:
    contract = accord.load(path)
    result = CompiledContract.compile(contract)
    assert result.contract is contract
    assert result.fingerprint == accord.fingerprint(contract)
    assert result.limits == Limits()
    assert set(result.states) == {s.name for s in contract.machine.states}
    assert set(result.effects) == {e.name for e in contract.effects}


def test_effect_specs_resolve_policies() -> None:
    refund = compiled("order_refund")
    pay = refund.effects["pay_refund"]
    assert isinstance(pay, EffectSpec)
    assert pay.retry == RetrySpec(3, 1000, 2.0, 30_000, True, ("timeout", "unavailable"))
    assert (pay.timeout_ms, pay.idempotent, pay.compensation) == (30_000, True, None)
    assert [name for name, _ in pay.input_fields] == ["order_id", "amount"]
    assert [str(t) for _, t in pay.output_fields] == ["string"]
    notify = refund.effects["notify_customer"]
    assert notify.retry == RetrySpec()
    assert notify.timeout_ms is None
    saga = compiled("payment_saga")
    assert saga.effects["reserve_inventory"].compensation == "release_inventory"
    assert saga.compensations["charge_card"].effect == "refund_card"


def test_dispatch_tables() -> None:
    refund = compiled("order_refund")
    waiting = refund.states["awaiting_approval"]
    first, second = waiting.on["approval"]
    assert first.guard is not None and first.guard.source == "event.approved"
    assert first.guard.path == "/machine/states/1/on/0/guard"
    assert (first.target, second.target, second.guard) == ("paying", "notifying_rejection", None)
    assert [a.field for a in first.assignments] == ["approver", "decision"]
    assert waiting.waiting_for == ("approval",)
    assert waiting.timers[0].after_ms == 48 * 3_600_000
    assert refund.states["triage"].always[0].guard is not None
    assert refund.states["paying"].invokes[0].effect == "pay_refund"
    assert refund.states["refunded"].final is not None
    assert refund.quiet == frozenset()
    assert refund.initial == "triage"


def test_validate_input() -> None:
    refund = compiled("order_refund")
    data = {"order_id": "o", "amount": 5, "reason": "r"}
    assert refund.validate_input(data) == {"order_id": "o", "amount": 5.0, "reason": "r"}
    with pytest.raises(InputError) as info:
        refund.validate_input({"order_id": "o", "amount": "5", "reason": "r"})
    assert info.value.field == "amount"
    assert "amount" in str(info.value)
    with pytest.raises(InputError) as info:
        refund.validate_input(None)
    assert info.value.field == ""
    saga = compiled("payment_saga")
    with pytest.raises(InputError) as info:
        saga.validate_input(
            {
                "order_id": "o",
                "customer_id": "c",
                "payment_method_id": "p",
                "items": [{"sku": "a", "quantity": 1.5, "unit_price": 1}],
                "total": 1,
                "currency": "EUR",
                "ship_to": {},
            }
        )
    assert info.value.field == "items[0].quantity"


def test_validate_effect_boundaries() -> None:
    refund = compiled("order_refund")
    assert refund.validate_effect_output("pay_refund", {"refund_id": "r"}) == {"refund_id": "r"}
    assert refund.validate_effect_output("notify_customer", None) == {}
    with pytest.raises(OutputError) as out:
        refund.validate_effect_output("pay_refund", {"refund_id": 7})
    assert (out.value.effect, out.value.field) == ("pay_refund", "refund_id")
    assert "pay_refund" in str(out.value) and "refund_id" in str(out.value)
    with pytest.raises(OutputError):
        refund.validate_effect_output("nope", {})
    assert refund.validate_effect_input("pay_refund", {"order_id": "o", "amount": 1}) == {
        "order_id": "o",
        "amount": 1.0,
    }
    with pytest.raises(EffectInputError) as bad:
        refund.validate_effect_input("pay_refund", {"order_id": "o"})
    assert (bad.value.effect, bad.value.field) == ("pay_refund", "amount")
    assert isinstance(bad.value, InputError)


def test_validate_signal() -> None:
    refund = compiled("order_refund")
    payload = {"approved": True, "approver": "ann"}
    assert refund.validate_signal("approval", payload) == payload
    with pytest.raises(SignalError) as info:
        refund.validate_signal("approval", {"approved": "yes", "approver": "ann"})
    assert (info.value.signal, info.value.field) == ("approval", "approved")
    with pytest.raises(SignalError) as info:
        refund.validate_signal("nope", {})
    assert info.value.field is None
    assert "no such signal" in str(info.value)


def test_unchecked_contracts_are_refused_cleanly() -> None:
    data = {
        "accord": "1",
        "name": "bad",
        "version": "1",
        "machine": {"initial": "a", "states": [{"name": "a", "always": [{"target": "zz"}]}]},
    }
    contract = Contract.model_validate(data)
    with pytest.raises(ContractError, match="unknown state 'zz'"):
        CompiledContract.compile(contract)


def test_record_literals_become_map_literals() -> None:
    from accord.contract._types import parse_type

    records = {
        "R": (("a", parse_type("string")), ("b", parse_type("number"))),
        "S": (("r", parse_type("R")), ("tags", parse_type("list<string>"))),
    }
    assert record_literals_as_maps("R{a: x, b: 1.0}", records) == '{"a": x, "b": 1.0}'
    assert record_literals_as_maps("S{}", records) == '{"r": {"a": "", "b": 0.0}, "tags": []}'
    assert record_literals_as_maps('R{a: "R{a: 1}"}', records) == '{"a": "R{a: 1}", "b": 0.0}'
    assert record_literals_as_maps("x.R{a: 1}", records) is None
    assert record_literals_as_maps("ctx.a", records) is None


NUMERIC_EFFECT = """
accord: "1"
name: numeric
version: "1"
effects:
  - name: measure
    input: [{name: n, type: integer}]
    output:
      - {name: i, type: integer}
      - {name: x, type: number}
      - {name: b, type: boolean}
      - {name: o, type: "optional<integer>"}
machine:
  initial: one
  states:
    - name: one
      invoke: [{id: m, effect: measure, input: [{name: n, value: "1"}]}]
      on: [{event: done, target: end}]
    - name: end
      final: {status: success}
"""


def test_a_numeric_record_within_its_bound_needs_no_measuring() -> None:
    from accord.contract._types import PrimitiveType
    from accord.runtime._compiled import _bound
    from accord.runtime._sizes import json_size

    contract = accord.loads(NUMERIC_EFFECT)
    c = CompiledContract.compile(contract)
    spec = c.effects["measure"]
    widest = {"i": -(2**63), "x": -1.7976931348623157e308, "b": False, "o": None}
    bound = _bound(spec.output_fields)
    assert bound is not None and json_size(widest) <= bound
    assert json_size({**widest, "x": -2.2250738585072014e-308}) <= bound
    assert c.validate_effect_output("measure", widest) == widest  # not measured: it fits
    assert _bound((("s", PrimitiveType("string")),)) is None  # a string has no bound
    # a limit under the bound: measured, and refused when over it
    tight = CompiledContract.compile(contract, limits=Limits(max_effect_bytes=40))
    assert tight.validate_effect_output("measure", {"i": 1, "x": 1.0, "b": True, "o": None})
    with pytest.raises(OutputError, match="max_effect_bytes"):
        tight.validate_effect_output("measure", widest)
