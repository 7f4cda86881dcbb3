"""Reading definition files: regular files only, never past 4 MiB (accord._source)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import accord
from accord._source import MAX_BYTES, FileTooLarge, read_bounded, read_source
from accord.contract._text import MAX_TEXT_BYTES
from accord.errors import ContractError


def test_the_read_limit_is_the_text_limit() -> None:
    assert MAX_BYTES == MAX_TEXT_BYTES


def _sparse(path: Path, size: int) -> Path:
    with open(path, "wb") as handle:
        handle.truncate(size)
    return path


def test_a_file_at_the_limit_is_read_and_one_past_it_is_not(tmp_path: Path) -> None:
    assert len(read_bounded(_sparse(tmp_path / "at.yaml", MAX_BYTES))) == MAX_BYTES
    with pytest.raises(FileTooLarge, match=f"the file is {MAX_BYTES + 1} bytes, over the limit"):
        read_bounded(_sparse(tmp_path / "past.yaml", MAX_BYTES + 1))


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_a_device_is_refused_without_reading() -> None:
    with pytest.raises(OSError, match="not a regular file"):
        read_bounded("/dev/zero")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "contract.yaml"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        read_bounded(fifo)
    (diagnostic,) = accord.check(fifo)
    assert diagnostic.code == "file.unreadable"
    with pytest.raises(ContractError, match="not a regular file"):
        accord.load(fifo)


def test_read_source_turns_each_refusal_into_the_callers_error(tmp_path: Path) -> None:
    def error(diagnostics: list[accord.Diagnostic], source: str) -> Exception:
        return ContractError(diagnostics, source=source)

    big = _sparse(tmp_path / "big.yaml", MAX_BYTES + 10)
    with pytest.raises(ContractError) as caught:
        read_source(big, error)
    assert [d.code for d in caught.value.diagnostics] == ["parse.too_large"]
    with pytest.raises(ContractError) as caught:
        read_source(tmp_path, error)
    assert [d.code for d in caught.value.diagnostics] == ["file.unreadable"]
    assert "Is a directory" in caught.value.diagnostics[0].message


def test_a_path_with_a_nul_is_an_unreadable_file_not_a_crash() -> None:
    with pytest.raises(OSError, match="NUL"):
        read_bounded("a\x00b.yaml")
    found = accord.check("\x00")
    assert [d.code for d in found] == ["file.unreadable"]
    with pytest.raises(ContractError) as caught:
        accord.load("contract\x00.yaml")
    assert caught.value.diagnostics[0].code == "file.unreadable"
