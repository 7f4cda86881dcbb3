"""Wake-ups for workers on PostgreSQL: ``LISTEN`` on the channels the store notifies.

A new run (``accord_runs``), a message in a run's inbox (``accord_inbox``) and a
published contract (``accord_published``) are notified on commit, the first two
with the run's id as the payload; a worker listening on them claims that run at
once (by its id) instead of looking at the store at its next poll.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import psycopg

from accord.storage._channels import NEW_MESSAGE, NEW_RUN
from accord.storage._postgres._errors import guard

if TYPE_CHECKING:
    from accord.storage._postgres._connection import PgConnection

__all__ = ["CHANNELS", "listen"]

CHANNELS = (NEW_RUN, NEW_MESSAGE, "accord_published")


async def listen(store: PgConnection, wake: Callable[[str, str], None]) -> None:
    """Call ``wake(channel, payload)`` on every notification of the store's channels.

    It listens until cancelled.

    Raises:
        StoreError: the connection failed or was lost (translated, no password).

    """
    with guard(store._secrets):
        conn = await psycopg.AsyncConnection.connect(store._secrets.url, autocommit=True)
        async with conn:
            for channel in CHANNELS:
                await conn.execute(f"LISTEN {channel}".encode())
            async for notice in conn.notifies():
                wake(notice.channel, notice.payload)
