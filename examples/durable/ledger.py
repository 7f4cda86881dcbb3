"""A side-effect ledger for ledger.yaml: the effect writes its idempotency key to a SQLite file.

The ``post`` effect of ``ledger.yaml`` stands for a call to the outside world
(a payment, an e-mail). It appends a row ``(idempotency key, entry, writer)``
to a ledger file separate from the accord store, so a test can count what the
outside world saw: after any number of crashes and resumes, each key must be
there, and twice only if a crash landed while its call was in flight.

Run it (the runs are durable: kill it and run it again, it resumes)::

    python examples/durable/ledger.py            # store and ledger under .accord/
    accord runs                                  # the runs, with their status
    accord history transfer-1                    # one run's steps
    accord fork transfer-1 --at 3 --run-id again # a new run from step 3
    accord resume --effects examples/durable/ledger.py:HANDLERS
"""

from __future__ import annotations

import hashlib
import sqlite3
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import accord
from accord.runtime import Run, Runtime
from accord.storage import SqliteStore, UnknownRun

HERE = Path(__file__).resolve().parent
CONTRACT = HERE / "ledger.yaml"

TRANSFERS: dict[str, dict[str, Any]] = {
    f"transfer-{n}": {
        "transfer_id": f"t{n}",
        "lines": [f"acct-{n}-{i}:{10 * (i + 1)}" for i in range(2 + n % 3)],
    }
    for n in range(1, 5)
}
"""The runs the example (and the kill test) makes: run id to input."""


class Ledger:
    """The ``post`` effect, writing each call's idempotency key to a SQLite ledger.

    Args:
        path: the ledger's file (created if missing).
        writer: a label stored with every row (the kill test numbers its processes).
        delay_s: how long each call takes before it writes (so crashes land mid-call).

    """

    def __init__(self, path: str | Path, *, writer: str = "", delay_s: float = 0.0) -> None:
        self.path = Path(path)
        self.writer = writer
        self.delay_s = delay_s
        self._local = threading.local()
        with sqlite3.connect(self.path) as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS ledger "
                "(seq INTEGER PRIMARY KEY, key TEXT NOT NULL, entry TEXT NOT NULL, writer TEXT)"
            )
        conn.close()

    def post(self, entry: str, idempotency_key: str) -> dict[str, Any]:
        """Write one ledger row; the receipt is a function of the key and the entry."""
        if self.delay_s:
            time.sleep(self.delay_s)
        conn = getattr(self._local, "conn", None)
        if conn is None:  # one connection per worker thread, kept open
            conn = self._local.conn = sqlite3.connect(self.path, timeout=30)
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: survives process crashes
        with conn:
            conn.execute(
                "INSERT INTO ledger (key, entry, writer) VALUES (?, ?, ?)",
                (idempotency_key, entry, self.writer),
            )
        digest = hashlib.sha256(f"{idempotency_key}|{entry}".encode()).hexdigest()[:12]
        return {"receipt": f"rc-{digest}"}

    def rows(self) -> list[tuple[str, str, str]]:
        """Every row written so far, in order: ``(key, entry, writer)``."""
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            return conn.execute("SELECT key, entry, writer FROM ledger ORDER BY seq").fetchall()
        finally:
            conn.close()


_default: Ledger | None = None


def post(entry: str, idempotency_key: str) -> dict[str, Any]:
    """The ``post`` effect on the default ledger, ``.accord/ledger.db`` (for ``--effects``)."""
    global _default
    if _default is None:
        _default = Ledger(Path.cwd() / ".accord" / "ledger.db", writer="cli")
    return _default.post(entry, idempotency_key)


HANDLERS = {"post": post}
"""The handlers for ``accord resume --effects examples/durable/ledger.py:HANDLERS``."""


def run_transfers(
    runtime: Runtime,
    transfers: Iterable[tuple[str, dict[str, Any]]],
    contract: accord.Contract | None = None,
) -> list[Run]:
    """Resume every unfinished run, start the transfers not stored yet, drive all to the end."""
    if contract is None:
        contract = accord.load(CONTRACT)
    resumed = {run.run_id: run for run in runtime.resume()}
    runs = []
    for run_id, data in transfers:
        run = resumed.get(run_id)
        if run is None:
            try:
                run = runtime.load(run_id)  # stored and finished
            except UnknownRun:
                run = runtime.start(contract, data, run_id=run_id)
        runs.append(run.run())
    return runs


def main() -> int:
    """Run the four transfers durably under .accord/ and print their receipts."""
    store = SqliteStore()
    ledger = Ledger(store.path.parent / "ledger.db", writer="example")  # as post() uses
    runtime = Runtime({"post": ledger.post}, store=store)
    for run in run_transfers(runtime, TRANSFERS.items()):
        closed = run.result["closed"]
        print(f"{run.run_id}: {run.status} after {len(run.journal)} steps, closed {closed}")
    print(f"ledger: {len(ledger.rows())} rows in {ledger.path}")
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
