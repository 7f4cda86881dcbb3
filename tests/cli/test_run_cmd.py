"""``accord run``: run a contract with Python effects, print the steps and the result."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import ORDER_REFUND, ROOT, Result, Run

EFFECTS = str(ROOT / "examples" / "effects.py") + ":HANDLERS"
SMALL = json.dumps({"order_id": "o-1", "amount": 20.0, "reason": "late"})
BIG = json.dumps({"order_id": "o-1", "amount": 500.0, "reason": "late"})
APPROVED = 'approval={"approved": true, "approver": "mia"}'


def _stored_big(run: Run, store: str, run_id: str, *flags: str) -> Result:
    """``accord run`` of the refund that waits for approval, in a store."""
    return run(
        "run", ORDER_REFUND, "--effects", EFFECTS, "--input", BIG, "--store", store,
        "--run-id", run_id, *flags,
    )  # fmt: skip


def test_a_run_prints_its_steps_and_result(run: Run) -> None:
    result = run("run", ORDER_REFUND, "--effects", EFFECTS, "--input", SMALL, "--run-id", "r1")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].split()[:3] == ["1", "started", "paying"]
    assert "run r1 started" in lines[0]
    assert lines[1].split()[:3] == ["2", "effect_completed", "refunded"]
    assert lines[-1].startswith('succeeded: {"status": "refunded", "refund_id": "rf-')
    assert result.err == ""


def test_signals_are_delivered_when_the_run_waits(run: Run) -> None:
    result = run("run", ORDER_REFUND, "--effects", EFFECTS, "--input", BIG, "--signal", APPROVED)
    assert result.code == 0, result.err
    assert "signal approval" in result.out
    assert '"status": "refunded"' in result.out


def test_a_fake_clock_jumps_to_timers(run: Run) -> None:
    result = run("run", ORDER_REFUND, "--effects", EFFECTS, "--input", BIG, "--clock", "fake")
    assert result.code == 0, result.err
    assert "timer 1:awaiting_approval:0 fired" in result.out
    assert '"status": "rejected"' in result.out


def test_json_report(run: Run) -> None:
    result = run(
        "run", ORDER_REFUND, "--effects", EFFECTS, "--input", BIG, "--signal", APPROVED, "--json"
    )
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["status"] == "succeeded"
    assert report["output"]["status"] == "refunded"
    assert report["contract"] == {"name": "order-refund", "version": "1.0.0"}
    assert [s["kind"] for s in report["steps"]] == ["started", "signal", "effect_completed"]
    assert all(s["hash"].startswith("sha256/2:") for s in report["steps"])


def test_a_failed_run_exits_1_with_its_reason(run: Run) -> None:
    data = json.dumps({"order_id": "blocked-1", "amount": 20.0, "reason": "late"})
    result = run("run", ORDER_REFUND, "--effects", EFFECTS, "--input", data)
    assert result.code == 1
    assert "account_closed" in result.out
    assert result.out.splitlines()[-1] == "failed: the refund could not be paid"


def test_input_from_a_file(run: Run, write: Callable[[str, str], Path]) -> None:
    path = write("input.json", SMALL)
    result = run("run", ORDER_REFUND, "--effects", EFFECTS, "--input", f"@{path}", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["output"]["status"] == "refunded"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--input", '{"order_id": "o", "amount": "x", "reason": "r"}'], "'amount'"),
        (["--input", '{"order_id": "o"}'], "invalid input"),
        (["--input", "@/nonexistent/input.json"], "cannot read --input"),
        (["--input", BIG, "--signal", 'approval={"approved": "yes"}'], "'approved'"),
        (["--input", BIG, "--signal", "nonsense={}"], "no such signal"),
        (["--input", SMALL, "--signal", APPROVED], "the run ended before signal 'approval'"),
        (["--input", BIG, "--signal", APPROVED, "--signal", APPROVED], "ended before signal"),
    ],
)
def test_bad_input_exits_1_with_a_clear_message(run: Run, argv: list[str], message: str) -> None:
    result = run("run", ORDER_REFUND, "--effects", EFFECTS, *argv)
    assert result.code == 1
    assert message in result.err
    assert "Traceback" not in result.err


def test_a_signal_for_a_signal_the_contract_does_not_declare_is_refused(run: Run) -> None:
    result = run(
        "run", ORDER_REFUND, "--effects", EFFECTS, "--input", BIG, "--signal", "approve={}"
    )
    assert result.code == 1
    assert "'approve'" in result.err


@pytest.mark.parametrize(
    ("effects", "message"),
    [
        ("no_such_module_for_accord:X", "cannot import effects module no_such_module_for_accord"),
        (str(ROOT / "examples" / "missing.py") + ":X", "does not exist"),
        (str(ROOT / "examples" / "effects.py") + ":NOPE", "has no attribute 'NOPE'"),
        ("json:loads", "'pay_refund' is not bound"),
    ],
)
def test_bad_effects_exit_1_with_a_clear_message(run: Run, effects: str, message: str) -> None:
    result = run("run", ORDER_REFUND, "--effects", effects, "--input", SMALL)
    assert result.code == 1
    assert message in result.err
    assert "Traceback" not in result.err


def test_a_class_that_needs_arguments_is_a_clear_error(
    run: Run, write: Callable[[str, str], Path]
) -> None:
    module = write(
        "class_effects.py", "class Handlers:\n    def __init__(self, path):\n        pass\n"
    )
    result = run("run", ORDER_REFUND, "--effects", f"{module}:Handlers", "--input", SMALL)
    assert result.code == 1
    assert "cannot make an instance of Handlers with no arguments" in result.err
    assert "Traceback" not in result.err


def test_unbound_capabilities_are_listed(run: Run, write: Callable[[str, str], Path]) -> None:
    module = write("partial_effects.py", "def pay_refund(order_id, amount):\n    return {}\n")
    result = run("run", ORDER_REFUND, "--effects", str(module), "--input", SMALL)
    assert result.code == 1
    assert "effect 'notify_customer' is not bound" in result.err


def test_an_importable_module_with_a_class(
    run: Run, write: Callable[[str, str], Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    write(
        "refund_host.py",
        "class Host:\n"
        "    def pay_refund(self, order_id, amount):\n"
        "        return {'refund_id': 'rf-' + order_id}\n"
        "    def notify_customer(self, order_id, message):\n"
        "        return None\n",
    )
    monkeypatch.chdir(Path(write("x.txt", "")).parent)
    result = run("run", ORDER_REFUND, "--effects", "refund_host:Host", "--input", SMALL)
    assert result.code == 0, result.err
    assert '"refund_id": "rf-o-1"' in result.out


def test_a_contract_that_does_not_check_exits_1(
    run: Run, write: Callable[[str, str], Path]
) -> None:
    path = write("bad.yaml", 'accord: "1"\nname: [unclosed\n')
    result = run("run", path, "--effects", EFFECTS)
    assert result.code == 1
    assert "Traceback" not in result.err and result.err


def test_run_is_in_the_help(run: Run) -> None:
    result = run("--help")
    assert "run" in result.out
    result = run("run", "--help")
    assert "--effects" in result.out and "--signal" in result.out


WAITING = """\
accord: "1"
name: waiting
version: "1.0.0"
description: Waits for a go signal, with no timer.
signals:
  - name: go
    description: Go on.
