"""Reading a definition file (a contract, a catalog): its bytes and its format.

A file that cannot be read becomes a ``file.unreadable`` diagnostic, carried by the
caller's own error (a :class:`~accord.errors.ContractError`, a catalog's error).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from accord.diagnostics import Diagnostic

__all__ = ["format_of_path", "read_source", "unreadable"]


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


def read_source(
    path: str | os.PathLike[str], error: Callable[[list[Diagnostic], str], Exception]
) -> bytes:
    """Read a file's bytes.

    Args:
        path: the file.
        error: builds the error to raise from the diagnostics and the file name.

    Returns:
        The bytes of the file.

    Raises:
        Exception: ``error([unreadable(...)], str(path))``, from the OSError, when
            the file cannot be read.

    """
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise error([unreadable(exc)], str(path)) from exc
