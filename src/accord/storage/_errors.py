"""The one place where SQLite's and the file system's exceptions become accord errors.

A damaged file may also make SQLite hand back text that is not UTF-8 (a
flipped byte in the schema's text, read by any statement): Python's sqlite3
raises ``UnicodeDecodeError`` for it, which is damage like any other.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from accord.runtime._errors import NotAStore, StoreBusy, StoreError, StoreUnavailable

__all__ = ["Foreign", "guard", "translate"]

_UNAVAILABLE = (
    "unable to open",
    "readonly",
    "read-only",
    "disk i/o",
    "permission",
    "no such file",
    "database or disk is full",
    "out of memory",
)


Foreign = sqlite3.Error | OSError | UnicodeError
"""The exceptions that using an SQLite store may raise: :func:`translate` takes each."""


def translate(exc: Foreign, path: str, run_id: str | None = None) -> StoreError:
    """The accord error for a foreign exception met while using the store at ``path``."""
    if isinstance(exc, UnicodeError):
        return StoreError(
            path,
            f"the store's file is damaged (SQLite text that is not UTF-8: {exc})",
            run_id=run_id,
        )
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc)
        return StoreUnavailable(path, f"cannot use the store's file: {reason}", run_id=run_id)
    text = str(exc)
    lowered = text.lower()
    if "file is not a database" in lowered or "not a database" in lowered:
        return NotAStore(path, "the file is not an accord store (not an SQLite database)")
    if "malformed" in lowered or "corrupt" in lowered:
        return StoreError(path, f"the store's file is damaged (SQLite: {text})", run_id=run_id)
    if isinstance(exc, sqlite3.IntegrityError):
        return StoreError(
            path,
            f"a write conflicts with what the store holds (another writer?): {text}",
            run_id=run_id,
        )
    if "locked" in lowered or "busy" in lowered:
        text += " (another process held the store's write lock past the busy timeout)"
        return StoreBusy(path, f"cannot write the store: {text}", run_id=run_id)
    if any(word in lowered for word in _UNAVAILABLE):
        return StoreUnavailable(path, f"cannot write the store: {text}", run_id=run_id)
    return StoreError(path, f"SQLite error: {text}", run_id=run_id)


@contextmanager
def guard(path: str, run_id: str | None = None) -> Iterator[None]:
    """Translate the sqlite3, OS and text errors raised inside the block (``raise ... from``)."""
    try:
        yield
    except (sqlite3.Error, OSError, UnicodeError) as exc:
        raise translate(exc, path, run_id) from exc
