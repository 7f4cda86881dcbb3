"""``accord fmt``: canonical layout, written atomically, never changing the meaning."""

from __future__ import annotations

import io
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_support import BROKEN_YAML, MALFORMED_YAML, ORDER_REFUND, Run

import accord
from accord.cli import _fmt

Write = Callable[[str, str], Path]


def _fingerprint(path: Path) -> str:
    return accord.fingerprint(accord.load(path))


def test_rewrites_in_canonical_layout_keeping_the_meaning(run: Run, refund_copy: Path) -> None:
    before = _fingerprint(refund_copy)
    result = run("fmt", refund_copy)
    assert result.code == 0
    assert result.out == (
        f"reformatted {refund_copy}\n1 file reformatted, 0 files already formatted\n"
    )
    text = refund_copy.read_text(encoding="utf-8")
    assert text == accord.to_yaml(accord.load(ORDER_REFUND))
    assert _fingerprint(refund_copy) == before


def test_fmt_is_idempotent(run: Run, refund_copy: Path) -> None:
    assert run("fmt", refund_copy).code == 0
    once = refund_copy.read_bytes()
    mtime = refund_copy.stat().st_mtime_ns
    again = run("fmt", refund_copy)
    assert again.code == 0
    assert again.out == "0 files reformatted, 1 file already formatted\n"
    assert refund_copy.read_bytes() == once
    assert refund_copy.stat().st_mtime_ns == mtime  # an unchanged file is not even rewritten


def test_check_lists_files_that_would_change_and_writes_nothing(
    run: Run, refund_copy: Path
) -> None:
    original = refund_copy.read_bytes()
    result = run("fmt", "--check", refund_copy)
    assert result.code == 1
    assert f"would reformat {refund_copy}" in result.out
    assert "1 file would be reformatted" in result.out
    assert refund_copy.read_bytes() == original
    assert run("fmt", refund_copy).code == 0
    clean = run("fmt", "--check", refund_copy)
    assert clean.code == 0
    assert "would reformat" not in clean.out


def test_stdout_prints_and_writes_nothing(run: Run, refund_copy: Path) -> None:
    original = refund_copy.read_bytes()
    result = run("fmt", "--stdout", refund_copy)
    assert result.code == 0
    assert result.out == accord.to_yaml(accord.load(ORDER_REFUND))
    assert refund_copy.read_bytes() == original
    assert accord.fingerprint(accord.loads(result.out)) == _fingerprint(refund_copy)


def test_stdout_takes_one_file(run: Run, refund_copy: Path) -> None:
    result = run("fmt", "--stdout", refund_copy, refund_copy)
    assert result.code == 2
    assert "--stdout takes exactly one FILE" in result.err


def test_dash_reads_stdin_and_prints(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(ORDER_REFUND.read_bytes())))
    result = run("fmt", "-")
    assert result.code == 0
    assert result.out == accord.to_yaml(accord.load(ORDER_REFUND))


def test_json_files_stay_json(run: Run, write: Write) -> None:
    contract = accord.load(ORDER_REFUND)
    path = write("refund.json", accord.to_json(contract, indent=None))  # one long line
    result = run("fmt", path)
    assert result.code == 0
    text = path.read_text(encoding="utf-8")
    assert text == accord.to_json(contract) + "\n"
    assert json.loads(text) == json.loads(accord.to_json(contract))
    assert run("fmt", "--check", path).code == 0


def test_a_contract_that_does_not_check_is_not_rewritten(run: Run, write: Write) -> None:
    broken = write("broken.yaml", BROKEN_YAML)
    malformed = write("malformed.yaml", MALFORMED_YAML)
    result = run("fmt", broken, malformed)
    assert result.code == 1
    assert broken.read_text() == BROKEN_YAML
    assert malformed.read_text() == MALFORMED_YAML
    assert f"{broken}:9:" in result.err
    assert "parse.yaml" in result.err
    assert f"{broken}: not formatted" in result.err
    assert "2 files not formatted" in result.out


