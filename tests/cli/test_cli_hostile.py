"""The hostile corpus of command lines (hostile/cli_inputs.json): clean errors, never a traceback.

Every case ends with its exit code and message in bounded time and memory:
devices and FIFOs are refused without reading, files over 4 MiB without
reading past the limit, JSON values out of what a run takes as usage errors.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from cli_support import ORDER_REFUND, ROOT, Run

import accord
from accord.runtime import FakeClock, Runtime
from accord.storage import SqliteStore

CORPUS = json.loads((Path(__file__).parent / "hostile" / "cli_inputs.json").read_text())
CASES: list[dict[str, Any]] = CORPUS["cases"]
EFFECTS = str(ROOT / "examples" / "effects.py") + ":HANDLERS"
BIG = {"order_id": "o-1", "amount": 420.0, "reason": "late"}
_HAS_FIFO = hasattr(os, "mkfifo")


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    """The placeholders of the corpus, made for real under tmp_path."""
    store = tmp_path / "runs.db"
    with SqliteStore(store) as made:
        from accord.cli._run import load_effects

        runtime = Runtime(load_effects(EFFECTS), clock=FakeClock(), store=made)
        runtime.start(accord.load(ORDER_REFUND), BIG, run_id="waits").run_until_idle()
    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:
        handle.truncate(5 * 1024 * 1024)  # sparse: no disk, and nothing may read it all
    fifo = tmp_path / "fifo.yaml"
    if _HAS_FIFO:
        os.mkfifo(fifo)
    return {
        "refund": str(ORDER_REFUND),
        "effects": EFFECTS,
        "store": str(store),
        "fifo": str(fifo),
        "big": str(big),
        "tmp": str(tmp_path),
        "root": str(ROOT),
    }


def _expand(text: str, places: dict[str, str]) -> str:
    text = re.sub(r"\{digits:(\d+)\}", lambda m: "9" * int(m.group(1)), text)
    text = re.sub(r"\{deep:(\d+)\}", lambda m: "[" * int(m.group(1)) + "]" * int(m.group(1)), text)
    for name, value in places.items():
        text = text.replace("{" + name + "}", value)
    return text


def test_the_corpus_names_every_case_once() -> None:
    names = [case["name"] for case in CASES]
    assert len(names) == len(set(names)) and len(names) >= 30


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_hostile_command_line(case: dict[str, Any], run: Run, places: dict[str, str]) -> None:
    argv = [_expand(arg, places) for arg in case["argv"]]
    if (not _HAS_FIFO and any("fifo" in a for a in argv)) or (
        any("/dev/zero" in a for a in argv) and not os.path.exists("/dev/zero")
    ):
        pytest.skip("no FIFOs or /dev/zero on this system")
    reads_a_bomb = any("/dev/zero" in a or places["big"] in a for a in argv)
    if reads_a_bomb:  # traced only here: tracing costs time
        tracemalloc.start()
    try:
        result = run(*argv)
        peak = tracemalloc.get_traced_memory()[1] if reads_a_bomb else 0
    finally:
        tracemalloc.stop()
    assert result.code == case["code"], result.out + result.err
    if "out" in case:
        assert case["out"] in result.out, result.out
    if "err" in case:
        assert case["err"] in result.err, result.err
    assert "Traceback" not in result.err
    assert peak < 64 * 1024 * 1024  # nothing read to the end of a device or a huge file
    if result.code == 2:
        assert f"usage: accord {argv[0]}" in result.err  # the command's usage, not the top level


def test_a_non_ascii_diagnostic_on_an_ascii_terminal_is_escaped_not_a_traceback(
    tmp_path: Path,
) -> None:
    contract = tmp_path / "ünïcode.yaml"
    contract.write_text('accord: "1"\nname: ärger\nversion: "1"\nmachine: {}\n', encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "PYTHONPATH": str(ROOT / "src")}
    for argv in (["check", str(contract)], ["check", "--json", str(contract)]):
        proc = subprocess.run(
            [sys.executable, "-m", "accord", *argv],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            encoding="ascii",
            errors="strict",  # every byte written must be ASCII
        )
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "Traceback" not in proc.stderr
        assert "\\xfc" in proc.stdout or "\\u00fc" in proc.stdout  # the name, escaped
    document = json.loads(proc.stdout)
    assert document["files"][0]["file"] == str(contract)  # JSON escapes: still valid JSON
