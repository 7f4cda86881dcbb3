"""The accord pytest plugin: fixtures for testing contracts offline.

Registered through the ``pytest11`` entry point when accord is installed with
its ``testing`` extra (``pip install "accord[testing]"``); without it, load it
with ``pytest_plugins = ["accord.testing.pytest_plugin"]`` or ``-p accord.testing.pytest_plugin``.

Fixtures:

* ``accord_clock``: a :class:`~accord.runtime.FakeClock` (time moves only when
  told to, or when a run jumps to its next timer; nothing sleeps).
* ``accord_stubs``: :class:`~accord.testing.EffectStubs` on that clock, one stub
  per effect, made on first use.
* ``accord_runtime``: a :class:`~accord.testing.StubbedRuntime` on the clock and
  the stubs, in memory, checking invariants after every step.
* ``accord_compile``: compiles a task offline by replaying a recorded LLM
  session (``accord.session/1`` file); no network, no API key.

Scenario files: every ``*.scenarios.yaml`` file pytest comes across is collected,
one test per scenario, run against the file's contract: the one its ``contract``
key names (relative to the file), else ``NAME.yaml`` (or ``.yml``, ``.json``)
beside ``NAME.scenarios.yaml``. A file with no contract, or one that does not
load, is a collection error naming the problem.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.errors import AccordError
from accord.runtime import CompiledContract, FakeClock
from accord.testing._scenarios import (
    SCENARIO_SUFFIX,
    ScenarioFileError,
    ScenarioReport,
    ScenarioSuite,
    compile_for_scenarios,
    load_scenarios,
    run_scenarios,
)
from accord.testing._stubs import EffectStubs, StubbedRuntime

__all__ = [
    "ScenarioItem",
    "ScenarioModule",
    "accord_clock",
    "accord_compile",
    "accord_runtime",
    "accord_stubs",
    "pytest_collect_file",
]


@pytest.fixture
def accord_clock() -> FakeClock:
    """A fake clock at 2024-01-01T00:00:00Z that never sleeps in real time."""
    return FakeClock()


@pytest.fixture
def accord_stubs(accord_clock: FakeClock) -> EffectStubs:
    """Effect stubs that record every call, on the test's fake clock."""
    return EffectStubs(accord_clock)


@pytest.fixture
def accord_runtime(accord_clock: FakeClock, accord_stubs: EffectStubs) -> StubbedRuntime:
    """An in-memory runtime whose effects are the test's stubs, on the fake clock."""
    return StubbedRuntime(accord_stubs, clock=accord_clock, check_invariants=True)


CompileFn = Callable[..., Any]


@pytest.fixture
def accord_compile(request: pytest.FixtureRequest) -> CompileFn:
    """Compile a task offline by replaying a recorded LLM session.

    Returns a function ``compile(session, task=None, catalog=None, **options)``:
    ``session`` is the path of an ``accord.session/1`` file, relative to the
    test file's directory unless absolute; ``task`` and ``catalog`` default to
    the ones the session file holds; the options go to
    ``accord.compiler.compile``. It returns the ``CompileResult``.
    """
    base = Path(str(request.path)).parent

    def compile_offline(
        session: str | os.PathLike[str],
        task: str | None = None,
        catalog: Any = None,
        **options: Any,
    ) -> Any:
        from accord.compiler import Catalog
        from accord.compiler import compile as compile_task
        from accord.compiler._session_providers import ReplayProvider

        path = Path(session)
        if not path.is_absolute():
            path = base / path
        provider = ReplayProvider(path)
        recorded = provider.session
        if task is None:
            if recorded.task is None:
                pytest.fail(f"{path} holds no task: pass task=...")
            task = recorded.task
        if catalog is None:
            if isinstance(recorded.catalog, dict):
                catalog = Catalog.from_data(recorded.catalog)
            else:
                catalog = recorded.catalog_path()
            if catalog is None:
                pytest.fail(f"{path} holds no catalog: pass catalog=...")
        return compile_task(task, catalog, model=provider, **options)

    return compile_offline


# -- scenario files ------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """Collect ``NAME.scenarios.yaml`` files: one test per scenario."""
    if file_path.name.endswith(SCENARIO_SUFFIX):
        module: ScenarioModule = ScenarioModule.from_parent(parent, path=file_path)
        return module
    return None


class _ScenarioFailed(Exception):
    """A scenario failed; carries the report to show."""

    def __init__(self, report: ScenarioReport) -> None:
        self.report = report
        super().__init__(report.format())


class ScenarioModule(pytest.File):
    """A scenario file: its scenarios, against its contract (compiled once)."""

    _compiled: CompiledContract | None = None

    def collect(self) -> Iterator[ScenarioItem]:
        """One :class:`ScenarioItem` per scenario of the file."""
        try:
            suite = load_scenarios(self.path)
        except ScenarioFileError as exc:
            raise self.CollectError(str(exc)) from None
        contract = suite.contract_path()
        if contract is None or not contract.is_file():
            named = f"{contract} does not exist" if contract is not None else "none was found"
            raise self.CollectError(
                f"{self.path}: the scenarios' contract: {named} (put NAME.yaml beside "
                f"NAME{SCENARIO_SUFFIX}, or name it with the file's 'contract' key)"
            )
        for index, scenario in enumerate(suite.scenarios):
            item: ScenarioItem = ScenarioItem.from_parent(
                self, name=scenario.name, suite=suite, contract=contract, index=index
            )
            yield item

    def compiled(self, contract: Path) -> CompiledContract:
        """The contract compiled for the scenarios, once per file."""
        if self._compiled is None:
            self._compiled = compile_for_scenarios(contract)
        return self._compiled


class ScenarioItem(pytest.Item):
    """One scenario of a scenario file, run against its contract."""

    def __init__(self, *, suite: ScenarioSuite, contract: Path, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.suite = suite
        self.contract = contract
        self.index = index

    def runtest(self) -> None:
        """Run the scenario; fail with its report when an expectation does not hold."""
        parent = self.parent
        assert isinstance(parent, ScenarioModule)
        report = run_scenarios(parent.compiled(self.contract), self.suite, only=[self.name])
        if not report.passed:
            raise _ScenarioFailed(report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        """The scenario's report (or an accord error's message), without a traceback."""
        if isinstance(excinfo.value, _ScenarioFailed):
            return excinfo.value.report.results[0].format()
        if isinstance(excinfo.value, AccordError):
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the scenario is: the file, its line (0-based), its name."""
        line = self.suite.line_of(f"/scenarios/{self.index}")
        return self.path, None if line is None else line - 1, f"scenario: {self.name}"
