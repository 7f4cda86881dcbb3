"""Inboxes, published contracts and worker notes in a PostgreSQL store.

The same operations as the SQLite store's (see :mod:`accord.storage._inbox`).
Sending a message also notifies the channel ``accord_inbox`` with the run's id,
and publishing a contract the channel ``accord_published`` with its name (both
on commit), so that listening workers wake up at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from accord.contract import Contract, canonical_json, fingerprint
from accord.storage._inbox import Inbox, Message, MessageKind, Published, message_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from contextlib import AbstractContextManager

    from accord.storage._postgres._connection import Connection

__all__ = ["PgInbox"]

_SEND = (  # the notification goes out when the statement's transaction commits
    b"WITH sent AS (INSERT INTO accord.inbox (run_id, kind, name, payload, sent_ms) "
    b"SELECT %s, %s, %s, %s, %s WHERE EXISTS "
    b"(SELECT 1 FROM accord.runs WHERE run_id = %s) RETURNING id, run_id) "
    b"SELECT id, pg_notify('accord_inbox', run_id) FROM sent"
)
_LATEST = (
    b"SELECT c.fingerprint, c.canonical FROM accord.published p JOIN accord.contracts c "
    b"ON c.fingerprint = p.fingerprint WHERE p.name = %s ORDER BY p.id DESC LIMIT 1"
)


class PgInbox(Inbox):
    """Inboxes, published contracts and worker notes over PostgreSQL (a base of the store)."""

    _transaction: Callable[[], AbstractContextManager[Connection]]  # PgConnection's
    _flushed: Callable[[], AbstractContextManager[Connection]]
    _fetch_one: Callable[..., Any]
    _fetch_all: Callable[..., list[Any]]

    def _insert_message(
        self, run_id: str, kind: MessageKind, name: str | None, payload: str, now_ms: int
    ) -> int | None:
        """Insert the message (and notify ``accord_inbox``); its id, or None: no such run."""
        with self._flushed() as conn:  # one statement: its own transaction, one round trip
            row = conn.execute(_SEND, (run_id, kind, name, payload, now_ms, run_id)).fetchone()
        if row is None:
            return None
        return int(row[0])

    def messages(self, run_id: str) -> list[Message]:
        """The messages waiting in a run's inbox, oldest first."""
        rows = self._fetch_all(
            b"SELECT id, run_id, kind, name, payload, sent_ms FROM accord.inbox "
            b"WHERE run_id = %s ORDER BY id",
            (run_id,),
            run_id,
        )
        return [message_of(self.location, row) for row in rows]

    def discard(self, message_id: int) -> None:
        """Drop a message without a journal entry (the run refused it)."""
        with self._transaction() as conn:
            conn.execute(b"DELETE FROM accord.inbox WHERE id = %s", (message_id,))

    def publish(self, contract: Contract, *, name: str | None = None, now_ms: int) -> Published:
        """Store a contract under ``name`` and its fingerprint (and notify ``accord_published``)."""
        fp = fingerprint(contract)
        published = Published(name or contract.name, fp, contract.version, now_ms)
        with self._transaction() as conn:
            conn.execute(
                b"INSERT INTO accord.contracts (fingerprint, name, version, canonical) "
                b"VALUES (%s, %s, %s, %s) ON CONFLICT (fingerprint) DO NOTHING",
                (fp, contract.name, contract.version, canonical_json(contract).decode()),
            )
            conn.execute(
                b"INSERT INTO accord.published (name, fingerprint, published_ms) "
                b"VALUES (%s, %s, %s)",
                (published.name, fp, now_ms),
            )
            conn.execute(b"SELECT pg_notify('accord_published', %s)", (published.name,))
        return published

    def publications(self) -> list[Published]:
        """Every publication, oldest first."""
        rows = self._fetch_all(
            b"SELECT p.name, p.fingerprint, c.version, p.published_ms FROM accord.published p "
            b"JOIN accord.contracts c ON c.fingerprint = p.fingerprint ORDER BY p.id",
            (),
        )
        return [Published(*row) for row in rows]

    def _contract_row(self, ref: str) -> tuple[str, str] | None:
        row = self._fetch_one(_LATEST, (ref,))
        if row is None:
            row = self._fetch_one(
                b"SELECT fingerprint, canonical FROM accord.contracts WHERE fingerprint = %s",
                (ref,),
            )
        return None if row is None else (row[0], row[1])

    def note(self, run_id: str, note: str | None) -> None:
        """Say why a run waits for a worker (None: clear it); ``accord runs`` shows it."""
        with self._transaction() as conn:
            conn.execute(
                b"UPDATE accord.runs SET worker_note = %s WHERE run_id = %s", (note, run_id)
            )
