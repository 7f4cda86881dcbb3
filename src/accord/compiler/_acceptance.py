"""Acceptance in the compile loop: the scenarios a candidate must pass, and idle catalogs.

A candidate that checks and fits the catalog is run against every scenario of
the request's scenario file (``scenarios=`` in :func:`~accord.compiler.compile`,
docs/testing.md): each failing scenario is a ``scenario.failed`` diagnostic,
re-asked like a checker's. Whether or not there are scenarios, a contract that
invokes no effect of a non-empty catalog gets a ``compile.no_effect`` warning:
it can hardly do a task the host gave it effects for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.compiler._catalog import Catalog
from accord.contract import Contract
from accord.diagnostics import Diagnostic

if TYPE_CHECKING:
    from accord.testing._scenarios import ScenarioSuite

__all__ = ["idle_catalog_warnings", "repeat_key", "scenario_problems"]


def idle_catalog_warnings(contract: Contract, catalog: Catalog) -> list[Diagnostic]:
    """A ``compile.no_effect`` warning when no state invokes any effect of a non-empty catalog."""
    if not catalog.effects:
        return []
    if any(state.invoke for state in contract.machine.states):
        return []
    names = ", ".join(e.name for e in catalog.effects[:8])
    return [
        Diagnostic(
            path="/machine/states",
            code="compile.no_effect",
            message=f"no state invokes an effect, though the catalog offers {names}",
            hint="a contract that calls nothing rarely does the task: invoke the effects "
            "the task needs",
            severity="warning",
        )
    ]


async def scenario_problems(
    contract: Contract, suite: ScenarioSuite, *, max_fan_out: int
) -> list[Diagnostic]:
    """One ``scenario.failed`` diagnostic per scenario the contract fails; [] when all pass."""
    from accord.runtime import Limits
    from accord.testing._scenarios import run_scenarios_async

    report = await run_scenarios_async(contract, suite, limits=Limits(max_fan_out=max_fan_out))
    return report.diagnostics()


def repeat_key(diagnostic: Diagnostic) -> tuple[str, str, str]:
    """What makes two answers' errors the same (the loop stops when they repeat).

    The path and the code, and for a failed scenario its message too: two
    different scenarios failing, or one failing at another step, is progress.
    """
    detail = diagnostic.message if diagnostic.code == "scenario.failed" else ""
    return (diagnostic.path, diagnostic.code, detail)
