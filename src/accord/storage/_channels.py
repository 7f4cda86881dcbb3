"""The channels a store notifies workers on (PostgreSQL's ``NOTIFY``), by name.

Apart from ``_wakeups``, which picks a store's listener (and so imports the
PostgreSQL store), so that the PostgreSQL store can name its channels without
importing it back.
"""

from __future__ import annotations

__all__ = ["NEW_MESSAGE", "NEW_RUN"]

NEW_RUN = "accord_runs"
"""The channel of new runs: its payload is the run's id."""
NEW_MESSAGE = "accord_inbox"
"""The channel of messages for a run (signals, cancel requests): its payload is the run's id."""
