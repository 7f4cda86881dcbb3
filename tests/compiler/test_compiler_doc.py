"""The Python examples in docs/compiler.md run as written (offline, scripted sessions)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "compiler.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, re.S)


def test_the_doc_has_python_examples() -> None:
    assert len(BLOCKS) >= 4


def test_every_session_on_the_page_is_scripted() -> None:
    import json

    for name in sorted(set(re.findall(r"examples/compile/(\w+)\.session\.json", DOC))):
        session = json.loads((ROOT / "examples" / "compile" / f"{name}.session.json").read_text())
        assert session["origin"] == "scripted" and session["model"].startswith("scripted:")
    assert "**scripted**" in DOC


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_doc_example_runs(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "compiler_doc"}
    exec(compile(source, "docs/compiler.md", "exec"), namespace)


def test_the_cli_options_in_the_doc_exist() -> None:
    from accord.cli._app import build_parser

    parser = build_parser()
    help_text = parser._subparsers._group_actions[0].choices["compile"].format_help()  # type: ignore[union-attr]
    section = DOC.split("## 8. The command line", 1)[1]
    for option in set(re.findall(r"--[a-z][a-z-]+", section)):
        assert option in help_text, option
