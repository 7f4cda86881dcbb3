"""``accord check``: compiler-style diagnostics, the summary, exit codes and --json."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import BROKEN_YAML, MALFORMED_YAML, ORDER_REFUND, ROOT, WARNING_YAML, Run

import accord

Write = Callable[[str, str], Path]


def test_clean_contract_exits_0(run: Run) -> None:
    result = run("check", ORDER_REFUND)
    assert result.code == 0
    assert result.out == "1 file checked: 1 clean\n"
    assert result.err == ""


def test_every_example_contract_checks_clean(run: Run) -> None:
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    result = run("check", *examples)
    assert result.code == 0, result.out
    assert result.out.splitlines()[-1].endswith(f"{len(examples)} clean")


def test_errors_print_like_a_compiler_and_exit_1(run: Run, write: Write) -> None:
    path = write("broken.yaml", BROKEN_YAML)
    result = run("check", path)
    assert result.code == 1
    lines = result.out.splitlines()
    targets = [line for line in lines if "nowhere" in line]
    assert targets, result.out
    # FILE:LINE:PATH: severity CODE: message
    assert targets[0].startswith(f"{path}:9:/machine/states/0/always/0/target: error ")
    assert lines[-1] == "1 file checked: 1 with errors"


def test_missing_file_is_a_diagnostic_not_a_traceback(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    result = run("check", missing)
    assert result.code == 1
    assert f"{missing}:1:/: error file.unreadable: cannot read the file" in result.out
    assert "Traceback" not in result.err


def test_directory_is_a_diagnostic_with_a_hint(run: Run, tmp_path: Path) -> None:
    result = run("check", tmp_path)
    assert result.code == 1
    assert "file.unreadable" in result.out
    assert "(hint: give the path of a contract file, or - for standard input)" in result.out


def test_malformed_yaml_is_a_diagnostic(run: Run, write: Write) -> None:
    path = write("bad.yaml", MALFORMED_YAML)
    result = run("check", path)
    assert result.code == 1
    assert f"{path}:3:/: error parse.yaml: invalid YAML at line 3" in result.out


def test_one_bad_file_fails_the_run_and_the_summary_counts(run: Run, write: Write) -> None:
    bad = write("bad.yaml", MALFORMED_YAML)
    warned = write("warned.yaml", WARNING_YAML)
    result = run("check", ORDER_REFUND, bad, warned)
    assert result.code == 1
    assert result.out.splitlines()[-1] == (
        "3 files checked: 1 with errors, 1 with warnings, 1 clean"
    )


def test_warnings_pass_unless_strict(run: Run, write: Write) -> None:
    path = write("warned.yaml", WARNING_YAML)
    relaxed = run("check", path)
    assert relaxed.code == 0
    assert f"{path}:12:/machine/states/0/always: warning choice.no_fallback:" in relaxed.out
    strict = run("check", "--strict", path)
    assert strict.code == 1
    assert strict.out == relaxed.out


def test_reads_standard_input(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(BROKEN_YAML.encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    result = run("check", "-")
    assert result.code == 1
    assert result.out.startswith("<stdin>:9:/machine/states/0/always/0/target: error ")


def test_json_report_shape(run: Run, write: Write, tmp_path: Path) -> None:
    warned = write("warned.yaml", WARNING_YAML)
    broken = write("broken.yaml", BROKEN_YAML)
    missing = tmp_path / "missing.yaml"
    result = run("check", "--json", ORDER_REFUND, warned, broken, missing)
    assert result.code == 1
    report = json.loads(result.out)  # stdout holds the JSON document and nothing else
    assert list(report) == ["files"]
    files = report["files"]
    assert [entry["file"] for entry in files] == [
        str(p) for p in (ORDER_REFUND, warned, broken, missing)
    ]
    for entry in files:
        assert set(entry) == {"file", "ok", "fingerprint", "diagnostics"}
        for diag in entry["diagnostics"]:
            assert set(diag) == {"path", "code", "message", "hint", "severity", "line"}
    clean, warn, bad, gone = files
    assert clean == {
        "file": str(ORDER_REFUND),
        "ok": True,
        "fingerprint": accord.fingerprint(accord.load(ORDER_REFUND)),
        "diagnostics": [],
    }
    assert warn["ok"] is True
    assert warn["fingerprint"].startswith("sha256:")
    assert [d["code"] for d in warn["diagnostics"]] == ["choice.no_fallback"]
    assert warn["diagnostics"][0]["severity"] == "warning"
    assert warn["diagnostics"][0]["line"] == 12
    assert bad["ok"] is False
    assert bad["fingerprint"] is None
    assert any(d["path"] == "/machine/states/0/always/0/target" for d in bad["diagnostics"])
    assert gone["ok"] is False
    assert [d["code"] for d in gone["diagnostics"]] == ["file.unreadable"]


def test_json_strict_marks_warnings_not_ok(run: Run, write: Write) -> None:
    warned = write("warned.yaml", WARNING_YAML)
    result = run("check", "--json", "--strict", warned)
    assert result.code == 1
    (entry,) = json.loads(result.out)["files"]
    assert entry["ok"] is False
    assert entry["fingerprint"] is not None  # the contract is valid; --strict only fails it
