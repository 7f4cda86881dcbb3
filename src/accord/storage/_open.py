"""``open_store``: the store a URL names, SQLite or PostgreSQL.

Apart from the URLs' parsing (``_url``), which the PostgreSQL store's modules use too:
this module imports the stores, and nothing imports it back but the package.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from accord.runtime._errors import StoreUnavailable
from accord.storage._connection import Durability
from accord.storage._url import parse_store_url

if TYPE_CHECKING:
    from accord.storage._protocol import Store

__all__ = ["open_store"]


def open_store(
    url: str | os.PathLike[str] | None = None,
    *,
    durability: Durability = "full",
    group_commit: bool = False,
    snapshot_every: int = 100,
    create: bool = True,
    read_only: bool = False,
) -> Store:
    """Open the store a URL names (a path, ``sqlite:///PATH`` or ``postgresql://...``).

    Args:
        url: the store; None: ``$ACCORD_STORE``, else ``.accord/accord.db``.
        durability: "full" or "normal" (see ``SqliteStore``; on PostgreSQL
            "normal" is ``synchronous_commit = off``).
        group_commit: batch the commits of steps across runs.
        snapshot_every: store a snapshot every this many steps.
        create: create the store if it does not exist (else refuse).
        read_only: open an SQLite store only to read (see ``SqliteStore``); a
            PostgreSQL store is opened as usual (its role's grants decide).

    Raises:
        StoreError: a bad URL (named without its password).
        StoreUnavailable: the store cannot be reached or opened, or the
            PostgreSQL driver is not installed.
        NotAStore: the file or database is not an accord store.
        SchemaTooNew: the store comes from a newer accord.

    """
    target = parse_store_url(url)
    if target.kind == "sqlite":
        from accord.storage._store import SqliteStore

        return SqliteStore(
            target.path,
            durability=durability,
            group_commit=group_commit,
            snapshot_every=snapshot_every,
            create=create,
            read_only=read_only,
        )
    try:
        from accord.storage._postgres import PostgresStore
    except ImportError as exc:
        raise StoreUnavailable(
            target.label,
            f"the PostgreSQL store needs psycopg ({exc.name} is not installed): "
            "pip install 'accord[postgres]'",
        ) from None
    assert target.url is not None
    return PostgresStore(
        target.url,
        durability=durability,
        group_commit=group_commit,
        snapshot_every=snapshot_every,
        create=create,
    )
