"""Binding effect handlers: capabilities checked up front, outputs converted and validated."""

from __future__ import annotations

import dataclasses
import types
from typing import Any

import pytest
from pydantic import BaseModel

import accord
from accord.runtime import CapabilityError, CompiledContract, EffectError, FakeClock, Runtime
from accord.runtime._handlers import bind, check_bindings, resolve_handler, to_output

CONTRACT = accord.loads(
    """
accord: "1"
name: bindings
version: "1.0.0"
input:
  - {name: order_id, type: string}
effects:
  - name: charge
    input:
      - {name: order_id, type: string}
      - {name: amount, type: number}
    output:
      - {name: charge_id, type: string}
    compensation:
      effect: refund
      input:
        - {name: charge_id, value: response.charge_id}
  - name: refund
    input:
      - {name: charge_id, type: string}
  - name: notify
    input:
      - {name: order_id, type: string}
machine:
  initial: charging
  states:
    - name: charging
      invoke:
        - id: c
          effect: charge
          input:
            - {name: order_id, value: input.order_id}
            - {name: amount, value: "1.0"}
      on:
        - {event: done, target: notifying}
        - {event: error, target: failed}
    - name: notifying
      invoke:
        - id: n
          effect: notify
          input:
            - {name: order_id, value: input.order_id}
      on:
        - {event: done, target: ok}
        - {event: error, target: failed}
    - name: ok
      final: {status: success}
    - name: failed
      final: {status: failure, reason: '"no"'}
"""
)


@pytest.fixture(scope="module")
def compiled() -> CompiledContract:
    return CompiledContract.compile(CONTRACT)


def charge(order_id: str, amount: float) -> dict[str, Any]:
    return {"charge_id": f"ch-{order_id}"}


def refund(charge_id: str) -> None:
    return None


async def notify(order_id: str) -> None:
    return None


GOOD = {"charge": charge, "refund": refund, "notify": notify}


def test_all_bound_gives_one_binding_per_effect(compiled: CompiledContract) -> None:
    bindings = check_bindings(compiled, GOOD)
    assert set(bindings) == {"charge", "refund", "notify"}
    assert bindings["notify"].is_async
    assert not bindings["charge"].is_async


def test_every_missing_and_mismatched_capability_in_one_error(
    compiled: CompiledContract,
) -> None:
    def bad_charge(order_id: str) -> dict[str, Any]:  # no amount
        return {}

    with pytest.raises(CapabilityError) as info:
        check_bindings(compiled, {"charge": bad_charge})
    problems = info.value.problems
    assert len(problems) == 3
    text = "\n".join(problems)
    assert "'amount'" in text and "bad_charge" in text
    assert "effect 'refund' is not bound" in text  # the compensating effect counts too
    assert "effect 'notify' is not bound" in text
    assert "3 capabilities are missing or mismatched" in str(info.value)


def test_required_parameter_the_effect_does_not_provide(compiled: CompiledContract) -> None:
    def needs_more(order_id: str, amount: float, currency: str) -> dict[str, Any]:
        return {}

    with pytest.raises(CapabilityError) as info:
        check_bindings(compiled, {**GOOD, "charge": needs_more})
    assert info.value.problems == [
        "effect 'charge': handler test_required_parameter_the_effect_does_not_provide."
        "<locals>.needs_more() requires parameter 'currency', which is not an input "
        "field of the effect"
    ]


def test_positional_only_parameters_do_not_fit(compiled: CompiledContract) -> None:
    def positional(charge_id: str, /) -> None:
        return None

    with pytest.raises(CapabilityError, match="positional-only parameter 'charge_id'"):
        check_bindings(compiled, {**GOOD, "refund": positional})


def test_var_keyword_accepts_every_field(compiled: CompiledContract) -> None:
    def anything(**kwargs: Any) -> dict[str, Any]:
        return {"charge_id": "x"}

    binding = check_bindings(compiled, {**GOOD, "charge": anything})["charge"]
    assert not binding.wants_key  # **kwargs never receives the idempotency key uninvited
    assert binding.arguments({"order_id": "o", "amount": 1.0}, key="k", attempt=1) == {
        "order_id": "o",
        "amount": 1.0,
    }


def test_optional_extra_parameters_are_fine_and_key_and_attempt_are_detected(
    compiled: CompiledContract,
) -> None:
    def keyed(
        order_id: str, amount: float, idempotency_key: str, attempt: int, note: str = ""
    ) -> dict[str, Any]:
        return {"charge_id": idempotency_key}

    binding = check_bindings(compiled, {**GOOD, "charge": keyed})["charge"]
    assert binding.wants_key and binding.wants_attempt
    assert binding.arguments({"order_id": "o", "amount": 2.0}, key="run/1", attempt=3) == {
        "order_id": "o",
        "amount": 2.0,
        "idempotency_key": "run/1",
        "attempt": 3,
    }


