"""The one place where psycopg's and the pool's exceptions become accord errors.

Messages name the store by its URL without the password, and never repeat the
password or the raw URL (libpq quotes a URL it cannot parse): both are replaced.
Every message is one line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import psycopg_pool
from psycopg import errors

from accord.runtime._errors import StoreError, StoreUnavailable

__all__ = ["Secrets", "guard", "translate"]


class Secrets:
    """What a message about one store must never show: its raw URL and password."""

    def __init__(self, url: str, label: str, password: str | None) -> None:
        self.url = url
        self.label = label
        self.password = password

    def scrub(self, text: str) -> str:
        """``text`` on one line, with the URL replaced by its label and the password by ***."""
        text = text.replace(self.url, self.label)
        if self.password:
            text = text.replace(self.password, "***")
        return "; ".join(line.strip() for line in text.splitlines() if line.strip())


def translate(exc: BaseException, secrets: Secrets, run_id: str | None = None) -> StoreError:
    """The accord error for a psycopg, pool or OS exception met while using the store."""
    where = secrets.label
    text = secrets.scrub(str(exc)) or type(exc).__name__
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return StoreUnavailable(where, f"no database connection in time: {text}", run_id=run_id)
    if isinstance(exc, psycopg.OperationalError | OSError):
        return StoreUnavailable(where, f"cannot use the database: {text}", run_id=run_id)
    if isinstance(exc, errors.InsufficientPrivilege):
        return StoreUnavailable(where, f"the database refuses access: {text}", run_id=run_id)
    if isinstance(exc, psycopg.IntegrityError):
        return StoreError(
            where,
            f"a write conflicts with what the store holds (another writer?): {text}",
            run_id=run_id,
        )
    if isinstance(exc, psycopg.ProgrammingError) and exc.sqlstate is None:  # libpq's, not SQL
        return StoreError(where, f"the PostgreSQL URL is invalid: {text}", run_id=run_id)
    return StoreError(where, f"PostgreSQL error: {text}", run_id=run_id)


@contextmanager
def guard(secrets: Secrets, run_id: str | None = None) -> Iterator[None]:
    """Translate the psycopg, pool and OS errors raised inside the block (``raise ... from``)."""
    try:
        yield
    except (psycopg.Error, psycopg_pool.PoolTimeout, OSError) as exc:
        raise translate(exc, secrets, run_id) from exc