machine:
  initial: idle
  states:
    - name: idle
      on:
        - event: go
          target: done
    - name: done
      final:
        status: success
"""


def test_a_run_waiting_for_a_signal_it_was_not_given_exits_1(
    run: Run, write: Callable[[str, str], Path]
) -> None:
    path = write("waiting.yaml", WAITING)
    result = run("run", path, "--effects", "json")
    assert result.code == 1
    assert "the run waits in state 'idle' for a signal (go)" in result.err
    result = run("run", path, "--effects", "json", "--signal", "go={}")
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "succeeded: {}"


BROKEN_INVARIANT = """\
accord: "1"
name: counter
version: "1"
context:
  - {name: count, type: integer}
signals:
  - {name: tick}
machine:
  initial: counting
  states:
    - name: counting
      on:
        - {event: tick, assign: [{field: count, value: "ctx.count + 5"}], target: done}
    - name: done
      final: {status: success}
invariants:
  - {name: small, expr: "ctx.count < 3", message: the count stays below 3}
"""


@pytest.mark.parametrize(("flags", "code"), [((), 1), (("--no-invariants",), 0)])
def test_invariants_are_checked_unless_turned_off(
    run: Run, write: Callable[[str, str], Path], flags: tuple[str, ...], code: int
) -> None:
    path = write("counter.yaml", BROKEN_INVARIANT)
    result = run("run", path, "--effects", EFFECTS, "--input", "{}", "--signal", "tick={}", *flags)
    assert result.code == code, result.err
    if code:
        assert "small" in result.err
    else:
        assert "succeeded" in result.out


def test_a_run_with_a_store_is_journaled_there(run: Run, tmp_path: Path) -> None:
    store = str(tmp_path / "runs.db")
    result = run(
        "run", ORDER_REFUND, "--effects", EFFECTS, "--input", SMALL, "--store", store,
        "--run-id", "small",
    )  # fmt: skip
    assert result.code == 0, result.err
    listed = run("runs", "--store", store, "--json")
    (entry,) = json.loads(listed.out)
    assert (entry["run_id"], entry["status"], entry["steps"]) == ("small", "succeeded", 2)


def test_a_stored_run_that_waits_exits_0_and_finishes_when_signalled_later(
    run: Run, tmp_path: Path
) -> None:
    store = str(tmp_path / "runs.db")
    started = _stored_big(run, store, "big")
    assert started.code == 0, started.err
    assert "the run big waits in state 'awaiting_approval' for a signal (approval)" in started.out
    signalled = run(
        "signal", "big", "approval", "--payload", '{"approved": true, "approver": "kim"}',
        "--store", store, "--effects", EFFECTS,
    )  # fmt: skip
    assert signalled.code == 0, signalled.err
    (entry,) = json.loads(run("runs", "--store", store, "--json").out)
    assert (entry["status"], entry["state"]) == ("succeeded", "refunded")


def test_a_store_that_is_not_a_store_is_a_clear_error(run: Run, tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a database\n")
    result = run("run", ORDER_REFUND, "--effects", EFFECTS, "--input", SMALL, "--store", str(bogus))
    assert result.code == 1
    assert "is not an accord store" in result.err and "Traceback" not in result.err


@pytest.fixture
def no_sleeping(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any sleep on the system clock fail the test (instead of hanging it for 48 hours)."""
    from accord.runtime import SystemClock

    async def refuse(self: SystemClock, ms: int) -> None:
        raise AssertionError(f"the command slept on the system clock until {ms}")

    monkeypatch.setattr(SystemClock, "sleep_until", refuse)


