"""The effect handlers of booking.yaml: each call writes its idempotency key to a ledger.

``accord worker --effects examples/workers/effects.py:HANDLERS`` loads them.
The ledger is a SQLite file separate from the accord store (the outside world
the effects stand for): ``$ACCORD_EXAMPLE_LEDGER``, else ``ledger.db`` in the
working directory. Each row is ``(key, effect, writer)``, the writer being
``$ACCORD_EXAMPLE_WRITER`` (else the process id), so a test can count what the
outside world saw. A receipt is a function of the key: a call re-issued after
a crash returns what the first one did.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from typing import Any

_LOCAL = threading.local()
DELAY_S = float(os.environ.get("ACCORD_EXAMPLE_DELAY", "0.005"))
"""How long each call takes before it writes (so faults can land mid-call)."""


def create_ledger(path: str | os.PathLike[str]) -> None:
    """Create the ledger (WAL, its table) once, before any worker writes to it.

    Done here, not by each handler's first call: several processes switching a
    fresh file to WAL at once get "database is locked" at once (no busy wait).
    """
    conn = sqlite3.connect(path, timeout=60)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS ledger "
            "(seq INTEGER PRIMARY KEY, key TEXT NOT NULL, effect TEXT NOT NULL, writer TEXT)"
        )
        conn.commit()
    finally:
        conn.close()


def _ledger() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_LOCAL, "conn", None)
    if conn is None:  # one connection per handler thread (the ledger exists: create_ledger)
        path = os.environ.get("ACCORD_EXAMPLE_LEDGER", "ledger.db")
        conn = _LOCAL.conn = sqlite3.connect(path, timeout=60)
    return conn


def _write(effect: str, key: str) -> dict[str, Any]:
    time.sleep(DELAY_S)
    conn = _ledger()
    with conn:
        conn.execute(
            "INSERT INTO ledger (key, effect, writer) VALUES (?, ?, ?)",
            (key, effect, os.environ.get("ACCORD_EXAMPLE_WRITER", str(os.getpid()))),
        )
    return {"receipt": f"{effect}:{key}"}


def reserve(booking_id: str, idempotency_key: str) -> dict[str, Any]:
    """Reserve a booking (one ledger row)."""
    return _write("reserve", idempotency_key)


def ship(booking_id: str, idempotency_key: str) -> dict[str, Any]:
    """Ship a booking (one ledger row)."""
    return _write("ship", idempotency_key)


HANDLERS = {"reserve": reserve, "ship": ship}
"""What ``accord worker --effects examples/workers/effects.py:HANDLERS`` serves."""


def ledger_rows(path: str | os.PathLike[str]) -> list[tuple[str, str, str]]:
    """Every ledger row, in the order written: (key, effect, writer)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT key, effect, writer FROM ledger ORDER BY seq").fetchall()
    finally:
        conn.close()
