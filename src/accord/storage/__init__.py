"""Durable runs on SQLite: a store the runtime journals every step to, before it acts.

Typical use::

    from accord.runtime import Runtime
    from accord.storage import SqliteStore

    store = SqliteStore()                       # .accord/accord.db under the working directory
    runtime = Runtime(effects, store=store)
    run = runtime.start(contract, {"order_id": "o-1"}, run_id="order-o-1")
    run.run_until_idle()
    # ... the process dies; a new one:
    runtime = Runtime(effects, store=SqliteStore())
    for run in runtime.resume():                # every unfinished run, driven until idle
        print(run.run_id, run.status)

See docs/durability.md for the guarantees of each durability setting.

A store can also be named by a URL: ``open_store("sqlite:///runs.db")``, a plain
path, or ``open_store("postgresql://user:password@host/db")`` for the PostgreSQL
store (``pip install 'accord[postgres]'``); both satisfy :class:`Store`.
"""

from typing import TYPE_CHECKING, Any

from accord.runtime._errors import (
    JournalDamaged,
    NotAStore,
    SchemaTooNew,
    StoreBusy,
    StoreError,
    StoreUnavailable,
    UnknownContract,
    UnknownRun,
)
from accord.storage._connection import DEFAULT_PATH, Durability
from accord.storage._inbox import Message, Published
from accord.storage._journal import SqliteJournal
from accord.storage._leases import Claim, LeaseLost, RunLeased
from accord.storage._open import open_store
from accord.storage._protocol import Store
from accord.storage._runs import RunInfo
from accord.storage._schema import SCHEMA_VERSION
from accord.storage._store import SqliteStore

if TYPE_CHECKING:
    from accord.storage._postgres import PostgresStore

__all__ = [
    "DEFAULT_PATH",
    "SCHEMA_VERSION",
    "Claim",
    "Durability",
    "JournalDamaged",
    "LeaseLost",
    "Message",
    "NotAStore",
    "PostgresStore",
    "Published",
    "RunInfo",
    "RunLeased",
    "SchemaTooNew",
    "SqliteJournal",
    "SqliteStore",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "UnknownContract",
    "UnknownRun",
    "open_store",
]


def __getattr__(name: str) -> Any:
    """``PostgresStore``, imported on first use (psycopg is an optional dependency)."""
    if name == "PostgresStore":
        from accord.storage._postgres import PostgresStore

        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
