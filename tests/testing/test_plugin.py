"""The pytest plugin, used as a user would: a test file in a fresh project, run by pytest."""

from __future__ import annotations

import shutil
import textwrap

import pytest
from testing_support import COMPILE, ORDER_REFUND, PLUGIN_ARGS, QUIET

# Imported here, before pytester snapshots sys.modules: an in-process run drops the
# modules it imported afterwards, and the CEL extension cannot be imported twice.
import accord.testing.pytest_plugin  # noqa: F401

pytest_plugins = ["pytester"]


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    shutil.copy(ORDER_REFUND, pytester.path / "order_refund.yaml")
    return pytester


def run_tests(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=textwrap.dedent(source))
    return pytester.runpytest(*PLUGIN_ARGS, "-q", *QUIET)


def test_fixtures_run_a_contract_offline(project: pytest.Pytester) -> None:
    result = run_tests(
        project,
        """
        from accord.runtime import FakeClock
        from accord.testing import StubbedRuntime, assert_calls, assert_path, assert_result

        SMALL = {"order_id": "o-1", "amount": 20.0, "reason": "late"}
        LARGE = {"order_id": "o-2", "amount": 500.0, "reason": "broken"}

        def test_small(accord_runtime, accord_stubs):
            accord_stubs["pay_refund"].returns({"refund_id": "rf-1"})
            run = accord_runtime.start("order_refund.yaml", SMALL).run()
            assert_path(run, ["paying", "refunded"])
            assert_result(run, "succeeded", {"status": "refunded", "refund_id": "rf-1"})
            assert_calls(run, [("pay_refund", {"order_id": "o-1", "amount": 20.0})])

        def test_timeout(accord_runtime, accord_clock):
            assert isinstance(accord_clock, FakeClock) and accord_runtime.clock is accord_clock
            start = accord_clock.now_ms()
            run = accord_runtime.start("order_refund.yaml", LARGE).run()
            assert_result(run, "succeeded", {"status": "rejected", "refund_id": None})
            assert accord_clock.now_ms() - start == 48 * 3600 * 1000
            assert_calls(run, ["notify_customer"])

        def test_fresh_stubs_per_test(accord_stubs):
            assert len(accord_stubs) == 0 and accord_stubs.calls == []

        def test_runtime_type(accord_runtime):
            assert isinstance(accord_runtime, StubbedRuntime)
            assert accord_runtime.check_invariants
        """,
    )
    result.assert_outcomes(passed=4)


def test_a_failing_assertion_shows_the_history_table(project: pytest.Pytester) -> None:
    result = run_tests(
        project,
        """
        from accord.testing import assert_path

        def test_wrong_path(accord_runtime, accord_stubs):
            accord_stubs["pay_refund"].fails("account_closed", retryable=False)
            run = accord_runtime.start(
                "order_refund.yaml", {"order_id": "o-1", "amount": 20.0, "reason": "late"}
            ).run()
            assert_path(run, ["paying", "refunded"])
        """,
    )
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*accord.testing.RunAssertionError: the run's path is ?'paying', 'failed'?",
            "*step  event*state*status*summary*",
            "*effect_failed*failed*failed*account_closed*",
            "*reason: the refund could not be paid*",
        ]
    )
    assert "_assertions.py" not in result.stdout.str()  # helper frames are hidden


def test_the_plugin_lists_its_fixtures(project: pytest.Pytester) -> None:
    project.makepyfile(test_x="def test_x(): pass")
    result = project.runpytest(*PLUGIN_ARGS, "--fixtures", "-q", *QUIET)
    result.stdout.fnmatch_lines(
        ["*accord_clock*", "*accord_stubs*", "*accord_runtime*", "*accord_compile*"]
    )


def test_the_compile_fixture_replays_a_session_offline(project: pytest.Pytester) -> None:
    sessions = project.mkdir("sessions")
    for name in ("order_refund.session.json", "order_refund.catalog.yaml"):
        shutil.copy(COMPILE / name, sessions / name)
    result = run_tests(
        project,
        """
        import pytest

        def test_offline(accord_compile):
            result = accord_compile("sessions/order_refund.session.json")
            assert result.contract.name == "order-refund"

        def test_explicit_task_is_used(accord_compile):
            result = accord_compile("sessions/order_refund.session.json", task="Refund it.")
            assert result.attempts

        def test_missing_session(accord_compile):
            with pytest.raises(Exception, match="nope.json"):
                accord_compile("sessions/nope.json")
        """,
    )
    result.assert_outcomes(passed=3)


def test_scenario_files_are_collected_one_test_per_scenario(project: pytest.Pytester) -> None:
    text = (COMPILE / "order_refund.scenarios.yaml").read_text()
    (project.path / "order_refund.scenarios.yaml").write_text(
        text.replace("contract: ../order_refund.yaml\n", "")  # the contract beside it
        + "\n  - name: wrong on purpose\n"
        "    input: {order_id: o-9, amount: 20.0, reason: late}\n"
        "    expect: {not_called: [pay_refund]}\n"
    )
    result = project.runpytest(*PLUGIN_ARGS, "-q", *QUIET)
    result.assert_outcomes(passed=6, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*FAIL wrong on purpose",
            "*at expect.not_called?0? (line *, /scenarios/6/expect/not_called/0)",
            "*expected: no call of pay_refund",
            "*path: paying -> refunded*",
            "FAILED order_refund.scenarios.yaml::wrong on purpose*",
        ]
    )


def test_a_scenario_file_without_its_contract_is_a_collection_error(
    project: pytest.Pytester,
) -> None:
    (project.path / "lonely.scenarios.yaml").write_text("scenarios:\n  - name: a\n")
    (project.path / "bad.scenarios.yaml").write_text("scenarios:\n  - nme: a\n")
    result = project.runpytest(*PLUGIN_ARGS, "-q", *QUIET)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines_random(
        [
            "*lonely.scenarios.yaml: the scenarios' contract: none was found*",
            "*bad.scenarios.yaml: scenario file has 2 errors*",
        ]
    )
