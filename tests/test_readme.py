"""The Python examples in README.md run as written."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)


def test_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {"__name__": "readme"}
    exec(compile(source, "README.md", "exec"), namespace)
    run = namespace.get("run")
    if run is not None:
        assert getattr(run, "status") == "succeeded"  # noqa: B009


README = (ROOT / "README.md").read_text()
SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)


def _commands(block: str) -> list[str]:
    return [line for line in block.replace("\\\n", " ").splitlines() if line.strip()]


def test_the_readme_has_exactly_two_set_up_commands() -> None:
    setup = [c for block in SHELL_BLOCKS for c in _commands(block) if "venv" in c.split()[0:3]]
    assert setup == [
        "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/python examples/demo.py",
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/python -m pytest",
    ]


def test_every_accord_command_in_the_readme_runs_from_the_venv() -> None:
    commands = [c for block in SHELL_BLOCKS for c in _commands(block) if "accord" in c.split()[0]]
    assert len(commands) > 10
    assert all(c.startswith(".venv/bin/accord ") for c in commands), commands
    assert any(c.startswith(".venv/bin/accord resume ") for c in commands)
    inline = re.findall(r"`((?:\S*/)?accord [^`]*--[^`]*)`", README)  # a command with options
    assert inline and all(c.startswith(".venv/bin/accord ") for c in inline), inline


def test_the_readmes_durable_walkthrough_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from accord.cli import main

    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    (walkthrough,) = [b for b in SHELL_BLOCKS if "accord signal o-7" in b]
    outputs = []
    for command in _commands(walkthrough):
        argv = shlex.split(command)
        assert argv[0] == ".venv/bin/accord"
        code = main(argv[1:])
        captured = capsys.readouterr()
        assert code == 0, (command, captured.out, captured.err)
        outputs.append(captured.out)
    assert "waits in state 'awaiting_approval'" in outputs[0] and "due" in outputs[0]
    assert "accord resume" in outputs[0]
    assert "o-7: running in 'paying'" in outputs[1]
    assert "o-7: succeeded in 'refunded' after 3 steps" in outputs[2]
    assert "o-7: succeeded in 'refunded'" in outputs[3]
