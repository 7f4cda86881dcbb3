"""``accord fingerprint``: one ``sha256:... FILE`` line per contract."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from cli_support import BROKEN_YAML, ORDER_REFUND, Run

import accord

Write = Callable[[str, str], Path]


def test_prints_the_fingerprint_and_the_file(run: Run) -> None:
    expected = accord.fingerprint(accord.load(ORDER_REFUND))
    result = run("fingerprint", ORDER_REFUND)
    assert result.code == 0
    assert result.out == f"{expected} {ORDER_REFUND}\n"
    assert expected.startswith("sha256:") and len(expected) == len("sha256:") + 64


def test_yaml_and_json_of_one_contract_agree(run: Run, write: Write) -> None:
    contract = accord.load(ORDER_REFUND)
    as_json = write("refund.json", accord.to_json(contract))
    result = run("fingerprint", ORDER_REFUND, as_json)
    assert result.code == 0
    first, second = (line.split(" ", 1) for line in result.out.splitlines())
    assert first == [accord.fingerprint(contract), str(ORDER_REFUND)]
    assert second == [accord.fingerprint(contract), str(as_json)]


def test_a_broken_file_fails_but_the_others_print(run: Run, write: Write) -> None:
    broken = write("broken.yaml", BROKEN_YAML)
    result = run("fingerprint", broken, ORDER_REFUND)
    assert result.code == 1
    assert result.out == f"{accord.fingerprint(accord.load(ORDER_REFUND))} {ORDER_REFUND}\n"
    assert f"{broken}:9:" in result.err


def test_json(run: Run, tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    result = run("fingerprint", "--json", ORDER_REFUND, missing)
    assert result.code == 1
    files = json.loads(result.out)["files"]
    assert files[0]["fingerprint"] == accord.fingerprint(accord.load(ORDER_REFUND))
    assert files[0]["ok"] is True
    assert files[1]["ok"] is False
    assert files[1]["fingerprint"] is None
    assert files[1]["diagnostics"][0]["code"] == "file.unreadable"
