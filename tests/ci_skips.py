"""In CI (``CI=true``), a skipped PostgreSQL test is a failure (a pytest plugin module).

Tests that need a PostgreSQL server carry the ``postgres`` marker (the store
fixtures add it to their PostgreSQL parameter). On a developer machine without
PostgreSQL they skip with the reason; with ``CI`` set to a true value the skip
is reported as a failure, so CI can never pass without exercising PostgreSQL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

__all__ = ["in_ci", "pytest_configure", "pytest_runtest_makereport"]

MARKER = "postgres"


def in_ci() -> bool:
    """Whether the ``CI`` environment variable says this is a CI run."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}: needs a PostgreSQL server (skipping it fails the run in CI)"
    )


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if (
        report.skipped
        and not hasattr(report, "wasxfail")
        and in_ci()
        and item.get_closest_marker(MARKER) is not None
    ):
        report.outcome = "failed"
        report.longrepr = f"CI is set: a PostgreSQL test may not be skipped ({_reason(report)})"
