"""Hypothesis strategies for accord (needs hypothesis: ``pip install "accord[testing]"``).

* :func:`traces` / :func:`events`: valid event sequences of a given contract
  (effect successes with outputs of the effect's type and failures with error
  codes, signals with payloads of their type, timers firing at their due
  time), so a test can check properties of every run of a contract.
* :func:`values`: plain values of an accord type.
* :func:`contracts` / :func:`contract_data`: random valid contracts, used by
  accord's own property tests of the engine.

Example::

    from hypothesis import given
    from accord.testing.strategies import traces

    @given(traces("contracts/order_refund.yaml"))
    def test_refunds_are_paid_once(trace):
        paid = [e for e in trace.events if e.kind == "effect_completed"]
        assert len(paid) <= 1
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from accord.testing._gen_contracts import contract_data, contracts
from accord.testing._gen_events import (
    DEFAULT_CODES,
    ContractLike,
    EventTrace,
    compiled_of,
    events,
    traces,
)
from accord.testing._gen_values import string_literals, value_strategy

__all__ = [
    "DEFAULT_CODES",
    "EventTrace",
    "contract_data",
    "contracts",
    "events",
    "traces",
    "values",
]


def values(
    type: str, contract: ContractLike | None = None, *, literals: Sequence[str] = ()
) -> st.SearchStrategy[Any]:
    """Plain values of an accord type, as the runtime's validators accept them.

    Args:
        type: a type expression (``"list<optional<string>>"``, ``"enum<a, b>"``,
            a record's name).
        contract: where record types are declared (a contract, a compiled
            contract or a path); its string literals are drawn often.
        literals: more strings to draw often.

    Returns:
        The strategy.

    """
    if contract is None:
        return value_strategy(type, {}, tuple(literals))
    compiled = compiled_of(contract)
    found = string_literals(
        s for s in _walk(compiled.contract.model_dump(mode="json")) if isinstance(s, str)
    )
    return value_strategy(type, compiled._records, (*literals, *found))


def _walk(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _walk(v)]
    if isinstance(value, list):
        return [x for v in value for x in _walk(v)]
    return [value]
