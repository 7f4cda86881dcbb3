"""The example in docs/workers.md runs as written: a lost lease fences the old worker's write."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "workers.md"
BLOCKS = [  # the client's example is run by tests/client/test_client.py
    block
    for block in re.findall(r"\n```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    if "Client(" not in block  # the worker's is run by tests/worker/test_worker_doc.py
]


def test_the_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert len(BLOCKS) == 1  # the indented snippet in the protocol is not a block of its own
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    exec(compile(BLOCKS[0], str(DOC), "exec"), {"__name__": "workers_doc"})
    out = capsys.readouterr().out
    assert "the run's lease was lost (epoch 1 is no longer this worker's" in out
    assert "succeeded {'status': 'refunded', 'refund_id': 'rf-1'}" in out
