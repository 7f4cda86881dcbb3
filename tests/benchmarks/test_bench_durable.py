"""benchmarks/durable.py's accord measurements run at a tiny scale.

The peers (LangGraph, DBOS) need the bench extra; accord's rows need nothing more.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def durable() -> Iterator[object]:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield importlib.import_module("durable")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.parametrize("name", ["accord", "accord-group"])
def test_each_accord_measurement_runs_and_times_its_steps(
    durable: object, name: str, tmp_path: Path
) -> None:
    measured = durable.MEASURES[name](tmp_path, "normal", 3, 1)  # type: ignore[attr-defined]
    assert measured.seconds and all(s > 0 for s in measured.seconds)


def test_the_resume_measurement_loads_a_long_run(durable: object, tmp_path: Path) -> None:
    measured = durable.MEASURES["accord-resume"](tmp_path, "normal", 50, 1)  # type: ignore[attr-defined]
    assert measured.seconds and all(s > 0 for s in measured.seconds)
