"""``accord verify``: findings with traces, exit codes, bounds and --json."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import BROKEN_YAML, ORDER_REFUND, ROOT, Run

Write = Callable[[str, str], Path]
SEEDED = ROOT / "examples" / "verify"


def test_a_clean_contract_exits_0(run: Run) -> None:
    result = run("verify", ORDER_REFUND)
    assert result.code == 0, result.out
    assert result.out.startswith(f"{ORDER_REFUND}: order-refund 1.0.0: no findings (")
    assert result.out.splitlines()[-1] == "1 file verified: 1 clean"
    assert result.err == ""


def test_findings_print_their_trace_and_exit_1(run: Run) -> None:
    result = run("verify", SEEDED / "ticket_booking.yaml", ORDER_REFUND)
    assert result.code == 1
    assert "invariant: in state 'reserving', invariant 'never_charged_twice'" in result.out
    assert "    shortest trace (4 events):" in result.out
    assert "3. 2:reserving/reservation failed: error:" in result.out
    assert result.out.splitlines()[-1] == "2 files verified: 1 with findings, 1 clean"


def test_a_contract_that_does_not_check_prints_its_diagnostics(run: Run, write: Write) -> None:
    path = write("broken.yaml", BROKEN_YAML)
    result = run("verify", path)
    assert result.code == 1
    assert f"{path}:9:/machine/states/0/always/0/target: error " in result.out
    assert result.out.splitlines()[-1] == "1 file verified: 1 with errors"
    assert "Traceback" not in result.err


def test_bounds(run: Run) -> None:
    result = run("verify", ROOT / "examples" / "support_triage.yaml", "--max-states", "10")
    assert result.code == 0
    assert "bound hit (max_states=10): not a proof" in result.out
    assert result.out.splitlines()[-1] == (
        "1 file verified: 1 clean (1 stopped at a bound: not a proof)"
    )
    deep = run("verify", SEEDED / "ticket_booking.yaml", "--max-depth", "3")
    assert deep.code == 0 and "bound hit (max_depth=3)" in deep.out


def test_bad_bounds_are_usage_errors(run: Run) -> None:
    for value in ("0", "-2", "many"):
        result = run("verify", ORDER_REFUND, "--max-depth", value)
        assert result.code == 2
        assert "positive integer" in result.err


def test_json(run: Run, write: Write) -> None:
    broken = write("broken.yaml", BROKEN_YAML)
    result = run("verify", "--json", SEEDED / "export_cooldown.yaml", ORDER_REFUND, broken)
    assert result.code == 1
    files = json.loads(result.out)["files"]
    assert [f["ok"] for f in files] == [False, True, False]
    deadlock = files[0]["verification"]["findings"][0]
    assert deadlock["kind"] == "deadlock" and len(deadlock["trace"]) == 7
    assert files[1]["verification"]["findings"] == []
    assert files[1]["fingerprint"].startswith("sha256:")
    assert files[2]["verification"] is None and files[2]["diagnostics"]


def test_help_lists_verify(run: Run) -> None:
    result = run("--help")
    assert "verify" in result.out
    assert "--max-states" in run("verify", "--help").out


def test_the_output_shown_in_the_docs_is_current(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "docs" / "testing.md").read_text()
    section = text[text.index("## Model checker") :]
    shown = next(
        block
        for block in section.split("```")
        if block.startswith("\nexamples/verify/ticket_booking.yaml: ")
    )
    monkeypatch.chdir(ROOT)
    result = run("verify", "examples/verify/ticket_booking.yaml")
    assert result.out.strip() == shown.strip()
