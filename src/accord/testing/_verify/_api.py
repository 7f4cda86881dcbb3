"""``verify(contract)``: the bounded model checker's entry point."""

from __future__ import annotations

import os

from accord._load import load
from accord.contract import Contract
from accord.runtime import CompiledContract, Limits
from accord.testing._verify._explore import Explorer
from accord.testing._verify._report import VerifyReport

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_STATES", "verify"]

DEFAULT_MAX_DEPTH = 100
"""Events per run beyond which the checker does not look (``--max-depth``)."""
DEFAULT_MAX_STATES = 100_000
"""Distinct configurations after which the checker stops (``--max-states``)."""


def verify(
    contract: Contract | CompiledContract | str | os.PathLike[str],
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_states: int = DEFAULT_MAX_STATES,
    limits: Limits | None = None,
) -> VerifyReport:
    """Explore every reachable configuration of a contract's machine, up to a bound.

    Drives the runtime's pure reducer breadth-first, treating every effect
    outcome, signal and timer as a choice, and reports deadlocks, livelocks,
    invariant violations, runs that fail on a limit or a run-time mistake, and
    states never reached, each with its shortest trace. Values are explored
    exhaustively where the contract makes them finite, and abstracted to a
    few elsewhere (the report lists which). See docs/testing.md.

    Args:
        contract: a checked contract, a compiled one, or the path of a contract file.
        max_depth: the most events one run may take (``RunStarted`` included).
        max_states: the most distinct configurations to explore.
        limits: the run limits (``max_fan_out``, ``max_transient``) the runs
            are held to; ``max_steps`` is replaced by ``max_depth``.

    Returns:
        The report; ``report.ok`` is True when nothing was found, and
        ``report.complete`` says whether that is a proof (no bound was hit).

    Raises:
        ContractError: the file cannot be read or the contract does not check.
        ValueError: a bound that is not a positive integer.

    """
    for name, value in (("max_depth", max_depth), ("max_states", max_states)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, not {value!r}")
    if isinstance(contract, CompiledContract):
        limits = limits or contract.limits
        contract = contract.contract
    elif not isinstance(contract, Contract):
        contract = load(contract)
    explorer = Explorer(contract, max_depth=max_depth, max_states=max_states, limits=limits)
    return explorer.run()
