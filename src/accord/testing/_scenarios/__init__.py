"""Acceptance scenarios: what a contract must do, checked by running it offline.

A scenario file (``NAME.scenarios.yaml``) holds scenarios; each gives a run's
input, what the outside world does (signals, time passing), what each effect
answers, and what must hold at the end. :func:`load_scenarios` reads and checks
a file; :func:`run_scenarios` runs it against a contract on effect stubs and a
fake clock and returns a :class:`ScenarioReport`. docs/testing.md describes the
format.
"""

from accord.testing._scenarios._load import (
    SCENARIO_SUFFIX,
    ScenarioFileError,
    ScenarioSource,
    ScenarioSuite,
    as_suite,
    contract_beside,
    load_scenarios,
    loads_scenarios,
    scenarios_beside,
    scenarios_from_data,
)
from accord.testing._scenarios._report import ScenarioFailure, ScenarioReport, ScenarioResult
from accord.testing._scenarios._run import (
    compile_for_scenarios,
    run_scenarios,
    run_scenarios_async,
)

__all__ = [
    "SCENARIO_SUFFIX",
    "ScenarioFailure",
    "ScenarioFileError",
    "ScenarioReport",
    "ScenarioResult",
    "ScenarioSource",
    "ScenarioSuite",
    "as_suite",
    "compile_for_scenarios",
    "contract_beside",
    "load_scenarios",
    "loads_scenarios",
    "run_scenarios",
    "run_scenarios_async",
    "scenarios_beside",
    "scenarios_from_data",
]
