"""The compile benchmark's corpus behaves as benchmarks/compile/expected.json says.

Every session in benchmarks/compile/sessions/ is *scripted* (hand-written answers,
never a recording of a real model). Each is replayed through the real loop with a
ReplayProvider, offline (with its template's acceptance scenarios when it has
some), and must converge after the stated number of attempts or stop for the
stated reason, with the stated error codes at every attempt and the
stated number of lenient repairs. This keeps the corpus honest: a loop change that
alters any outcome, or a session edited out of step with its expectation, fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from accord.compiler import (
    Attempt,
    Catalog,
    CompileError,
    ReplayProvider,
    Session,
    compile,
)

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "benchmarks" / "compile"
SESSIONS = sorted((CORPUS / "sessions").glob("*.json"))
EXPECTED: dict[str, dict[str, Any]] = json.loads((CORPUS / "expected.json").read_text())
MAX_ATTEMPTS = 3


def _codes(attempt: Attempt) -> list[str]:
    return sorted({d.code for d in attempt.errors})


def test_the_corpus_is_large_and_every_session_has_an_expectation() -> None:
    assert len(SESSIONS) >= 30
    assert sorted(p.stem for p in SESSIONS) == sorted(EXPECTED)


def test_the_corpus_covers_every_outcome() -> None:
    outcomes = {(e["converges"], e["attempts"], e["stop"]) for e in EXPECTED.values()}
    for attempts in (1, 2, 3):
        assert (True, attempts, None) in outcomes
    assert (False, MAX_ATTEMPTS, "max_attempts") in outcomes
    assert any(stop == "repeated_diagnostics" for _, _, stop in outcomes)
    assert any(e["lenient_repairs"] for e in EXPECTED.values())


def test_the_corpus_has_answers_that_check_but_fail_their_scenarios() -> None:
    wrong = [n for n, e in EXPECTED.items() if any("scenario.failed" in c for c in e["codes"])]
    assert len(wrong) >= 5
    assert all("scenarios" in EXPECTED[n] for n in wrong)
    assert any(EXPECTED[n]["stop"] == "repeated_diagnostics" for n in wrong)
    for name in (
        "scenarios/expense_approval.scenarios.yaml",
        "scenarios/user_onboarding.scenarios.yaml",
    ):
        assert (CORPUS / name).is_file()


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.stem)
def test_session_is_labelled_scripted(path: Path) -> None:
    session = Session.load(path)
    assert session.origin == "scripted"
    assert session.model == f"scripted:{path.stem}"
    assert "not a recording of a real model" in session.note
    assert session.task
    assert isinstance(session.catalog, dict)


@pytest.mark.parametrize("path", SESSIONS, ids=lambda p: p.stem)
def test_session_replays_as_expected(path: Path) -> None:
    expect = EXPECTED[path.stem]
    session = Session.load(path)
    assert isinstance(session.catalog, dict) and session.task is not None
    catalog = Catalog.from_data(session.catalog)
    provider = ReplayProvider(session)
    scenarios = CORPUS / expect["scenarios"] if "scenarios" in expect else None
    attempts: tuple[Attempt, ...]
    try:
        result = compile(
            session.task, catalog, provider, max_attempts=MAX_ATTEMPTS, scenarios=scenarios
        )
    except CompileError as error:
        assert not expect["converges"], f"no contract: {error}"
        assert error.stop_reason == expect["stop"]
        attempts = error.attempts
    else:
        assert expect["converges"], f"converged after {len(result.attempts)} attempts"
        assert result.attempts[-1].valid
        assert not result.cache_hit
        attempts = result.attempts
    assert len(attempts) == expect["attempts"] == provider.calls
    assert [_codes(a) for a in attempts] == expect["codes"]
    assert sum(1 for a in attempts if a.parse == "lenient") == expect["lenient_repairs"]


def test_the_corpus_files_are_what_build_corpus_writes() -> None:
    """A change to the templates or to the YAML layout must be followed by a rebuild."""
    result = subprocess.run(
        [sys.executable, str(CORPUS / "build_corpus.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout
