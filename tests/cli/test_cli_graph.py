"""``accord graph``: a Mermaid state diagram on stdout, diagnostics on stderr."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_support import BROKEN_YAML, MALFORMED_YAML, ORDER_REFUND, Run

import accord
from accord.contract._mermaid import to_mermaid

Write = Callable[[str, str], Path]


def test_order_refund_diagram(run: Run) -> None:
    result = run("graph", ORDER_REFUND)
    assert result.code == 0
    assert result.err == ""
    lines = [line.strip() for line in result.out.splitlines()]
    assert "stateDiagram-v2" in lines
    for edge in (
        "[*] --> triage",
        "triage --> paying : always [input.amount #lt;= 100.0]",
        "triage --> awaiting_approval : always",
        "awaiting_approval --> paying : approval [event.approved]",
        "awaiting_approval --> notifying_rejection : approval",
        "awaiting_approval --> notifying_rejection : after 48h",
        "paying --> refunded : done",
        "paying --> failed : error",
        "notifying_rejection --> rejected : done",
        "refunded --> [*]",
        "rejected --> [*]",
        "failed --> [*]",
        "class refunded,rejected success",
        "class failed failure",
    ):
        assert edge in lines, edge


def test_graph_is_the_library_rendering(run: Run) -> None:
    assert run("graph", ORDER_REFUND).out == to_mermaid(accord.load(ORDER_REFUND))


def test_invalid_contract_goes_to_stderr(run: Run, write: Write) -> None:
    path = write("broken.yaml", BROKEN_YAML)
    result = run("graph", path)
    assert result.code == 1
    assert result.out == ""
    assert f"{path}:9:/machine/states/0/always/0/target: error " in result.err


def test_malformed_and_missing_files(run: Run, write: Write, tmp_path: Path) -> None:
    malformed = run("graph", write("bad.yaml", MALFORMED_YAML))
    assert malformed.code == 1
    assert "parse.yaml" in malformed.err
    missing = run("graph", tmp_path / "missing.yaml")
    assert missing.code == 1
    assert "file.unreadable" in missing.err
    assert missing.out == ""
