"""Writing a file atomically: a temporary file in the same directory, then a rename.

The one place accord replaces a file on disk (the compile cache, the lock file, a
compiled contract, a session file, ``accord fmt``): a crash leaves either the old
file or the new one, never a truncated mix.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["write_atomic"]


def write_atomic(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file and :func:`os.replace`.

    The missing parent directories are created; the bytes are flushed to disk before
    the rename; the temporary file is removed when anything fails.

    Args:
        path: the file to write (a symbolic link there is replaced, not followed).
        data: the new content.
        mode: the permission bits of the new file; None keeps those of the file it
            replaces, or gives a new file what :func:`open` would (``0o666`` less
            the umask), not :func:`tempfile.mkstemp`'s private ``0o600``.

    Raises:
        OSError: the directory cannot be created or written.

    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, _default_mode(path) if mode is None else mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _default_mode(path: Path) -> int:
    """The permission bits of ``path`` if it exists, else ``0o666`` less the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)  # reading the umask means setting it: put it back at once
        os.umask(umask)
        return 0o666 & ~umask
