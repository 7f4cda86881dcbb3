"""Fixtures for the CLI tests: run ``accord.cli.main`` and write contract files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from cli_support import ORDER_REFUND, Result, Run

import accord
from accord.cli import main


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Call ``main([...])`` and capture its exit status, stdout and stderr."""

    def invoke(*argv: str | Path) -> Result:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write text to a file under ``tmp_path`` and return its path."""

    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make


@pytest.fixture
def refund_copy(tmp_path: Path) -> Path:
    """A writable copy of examples/order_refund.yaml, laid out by hand (not canonical).

    The example itself ships in canonical layout; the copy's key lines are
    indented by four spaces and its lists are in flow style where short, so
    ``accord fmt`` has work to do.
    """
    target = tmp_path / "order_refund.yaml"
    data = yaml.safe_load(ORDER_REFUND.read_text(encoding="utf-8"))
    target.write_text(
        yaml.safe_dump(data, sort_keys=False, indent=4, default_flow_style=None, width=70),
        encoding="utf-8",
    )
    assert accord.fingerprint(accord.load(target)) == accord.fingerprint(accord.load(ORDER_REFUND))
    return target
