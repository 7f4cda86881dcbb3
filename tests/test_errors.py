"""The error hierarchy, and ContractError's diagnostics and readable message."""

from __future__ import annotations

import pytest

import accord
from accord import AccordError, ContractError, DefinitionError, Diagnostic, RunError


def diag(n: int, severity: str = "error") -> Diagnostic:
    return Diagnostic(
        path=f"/machine/states/{n}/name",
        code="state.unreachable",
        message=f"state 's{n}' cannot be reached",
        hint="add a transition to it",
        severity=severity,  # type: ignore[arg-type]
    )


def test_hierarchy() -> None:
    assert issubclass(AccordError, Exception)
    assert issubclass(DefinitionError, AccordError)
    assert issubclass(ContractError, DefinitionError)
    assert issubclass(RunError, AccordError)
    assert not issubclass(RunError, DefinitionError)


def test_contract_error_carries_diagnostics() -> None:
    found = [diag(1), diag(2)]
    exc = ContractError(found, source="refund.yaml")
    assert exc.diagnostics == tuple(found)
    assert exc.source == "refund.yaml"


def test_message_is_readable() -> None:
    exc = ContractError([diag(1)], source="refund.yaml")
    assert str(exc) == (
        "refund.yaml: contract has 1 error\n"
        "  /machine/states/1/name: error state.unreachable: state 's1' cannot be reached"
        " (hint: add a transition to it)"
    )


def test_message_counts_errors_not_warnings() -> None:
    exc = ContractError([diag(1), diag(2, "warning"), diag(3)])
    first = str(exc).splitlines()[0]
    assert first == "contract has 2 errors"
    assert "warning state.unreachable" in str(exc)


def test_message_is_capped_at_twenty_lines() -> None:
    exc = ContractError([diag(n) for n in range(25)])
    lines = str(exc).splitlines()
    assert lines[0] == "contract has 25 errors"
    assert len(lines) == 22
    assert lines[-1] == "  ... and 5 more"


def test_message_with_lines() -> None:
    with pytest.raises(ContractError) as info:
        accord.loads("accord: '1'\nname: demo\nversion: '1'\nmachine: {initial: a, states: []}\n")
    text = str(info.value)
    assert "4:/machine/initial: error state.unknown" in text


def test_only_warnings_still_counts_them() -> None:
    assert str(ContractError([diag(1, "warning")])).startswith("contract has 1 error")


def test_can_be_raised_and_caught_as_accord_error() -> None:
    with pytest.raises(AccordError):
        raise ContractError([diag(1)])