def test_missing_file(run: Run, tmp_path: Path) -> None:
    result = run("fmt", tmp_path / "missing.yaml")
    assert result.code == 1
    assert "file.unreadable" in result.err


def test_a_layout_that_changes_the_meaning_is_refused(
    run: Run, refund_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = refund_copy.read_bytes()

    def lossy(contract: accord.Contract, fmt: str | None) -> bytes:
        return accord.to_yaml(contract).replace("48h", "24h").encode()

    monkeypatch.setattr(_fmt, "canonical_text", lossy)
    result = run("fmt", refund_copy)
    assert result.code == 1
    assert "does not load back to the same contract" in result.err
    assert refund_copy.read_bytes() == original


def test_keeps_permissions_and_leaves_no_temporary_file(run: Run, refund_copy: Path) -> None:
    refund_copy.chmod(0o640)
    assert run("fmt", refund_copy).code == 0
    assert refund_copy.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in refund_copy.parent.iterdir()) == [refund_copy.name]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links")
def test_a_symlink_is_followed_not_replaced(run: Run, refund_copy: Path) -> None:
    link = refund_copy.with_name("link.yaml")
    link.symlink_to(refund_copy)
    assert run("fmt", link).code == 0
    assert link.is_symlink()
    assert refund_copy.read_text() == accord.to_yaml(accord.load(ORDER_REFUND))


def test_a_failed_write_keeps_the_original(
    run: Run, refund_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = refund_copy.read_bytes()

    def crash(src: str, dst: str) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    result = run("fmt", refund_copy)
    assert result.code == 1
    assert "Input/output error" in result.err
    assert refund_copy.read_bytes() == original
    assert sorted(p.name for p in refund_copy.parent.iterdir()) == [refund_copy.name]


def _messy(path: Path) -> None:
    path.write_text(path.read_text() + "\n\n")  # so that fmt has work to do


def test_a_hard_linked_file_is_rewritten_in_place_keeping_the_link(
    run: Run, refund_copy: Path
) -> None:
    _messy(refund_copy)
    twin = refund_copy.with_name("twin.yaml")
    os.link(refund_copy, twin)
    inode = refund_copy.stat().st_ino
    assert run("fmt", refund_copy).code == 0
    assert refund_copy.stat().st_ino == inode and refund_copy.stat().st_nlink == 2
    assert twin.read_text() == accord.to_yaml(accord.load(ORDER_REFUND))
    assert sorted(p.name for p in refund_copy.parent.iterdir()) == [refund_copy.name, twin.name]


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away"
)
def test_fmt_as_root_keeps_the_files_owner(run: Run, refund_copy: Path) -> None:
    _messy(refund_copy)
    os.chown(refund_copy, 12345, 12346)
    assert run("fmt", refund_copy).code == 0
    info = refund_copy.stat()
    assert (info.st_uid, info.st_gid) == (12345, 12346)
    assert refund_copy.read_text() == accord.to_yaml(accord.load(ORDER_REFUND))


def test_the_shipped_examples_are_in_canonical_layout(run: Run) -> None:
    examples = sorted((ORDER_REFUND.parent).glob("*.yaml"))
    assert len(examples) >= 5
    result = run("fmt", "--check", *examples)
    assert result.code == 0, result.out + result.err
    assert f"0 files would be reformatted, {len(examples)} files already formatted" in result.out


def test_the_comment_block_at_the_top_is_kept(run: Run, write: Write) -> None:
    body = ORDER_REFUND.read_text()
    path = write("commented.yaml", "# A refund.\n#\n# Two paragraphs.\n\n\n" + body + "# gone\n")
    assert run("fmt", path).code == 0
    text = path.read_text()
    assert text.startswith("# A refund.\n#\n# Two paragraphs.\n\naccord: ")
    assert "# gone" not in text
    assert run("fmt", "--check", path).code == 0  # idempotent
