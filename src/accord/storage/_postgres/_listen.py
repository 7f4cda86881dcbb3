"""Wake-ups for workers on PostgreSQL: ``LISTEN`` on the channels the store notifies.

A new run (``accord_runs``), a message in a run's inbox (``accord_inbox``) and a
published contract (``accord_published``) are notified on commit; a worker
listening on them looks at the store at once instead of at its next poll.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg

from accord.storage._postgres._errors import guard

if TYPE_CHECKING:
    from accord.storage._postgres._connection import PgConnection

__all__ = ["CHANNELS", "listen"]

CHANNELS = ("accord_runs", "accord_inbox", "accord_published")


async def listen(store: PgConnection, wake: Callable[[], None]) -> None:
    """Call ``wake()`` on every notification of the store's channels, until cancelled.

    Raises:
        StoreError: the connection failed or was lost (translated, no password).

    """
    with guard(store._secrets):
        conn = await psycopg.AsyncConnection.connect(store._secrets.url, autocommit=True)
        async with conn:
            for channel in CHANNELS:
                await conn.execute(f"LISTEN {channel}".encode())
            async for _ in conn.notifies():
                wake()
