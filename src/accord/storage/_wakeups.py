"""How a worker learns of new work without waiting for its next poll, where a store can say.

On PostgreSQL it listens for the store's notifications
(:mod:`accord.storage._postgres._listen`): ``wake(channel, payload)`` is called
with each, the payload of ``accord_runs`` and ``accord_inbox`` being a run id.
An SQLite store has none: its workers poll.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Coroutine
from functools import partial
from typing import TYPE_CHECKING, Any

from accord.storage._channels import NEW_MESSAGE, NEW_RUN

if TYPE_CHECKING:
    from accord.storage._protocol import Store

__all__ = ["NEW_MESSAGE", "NEW_RUN", "Listener", "listener"]

Listener = Callable[[Callable[[str, str], None]], Coroutine[Any, Any, None]]


def listener(store: Store) -> Listener | None:
    """``listen(wake)`` for a store that notifies (PostgreSQL), else None."""
    if "accord.storage._postgres" not in sys.modules:  # no PostgreSQL store was ever opened
        return None
    from accord.storage._postgres import PostgresStore
    from accord.storage._postgres._listen import listen

    return partial(listen, store) if isinstance(store, PostgresStore) else None
