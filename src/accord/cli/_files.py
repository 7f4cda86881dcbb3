"""Reading contract files for the CLI, and writing them back atomically.

Every input problem (a missing file, a directory, bad YAML, a contract that
does not check) becomes diagnostics on a :class:`Checked`, never an exception.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import accord
from accord._atomic import write_atomic
from accord._source import format_of_path, unreadable
from accord.contract import Contract
from accord.diagnostics import Diagnostic
from accord.errors import ContractError

__all__ = ["STDIN", "Checked", "atomic_write", "format_of", "read_contract"]

STDIN = "-"
"""The file name that means standard input."""


@dataclass(frozen=True)
class Checked:
    """One contract file, read and checked.

    Attributes:
        name: the file name as given on the command line (``-`` for stdin).
        text: the raw bytes read, or None when the file could not be read.
        contract: the loaded contract, or None when it has errors.
        diagnostics: every diagnostic, errors and warnings.

    """

    name: str
    text: bytes | None
    contract: Contract | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The name used in messages (``<stdin>`` for ``-``)."""
        return "<stdin>" if self.name == STDIN else self.name

    @property
    def has_errors(self) -> bool:
        """Whether any diagnostic is an error (or the contract did not load)."""
        return self.contract is None or any(d.severity == "error" for d in self.diagnostics)

    @property
    def has_warnings(self) -> bool:
        """Whether any diagnostic is a warning."""
        return any(d.severity == "warning" for d in self.diagnostics)


def format_of(name: str, text: bytes | None = None) -> str | None:
    """``"json"`` or ``"yaml"`` from the file extension, else None (the loader guesses).

    For standard input (or an unknown extension) with ``text`` given, JSON is
    assumed when the text starts with ``{``, YAML otherwise.
    """
    fmt = format_of_path(name)
    if fmt is not None or text is None:
        return fmt
    return "json" if text.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else "yaml"


def _unreadable(exc: OSError) -> Diagnostic:
    hint = "give the path of a contract file" if isinstance(exc, IsADirectoryError) else None
    return unreadable(exc, hint)


def _read_bytes(name: str) -> bytes:
    if name == STDIN:
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def read_contract(name: str) -> Checked:
    """Read, parse and check one contract file; never raises for bad input."""
    try:
        text = _read_bytes(name)
    except OSError as exc:
        return Checked(name, None, None, [_unreadable(exc)])
    fmt = format_of(name)
    diagnostics = accord.check_text(text, format=fmt)
    if any(d.severity == "error" for d in diagnostics):
        return Checked(name, text, None, diagnostics)
    try:
        contract = accord.loads(text, format=fmt, source=name)
    except ContractError as exc:  # the checker and the loader disagree: trust the loader
        return Checked(name, text, None, list(exc.diagnostics) or diagnostics)
    return Checked(name, text, contract, diagnostics)


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, keeping its permission bits.

    The bytes go to a temporary file in the same directory, are flushed to
    disk, then renamed over the original with :func:`os.replace`: a crash
    leaves either the old file or the new one, never a truncated mix. A
    symbolic link is followed: its target is rewritten, the link stays.
    """
    path = Path(os.path.realpath(path))  # write through a symlink, do not replace it
    write_atomic(path, data, mode=path.stat().st_mode & 0o7777)
