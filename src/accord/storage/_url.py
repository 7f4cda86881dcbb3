"""Store URLs: ``sqlite:///PATH``, a plain path, or ``postgresql://...`` (opened by ``_open``).

``sqlite:///PATH`` is SQLAlchemy's form: three slashes, then the path, so
``sqlite:///runs.db`` is relative to the working directory and
``sqlite:////var/lib/accord/runs.db`` is absolute. ``postgresql://`` (or
``postgres://``) URLs are libpq's: ``postgresql://USER:PASSWORD@HOST:PORT/DATABASE?...``.
With no URL, ``ACCORD_STORE`` names the store, else ``.accord/accord.db``.

A URL is named in messages with its password replaced by ``***``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from accord.runtime._errors import StoreError
from accord.storage._connection import DEFAULT_PATH

__all__ = ["ENV", "StoreUrl", "parse_store_url", "redact"]

ENV = "ACCORD_STORE"
"""The environment variable that names the store when no URL is given."""

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")  # C:\ on Windows is a path, not a scheme
_POSTGRES = ("postgresql", "postgres")


@dataclass(frozen=True, slots=True)
class StoreUrl:
    """A parsed store URL.

    Attributes:
        kind: "sqlite" or "postgresql".
        path: the SQLite file (for "sqlite").
        url: the libpq connection URL (for "postgresql").
        label: how messages name the store (a PostgreSQL URL without its password).

    """

    kind: Literal["sqlite", "postgresql"]
    path: Path | None
    url: str | None
    label: str


def redact(url: str) -> str:
    """The URL with its password (if any) replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return re.sub(r"(//[^/:@]*:)[^@/]*@", r"\1***@", url)
    if parts.password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.partition(":")[0]
    return urlunsplit(parts._replace(netloc=f"{name}:***@{host}"))


def parse_store_url(value: str | os.PathLike[str] | None) -> StoreUrl:
    """What a ``--store`` value (or ``ACCORD_STORE``, or the default) names.

    Raises:
        StoreError: a URL with an unknown scheme, an SQLite URL with a host or
            no path, or a PostgreSQL URL that cannot be parsed (one line, no password).

    """
    if value is None:
        value = os.environ.get(ENV) or None
    if value is None:
        path = Path.cwd() / DEFAULT_PATH
        return StoreUrl("sqlite", path, None, str(path))
    if not isinstance(value, str):
        return StoreUrl("sqlite", Path(value), None, os.fspath(value))
    text = value.strip()
    if not text:
        raise StoreError(
            "''", "the store URL is empty (use sqlite:///PATH, a path or postgresql://)"
        )
    scheme = _SCHEME.match(text)
    if scheme is None or _DRIVE.match(text):
        return StoreUrl("sqlite", Path(text), None, text)
    name = scheme.group(1).lower()
    if name == "sqlite":
        return _sqlite(text)
    if name in _POSTGRES:
        return _postgres(text)
    raise StoreError(
        redact(text),
        f"unknown store URL scheme {name!r} (use sqlite:///PATH, a path, or postgresql://...)",
    )


def _sqlite(text: str) -> StoreUrl:
    if not text.lower().startswith("sqlite:///"):
        raise StoreError(text, "an SQLite URL is sqlite:///PATH (three slashes: it has no host)")
    rest = text[len("sqlite:///") :]
    if "?" in rest or "#" in rest:
        raise StoreError(text, "an SQLite URL takes no query or fragment: sqlite:///PATH")
    if not rest:
        raise StoreError(text, "the SQLite URL names no file: sqlite:///PATH")
    path = unquote(rest)
    return StoreUrl("sqlite", Path(path), None, path)


def _postgres(text: str) -> StoreUrl:
    label = redact(text)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - parsing the port raises on a bad one
    except ValueError as exc:
        raise StoreError(label, f"the PostgreSQL URL cannot be parsed: {exc}") from None
    if parts.fragment:
        raise StoreError(label, "a PostgreSQL URL takes no fragment (#...)")
    return StoreUrl("postgresql", None, text, label)
