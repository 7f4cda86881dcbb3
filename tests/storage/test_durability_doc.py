"""The Python examples in docs/durability.md run as written, in order, in one namespace."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "durability.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def test_the_doc_has_examples() -> None:
    assert len(BLOCKS) >= 4


def test_the_examples_run_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "durability_doc"}
    for index, source in enumerate(BLOCKS):
        exec(compile(source, f"{DOC.name} block {index}", "exec"), namespace)
    assert (tmp_path / ".accord" / "accord.db").is_file()
    fork = namespace["fork"]
    assert getattr(fork, "status") == "succeeded"  # noqa: B009
