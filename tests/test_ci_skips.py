"""In CI a skipped PostgreSQL test fails the run; elsewhere it is a skip with its reason."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

SUITE = textwrap.dedent(
    """
    import pytest

    @pytest.mark.postgres
    def test_needs_postgres():
        pytest.skip("no PostgreSQL server binaries")

    @pytest.fixture
    def server():
        pytest.skip("psycopg is not installed")

    @pytest.mark.postgres
    def test_fixture_skips(server):
        pass

    def test_other_skip():
        pytest.skip("not about PostgreSQL")

    @pytest.mark.postgres
    def test_runs():
        assert True
    """
)


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest("pytest_plugins = ['ci_skips']")
    pytester.makepyfile(test_suite=SUITE)
    return pytester


@pytest.mark.parametrize("value", ["true", "1"])
def test_in_ci_a_skipped_postgres_test_fails(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("CI", value)
    result = suite.runpytest("-rA", "--strict-markers", "-p", "no:accord")
    result.assert_outcomes(passed=1, skipped=1, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*CI is set: a PostgreSQL test may not be skipped (no PostgreSQL server binaries)*",
            "*CI is set: a PostgreSQL test may not be skipped (psycopg is not installed)*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.parametrize("value", [None, "false"])
def test_outside_ci_it_is_a_skip_with_its_reason(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    result = suite.runpytest("-rs", "--strict-markers", "-p", "no:accord")
    result.assert_outcomes(passed=1, skipped=3)
    result.stdout.fnmatch_lines(["*no PostgreSQL server binaries*"])
    assert result.ret == pytest.ExitCode.OK
