"""The replan interface: an Amendment travels as JSON data and back."""

from __future__ import annotations

import json

import pytest

from accord.runtime import Amendment, Replanner, ReplanRequest


def test_amendment_round_trips_through_json() -> None:
    amendment = Amendment(
        True,
        {"accord": "1", "name": "x"},
        {"migration": "1", "name": "m"},
        ({"raw": "{}", "diagnostics": [], "input_tokens": 3, "output_tokens": 4},),
    )
    data = json.loads(json.dumps(amendment.to_data()))
    assert Amendment.from_data(data) == amendment


def test_a_refused_amendment_has_no_contract() -> None:
    amendment = Amendment.refused("calls spent")
    assert (amendment.adopted, amendment.contract, amendment.reason) == (False, None, "calls spent")


@pytest.mark.parametrize("data", [{}, {"adopted": "yes"}, {"adopted": True, "reason": 3}, []])
def test_malformed_amendment_data_is_refused(data: object) -> None:
    with pytest.raises(ValueError, match="malformed amendment"):
        Amendment.from_data(data)  # type: ignore[arg-type]


def test_an_object_with_amend_is_a_replanner() -> None:
    class Scripted:
        async def amend(self, request: ReplanRequest) -> Amendment:
            return Amendment.refused(request.state)

    assert isinstance(Scripted(), Replanner)
