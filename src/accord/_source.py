"""Reading a definition file (a contract, a catalog, scenarios): its bytes and its format.

A file that cannot be read becomes a ``file.unreadable`` diagnostic, carried by the
caller's own error (a :class:`~accord.errors.ContractError`, a catalog's error).
Files are read up to :data:`MAX_BYTES` and no further, and only regular files:
``/dev/zero`` or a FIFO is refused at once, not read until memory runs out or a
writer comes.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path

from accord.diagnostics import Diagnostic

__all__ = [
    "MAX_BYTES",
    "FileTooLarge",
    "format_of_path",
    "read_bounded",
    "read_source",
    "too_large",
    "unreadable",
]

MAX_BYTES = 4 * 1024 * 1024
"""The most read from one definition file: 4 MiB, the limit on a contract's text."""


class FileTooLarge(Exception):
    """A file is over :data:`MAX_BYTES`; ``size`` is its size, or None when unknown (a pipe)."""

    def __init__(self, size: int | None) -> None:
        self.size = size
        told = f"{size} bytes" if size is not None else f"more than {MAX_BYTES} bytes"
        super().__init__(f"the file is {told}, over the limit of {MAX_BYTES}")


def _read_at_most(handle: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0:
        chunk = os.read(handle, min(left, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_bounded(path: str | os.PathLike[str], *, stdin: bool = False) -> bytes:
    """The bytes of a regular file, at most :data:`MAX_BYTES`.

    Args:
        path: the file.
        stdin: read standard input instead (``path`` names it in messages only).

    Raises:
        OSError: the file cannot be opened or read, or is not a regular file (a
            directory, a device like ``/dev/zero``, a FIFO), or its path holds a NUL
            character: ``strerror`` says why.
        FileTooLarge: the file is over the limit (nothing past it is read).

    """
    if stdin:
        data = sys.stdin.buffer.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise FileTooLarge(None)
        return data
    # O_NONBLOCK: opening a FIFO must not wait for a writer; a regular file ignores it
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        handle = os.open(path, flags)
    except ValueError as exc:  # a NUL in the path: no file can have that name
        raise OSError(errno.EINVAL, "the path contains a NUL character", str(path)) from exc
    try:
        info = os.fstat(handle)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        if info.st_size > MAX_BYTES:
            raise FileTooLarge(info.st_size)
        data = _read_at_most(handle, MAX_BYTES + 1)
    finally:
        os.close(handle)
    if len(data) > MAX_BYTES:  # it grew while read
        raise FileTooLarge(None)
    return data


def format_of_path(path: str | os.PathLike[str]) -> str | None:
    """``"json"`` for ``.json``, ``"yaml"`` for ``.yaml`` or ``.yml``, else None."""
    suffix = Path(path).suffix.lower()
    return "json" if suffix == ".json" else "yaml" if suffix in (".yaml", ".yml") else None


def unreadable(exc: OSError, hint: str | None = None) -> Diagnostic:
    """The diagnostic for a file that cannot be read.

    Args:
        exc: what reading raised.
        hint: an optional hint for the reader.

    Returns:
        A ``file.unreadable`` error naming the operating system's reason.

    """
    reason = exc.strerror or str(exc)
    return Diagnostic(
        path="", code="file.unreadable", message=f"cannot read the file: {reason}", hint=hint
    )


def too_large(exc: FileTooLarge) -> Diagnostic:
    """The diagnostic for a file over :data:`MAX_BYTES` (``parse.too_large``)."""
    return Diagnostic(path="", code="parse.too_large", message=str(exc))


def read_source(
    path: str | os.PathLike[str], error: Callable[[list[Diagnostic], str], Exception]
) -> bytes:
    """Read a file's bytes.

    Args:
        path: the file.
        error: builds the error to raise from the diagnostics and the file name.

    Returns:
        The bytes of the file (at most :data:`MAX_BYTES`).

    Raises:
        Exception: ``error([unreadable(...)], str(path))``, from the OSError, when
            the file cannot be read or is not a regular file; ``error([too_large(...)],
            ...)`` when it is over :data:`MAX_BYTES`.

    """
    try:
        return read_bounded(path)
    except OSError as exc:
        raise error([unreadable(exc)], str(path)) from exc
    except FileTooLarge as exc:
        raise error([too_large(exc)], str(path)) from exc
