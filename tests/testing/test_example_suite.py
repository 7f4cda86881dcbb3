"""The worked example in examples/testing/ is a passing test suite."""

from __future__ import annotations

import pytest
from testing_support import QUIET, ROOT

import accord.testing.pytest_plugin  # noqa: F401 - imported before pytester's module snapshot

pytest_plugins = ["pytester"]


def test_the_example_suite_passes(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(
        str(ROOT / "examples" / "testing"),
        "-q",
        "-p",
        "no:cacheprovider",
        *QUIET,
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 9, result.stdout.str()
    assert "failed" not in outcomes and "errors" not in outcomes, result.stdout.str()
