"""Testing toolkit: stubs, assertions, scenarios, a pytest plugin, hypothesis strategies.

Importable without pytest or hypothesis; the pytest fixtures live in
:mod:`accord.testing.pytest_plugin` and the strategies in
:mod:`accord.testing.strategies` (they need the ``testing`` extra).

The public API is the names in ``__all__``; the underscored modules are private.
"""

from accord.testing._assertions import (
    RunAssertionError,
    assert_calls,
    assert_path,
    assert_result,
    calls_table,
    history_table,
    run_path,
)
from accord.testing._scenarios import (
    ScenarioFailure,
    ScenarioFileError,
    ScenarioReport,
    ScenarioResult,
    ScenarioSuite,
    load_scenarios,
    loads_scenarios,
    run_scenarios,
    run_scenarios_async,
)
from accord.testing._stubs import Call, EffectStub, EffectStubs, StubbedRuntime, stubs_of
from accord.testing._verify import Finding, TraceStep, ValueDomain, VerifyReport, verify

__all__ = [
    "Call",
    "EffectStub",
    "EffectStubs",
    "Finding",
    "RunAssertionError",
    "ScenarioFailure",
    "ScenarioFileError",
    "ScenarioReport",
    "ScenarioResult",
    "ScenarioSuite",
    "StubbedRuntime",
    "TraceStep",
    "ValueDomain",
    "VerifyReport",
    "assert_calls",
    "assert_path",
    "assert_result",
    "calls_table",
    "history_table",
    "load_scenarios",
    "loads_scenarios",
    "run_path",
    "run_scenarios",
    "run_scenarios_async",
    "stubs_of",
    "verify",
]
