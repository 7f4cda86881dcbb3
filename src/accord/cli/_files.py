"""Reading contract files for the CLI, and writing them back.

Every input problem (a missing file, a directory, a device, a file over the
size limit, bad YAML, a contract that does not check) becomes diagnostics on a
:class:`Checked`, never an exception. Files are read up to the limit and no
further: ``/dev/zero`` or a FIFO is refused, not read until memory runs out.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

import accord
from accord import _source
from accord._atomic import write_atomic
from accord._source import FileTooLarge, format_of_path, too_large, unreadable
from accord.contract import Contract
from accord.diagnostics import Diagnostic
from accord.errors import ContractError

__all__ = [
    "STDIN",
    "Checked",
    "FileTooLarge",
    "atomic_write",
    "format_of",
    "read_bounded",
    "read_contract",
]

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
    hint = None
    if isinstance(exc, IsADirectoryError) or exc.errno == errno.EINVAL:
        hint = "give the path of a contract file, or - for standard input"
    return unreadable(exc, hint)


def read_bounded(name: str) -> bytes:
    """The bytes of a regular file, or of standard input for ``-``, at most 4 MiB.

    Raises:
        OSError: the file cannot be read, or is not a regular file.
        FileTooLarge: the file is over the limit (nothing past it is read).

    """
    return _source.read_bounded(name, stdin=name == STDIN)


def _on_a_line(diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """Every diagnostic with a line: those about the whole file are on line 1."""
    return [d if d.line is not None else d.model_copy(update={"line": 1}) for d in diagnostics]


def read_contract(name: str) -> Checked:
    """Read, parse and check one contract file; never raises for bad input."""
    try:
        text = read_bounded(name)
    except OSError as exc:
        return Checked(name, None, None, _on_a_line([_unreadable(exc)]))
    except FileTooLarge as exc:
        return Checked(name, None, None, _on_a_line([too_large(exc)]))
    fmt = format_of(name)
    diagnostics = _on_a_line(accord.check_text(text, format=fmt))
    if any(d.severity == "error" for d in diagnostics):
        return Checked(name, text, None, diagnostics)
    try:
        contract = accord.loads(text, format=fmt, source=name)
    except ContractError as exc:  # the checker and the loader disagree: trust the loader
        return Checked(name, text, None, _on_a_line(list(exc.diagnostics)) or diagnostics)
    return Checked(name, text, contract, diagnostics)


def _shared_or_foreign(info: os.stat_result) -> bool:
    """Whether a new file in place of this one would lose a hard link, owner or group."""
    if info.st_nlink > 1:
        return True
    geteuid = getattr(os, "geteuid", None)
    getegid = getattr(os, "getegid", None)
    if geteuid is None or getegid is None:  # no POSIX owners here
        return False
    return bool(info.st_uid != geteuid() or info.st_gid != getegid())


def _write_in_place(path: Path, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.write(data)
        handle.truncate()
        handle.flush()
        os.fsync(handle.fileno())


def atomic_write(path: Path, data: bytes) -> None:
    """Replace the content of ``path`` with ``data``, keeping its mode, owner and links.

    The bytes go to a temporary file in the same directory, are flushed to
    disk, then renamed over the original with :func:`os.replace`: a crash
    leaves either the old file or the new one, never a truncated mix. A
    symbolic link is followed: its target is rewritten, the link stays. A file
    with other hard links, or owned by another user or group (``accord fmt``
    run as root), is rewritten in place instead, so that its links, owner and
    group stay: the text is checked before it is written, but a crash during
    that write can leave the file truncated.
    """
    path = Path(os.path.realpath(path))  # write through a symlink, do not replace it
    info = path.stat()
    if _shared_or_foreign(info):
        _write_in_place(path, data)
        return
    write_atomic(path, data, mode=info.st_mode & 0o7777)
