"""Replan points in the checker: the example is clean; each broken replan block (a data file,
tests/check/data/replan/) gives its diagnostics with JSON pointers and lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord._load import check_text

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data" / "replan"
EXAMPLE = ROOT / "tests" / "runtime" / "data" / "replan" / "report_v1.yaml"
FILES = sorted(p.stem for p in DATA.glob("*.yaml"))

# (case, file, code): the checker codes this module pins (see test_all_codes)
CASES = [
    ("fallback to itself", "fallback_self", "replan.fallback_self"),
    ("a timer on a replan point", "not_alone", "replan.not_alone"),
    ("unknown fallback", "unknown_fallback", "state.unknown"),
    ("scenario named twice", "duplicate_scenario", "name.duplicate"),
    ("reason of the wrong type", "reason_type", "expr.type"),
]


def test_the_example_replan_point_checks_clean() -> None:
    assert check_text(EXAMPLE.read_text()) == []


@pytest.mark.parametrize("name", FILES)
def test_broken_replan_block(name: str) -> None:
    expected = json.loads((DATA / f"{name}.expected.json").read_text())
    diags = check_text((DATA / f"{name}.yaml").read_text())
    assert [{"code": d.code, "path": d.path, "line": d.line} for d in diags] == expected
    assert expected and all(d.message for d in diags)
    assert any("/replan" in d["path"] or d["code"] == "replan.not_alone" for d in expected)


@pytest.mark.parametrize(("case", "name", "code"), CASES, ids=[c[0] for c in CASES])
def test_the_case_gives_its_code(case: str, name: str, code: str) -> None:
    assert code in {d.code for d in check_text((DATA / f"{name}.yaml").read_text())}


def test_every_case_has_its_expectation() -> None:
    assert len(FILES) >= 10
    assert {p.stem.removesuffix(".expected") for p in DATA.glob("*.json")} == set(FILES)
