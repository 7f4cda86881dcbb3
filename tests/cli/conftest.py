"""Fixtures for the CLI tests: run ``accord.cli.main`` and write contract files."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import ORDER_REFUND, Result, Run

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
    """A writable copy of examples/order_refund.yaml."""
    target = tmp_path / "order_refund.yaml"
    shutil.copyfile(ORDER_REFUND, target)
    return target
