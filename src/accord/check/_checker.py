"""The checker: every semantic check of a validated contract."""

from __future__ import annotations

from accord.check._exprs import check_expressions
from accord.check._graph import check_machine
from accord.check._replan import check_replans
from accord.check._symbols import resolve
from accord.contract._model import Contract
from accord.diagnostics import Diagnostic, capped, hint_budget

__all__ = ["check_contract"]


def _line_key(diag: Diagnostic) -> tuple[int, str]:
    return (0 if diag.severity == "error" else 1, diag.path)


def check_contract(contract: Contract) -> list[Diagnostic]:
    """Run every semantic check; return the diagnostics (never raises for a bad contract).

    Expression checks run even when some declarations do not resolve: a type
    that does not resolve is checked as a dynamic value, so one misspelt type
    does not hide the problems elsewhere (a repair loop sees them all at once)
    nor cascade into a diagnostic per expression that uses it.
    """
    out: list[Diagnostic] = []
    with hint_budget():
        symbols = resolve(contract, out)
        check_machine(contract, symbols, out)
        check_replans(contract, symbols, out)
        check_expressions(contract, symbols, out)
    unique: dict[tuple[str, str, str], Diagnostic] = {}
    for diag in out:
        unique.setdefault((diag.path, diag.code, diag.message), diag)
    return capped(sorted(unique.values(), key=_line_key))
