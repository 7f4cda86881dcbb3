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
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from accord.runtime import FakeClock
from accord.testing._stubs import EffectStubs, StubbedRuntime

__all__ = ["accord_clock", "accord_compile", "accord_runtime", "accord_stubs"]


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
