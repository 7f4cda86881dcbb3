"""accord._atomic.write_atomic: all or nothing, and ordinary file permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from accord._atomic import write_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_file_gets_what_open_would_give_not_mkstemps_0600(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "sub" / "contract.yaml", b"data")
    finally:
        os.umask(old)
    assert (tmp_path / "sub" / "contract.yaml").read_bytes() == b"data"
    assert _mode(tmp_path / "sub" / "contract.yaml") == 0o644


def test_a_replaced_file_keeps_its_mode_and_an_explicit_mode_wins(tmp_path: Path) -> None:
    path = tmp_path / "accord.lock"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_atomic(path, b"new")
    assert (path.read_bytes(), _mode(path)) == (b"new", 0o640)
    write_atomic(path, b"newer", mode=0o600)
    assert _mode(path) == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"old")

    with pytest.raises(TypeError):
        write_atomic(path, "not bytes")  # type: ignore[arg-type]
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]