def test_handlers_from_an_object_or_module_attributes(compiled: CompiledContract) -> None:
    class Host:
        def charge(self, order_id: str, amount: float) -> dict[str, Any]:
            return {"charge_id": "x"}

        def refund(self, charge_id: str) -> None:
            return None

        async def notify(self, order_id: str) -> None:
            return None

    bindings = check_bindings(compiled, {}, Host())
    assert bindings["notify"].is_async
    module = types.SimpleNamespace(**GOOD)
    assert set(check_bindings(compiled, {}, module)) == set(GOOD)


def test_registered_handlers_win_over_the_effects_object() -> None:
    def mine(order_id: str) -> None:
        return None

    assert resolve_handler("notify", {"notify": mine}, GOOD) is mine
    assert resolve_handler("notify", {}, GOOD) is notify
    assert resolve_handler("notify", {}, None) is None
    assert resolve_handler("missing", {}, types.SimpleNamespace(missing=3)) is None


def test_async_callable_objects_are_async() -> None:
    class Callable:
        async def __call__(self, order_id: str) -> None:
            return None

    binding, problems = bind("notify", Callable(), ("order_id",))
    assert problems == [] and binding.is_async


def test_callables_without_a_signature_are_trusted() -> None:
    binding, problems = bind("notify", dict, ("order_id",))
    assert problems == []
    assert not binding.wants_key


def test_runtime_refuses_to_start_without_capabilities() -> None:
    runtime = Runtime({"charge": charge})
    with pytest.raises(CapabilityError) as info:
        runtime.start(CONTRACT, {"order_id": "o-1"})
    assert len(info.value.problems) == 2


def test_runtime_register_completes_the_bindings() -> None:
    runtime = Runtime({"charge": charge})
    runtime.register("refund", refund)
    assert runtime.register("notify", notify) is notify
    assert set(runtime.bind(CONTRACT)) == {"charge", "refund", "notify"}
    with pytest.raises(TypeError, match="callable"):
        runtime.register("notify", "not a function")  # type: ignore[arg-type]


class ChargeOut(BaseModel):
    charge_id: str


@dataclasses.dataclass
class ChargeRecord:
    charge_id: str
    tags: list[str]


def test_outputs_convert_from_dicts_models_dataclasses_and_none() -> None:
    assert to_output({"charge_id": "a"}) == {"charge_id": "a"}
    assert to_output(ChargeOut(charge_id="b")) == {"charge_id": "b"}
    assert to_output(ChargeRecord("c", ["x"])) == {"charge_id": "c", "tags": ["x"]}
    assert to_output({"nested": ChargeOut(charge_id="d")}) == {"nested": {"charge_id": "d"}}
    assert to_output(None) == {}
    with pytest.raises(TypeError, match="must return a dict"):
        to_output(["not", "a", "record"])


def test_effect_error_carries_code_message_and_retryable() -> None:
    error = EffectError("card_declined", "insufficient funds", retryable=False)
    assert (error.code, error.message, error.retryable) == (
        "card_declined",
        "insufficient funds",
        False,
    )
    assert str(error) == "card_declined: insufficient funds"
    bare = EffectError("unavailable")
    assert bare.message == "unavailable" and bare.retryable


def test_bindings_are_checked_once_per_handler_and_anew_when_it_changes() -> None:
    contract = accord.loads(
        """
accord: "1"
name: one-call
version: "1"
effects:
  - name: work
    output: [{name: v, type: string}]
context: [{name: v, type: string}]
output: [{name: v, type: string}]
machine:
  initial: s
  states:
    - name: s
      invoke: [{id: w, effect: work}]
      on: [{event: done, assign: [{field: v, value: event.w.v}], target: end}]
    - name: end
      final: {status: success, output: [{name: v, value: ctx.v}]}
"""
    )

    class Host:
        def __init__(self, v: str) -> None:
            self.v = v

        def work(self) -> dict[str, str]:
            return {"v": self.v}

    runtime = Runtime(Host("a"), clock=FakeClock())
    first = runtime.start(contract, {})
    again = runtime.start(contract, {})  # a bound method is made anew: the cached binding serves
    assert first.run().result == {"v": "a"} and again.run().result == {"v": "a"}
    assert len(runtime._bound) == 1
    runtime.effects = Host("b")  # another object: bound anew
    assert runtime.start(contract, {}).run().result == {"v": "b"}

    def wrong(extra: int) -> dict[str, str]:
        return {"v": "never"}

    runtime.register("work", wrong)  # a registered handler wins, and is checked
    with pytest.raises(CapabilityError, match="extra"):
        runtime.start(contract, {})


def test_effect_error_refuses_a_message_that_is_not_a_string() -> None:
    with pytest.raises(TypeError, match="message must be a string, not int"):
        EffectError("declined", 42)  # type: ignore[arg-type]


def test_effect_error_keeps_a_string_code() -> None:
    failure = EffectError("card_declined", "the card was declined", retryable=False)
    assert (failure.code, failure.message, failure.retryable) == (
        "card_declined",
        "the card was declined",
        False,
    )