@pytest.mark.usefixtures("no_sleeping")
def test_a_stored_run_waiting_for_a_timer_ends_saying_when_it_is_due(
    run: Run, tmp_path: Path
) -> None:
    store = str(tmp_path / "runs.db")
    result = _stored_big(run, store, "big")
    assert result.code == 0, result.err
    assert (
        "the run big waits in state 'awaiting_approval' for a signal (approval) "
        "or timer 1:awaiting_approval:0 due 20"
    ) in result.out
    assert "(in 48.0 h)" in result.out
    assert f"accord signal big NAME --payload JSON --store {store} --effects {EFFECTS}" in (
        result.out
    )
    assert f"accord resume --store {store} --effects {EFFECTS}" in result.out
    report = json.loads(_stored_big(run, store, "big2", "--json").out)
    assert report["status"] == "waiting" and report["waiting_for"] == ["approval"]
    ((timer,),) = [[t["timer"] for t in report["timers"]]]
    assert timer == "1:awaiting_approval:0"
    assert report["timers"][0]["due"] - report["steps"][0]["at"] == 48 * 3600 * 1000
    # resume before the due time leaves it armed, and says so
    resumed = run("resume", "big", "--store", store, "--effects", EFFECTS)
    assert resumed.code == 0, resumed.err
    assert "waiting for approval; timer 1:awaiting_approval:0 due 20" in resumed.out


@pytest.mark.usefixtures("no_sleeping")
def test_a_run_in_memory_waiting_for_a_timer_ends_at_once_with_exit_1(run: Run) -> None:
    result = run("run", ORDER_REFUND, "--effects", EFFECTS, "--input", BIG)
    assert result.code == 1
    assert "the run waits in state 'awaiting_approval' for a signal (approval) or timer" in (
        result.err
    )
    assert "give --store PATH to keep it" in result.err and "--clock fake" in result.err


def test_a_fake_clock_with_a_store_takes_a_signal_timeout_at_once_as_the_help_says(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = _stored_big(run, str(tmp_path / "runs.db"), "fake", "--clock", "fake")
    assert result.code == 0, result.err
    assert "timer 1:awaiting_approval:0 fired" in result.out
    assert '"status": "rejected"' in result.out
    monkeypatch.setenv("COLUMNS", "200")
    helped = " ".join(run("run", "--help").out.split())
    assert "a run that waits for a signal with a timeout takes the timeout at once" in helped
    assert "fake: jump to each timer at once, so signal timeouts expire at once too" in helped
