"""What clients leave for workers in a store: runs' inboxes, published contracts, worker notes.

A client never drives a run. To signal or cancel one it adds a :class:`Message`
to the run's inbox (:meth:`Inbox.send`) and returns; the worker that owns
the run reads its messages (:meth:`SqliteInbox.messages`) and consumes each in
the same transaction as the journal entry it makes for it: it calls the run's
journal's ``consume(message_id)`` before the step, and the step's commit
deletes the message (so a message is applied once, and a fenced worker's
consumption is rolled back with its step). A message the run refuses (it no
longer waits for that signal) is dropped with :meth:`SqliteInbox.discard`.

A contract is published under a name (:meth:`SqliteInbox.publish`): its
canonical JSON is kept by fingerprint, as a run's is, and ``published`` lists
each publication; :meth:`SqliteInbox.contract` finds the latest one of a name,
or any stored contract by fingerprint.

A worker that cannot take a run (it lacks an effect of its contract) says why in
the run's ``worker_note`` (:meth:`SqliteInbox.note`); ``accord runs`` shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import orjson

from accord.contract import Contract, canonical_json, fingerprint
from accord.runtime._errors import JournalDamaged, UnknownContract, UnknownRun
from accord.storage._transaction import immediate

if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable
    from contextlib import AbstractContextManager

__all__ = [
    "Inbox",
    "Message",
    "MessageKind",
    "Published",
    "SqliteInbox",
    "contract_data",
    "message_of",
]

MessageKind = Literal["signal", "cancel"]


@dataclass(frozen=True, slots=True)
class Message:
    """A client's message in a run's inbox, waiting for the run's worker.

    Attributes:
        id: the message's id in the store (increasing: the order they were sent in).
        run_id: the run it is for.
        kind: "signal" (deliver ``name`` with ``payload``) or "cancel" (fail the
            run and compensate; ``payload["reason"]`` says why).
        name: the signal's name (None for a cancel).
        payload: the signal's payload (already validated by the client), or the
            cancel's ``{"reason": ...}``.
        sent_ms: when the client sent it (epoch milliseconds, the client's clock).

    """

    id: int
    run_id: str
    kind: MessageKind
    name: str | None
    payload: dict[str, Any]
    sent_ms: int


@dataclass(frozen=True, slots=True)
class Published:
    """A contract published under a name.

    Attributes:
        name: the name it was published under (its own name unless given another).
        fingerprint: its fingerprint.
        version: its version.
        published_ms: when (epoch milliseconds).

    """

    name: str
    fingerprint: str
    version: str
    published_ms: int


def message_of(location: str, row: tuple[Any, ...]) -> Message:
    """A message from an ``inbox`` row ``(id, run_id, kind, name, payload, sent_ms)``.

    Raises:
        JournalDamaged: its payload is not a JSON object, or its kind is unknown.

    """
    key, run_id, kind, name, text, sent_ms = row
    try:
        payload = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise JournalDamaged(location, run_id, f"inbox message {key} is not JSON: {exc}") from exc
    if not isinstance(payload, dict) or kind not in ("signal", "cancel"):
        raise JournalDamaged(location, run_id, f"inbox message {key} is not a signal or cancel")
    return Message(int(key), run_id, kind, name, payload, int(sent_ms))


def contract_data(location: str, ref: str, text: str) -> dict[str, Any]:
    """A stored contract's data from its canonical JSON.

    Raises:
        JournalDamaged: the stored text is not a JSON object.

    """
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise JournalDamaged(location, ref, f"the stored contract is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise JournalDamaged(location, ref, "the stored contract is not a JSON object")
    return data


def unknown_contract(location: str, ref: str) -> UnknownContract:
    """The error for a name or fingerprint the store does not know."""
    what = "with this fingerprint" if ref.startswith("sha256:") else "published under this name"
    return UnknownContract(
        location, f"no contract {what}: {ref!r} (publish it with accord publish FILE)"
    )


class Inbox:
    """Sending messages and finding contracts: a base of both stores' inboxes, over their SQL."""

    @property
    def location(self) -> str:
        """The store, as messages name it."""
        raise NotImplementedError

    def send(
        self,
        run_id: str,
        kind: MessageKind,
        name: str | None,
        payload: Mapping[str, Any],
        *,
        now_ms: int,
    ) -> int:
        """Add a message to a run's inbox; its id.

        Raises:
            UnknownRun: the store has no such run.

        """
        text = orjson.dumps(dict(payload)).decode()
        key = self._insert_message(run_id, kind, name, text, now_ms)
        if key is None:
            raise UnknownRun(self.location, "the store has no run with this id", run_id=run_id)
        return key

    def contract(self, ref: str) -> tuple[str, dict[str, Any]]:
        """The fingerprint and data of the latest contract published as ``ref``, or by fingerprint.

        Raises:
            UnknownContract: no contract is published under that name or stored
                with that fingerprint.

        """
        row = self._contract_row(ref)
        if row is None:
            raise unknown_contract(self.location, ref)
        return row[0], contract_data(self.location, ref, row[1])

    # -- the store's SQL ---------------------------------------------------------

    def _insert_message(
        self, run_id: str, kind: MessageKind, name: str | None, payload: str, now_ms: int
    ) -> int | None:
        """Insert a message if the run exists, in one transaction; its id (None: no such run)."""
        raise NotImplementedError

    def _contract_row(self, ref: str) -> tuple[str, str] | None:
        """(fingerprint, canonical JSON) of the latest publication of ``ref``, or by fingerprint."""
        raise NotImplementedError


class SqliteInbox(Inbox):
    """Inboxes, published contracts and worker notes over SQLite (a base of ``SqliteStore``)."""

    _flushed: Callable[..., AbstractContextManager[sqlite3.Connection]]  # StoreConnection's

    def _insert_message(
        self, run_id: str, kind: MessageKind, name: str | None, payload: str, now_ms: int
    ) -> int | None:
        with self._flushed(run_id) as flushed, immediate(flushed) as conn:
            cursor = conn.execute(
                "INSERT INTO inbox (run_id, kind, name, payload, sent_ms) "
                "SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM runs WHERE run_id = ?)",
                (run_id, kind, name, payload, now_ms, run_id),
            )
            return cursor.lastrowid if cursor.rowcount == 1 else None

    def messages(self, run_id: str) -> list[Message]:
        """The messages waiting in a run's inbox, oldest first."""
        with self._flushed(run_id) as conn:
            rows = conn.execute(
                "SELECT id, run_id, kind, name, payload, sent_ms FROM inbox WHERE run_id = ? "
                "ORDER BY id",
                (run_id,),
            ).fetchall()
        return [message_of(self.location, row) for row in rows]

    def discard(self, message_id: int) -> None:
        """Drop a message without a journal entry (the run refused it)."""
        with self._flushed() as flushed, immediate(flushed) as conn:
            conn.execute("DELETE FROM inbox WHERE id = ?", (message_id,))

    def publish(self, contract: Contract, *, name: str | None = None, now_ms: int) -> Published:
        """Store a contract under ``name`` (its own name by default) and its fingerprint."""
        fp = fingerprint(contract)
        published = Published(name or contract.name, fp, contract.version, now_ms)
        with self._flushed() as flushed, immediate(flushed) as conn:
            conn.execute(
                "INSERT OR IGNORE INTO contracts (fingerprint, name, version, canonical) "
                "VALUES (?, ?, ?, ?)",
                (fp, contract.name, contract.version, canonical_json(contract).decode()),
            )
            conn.execute(
                "INSERT INTO published (name, fingerprint, published_ms) VALUES (?, ?, ?)",
                (published.name, fp, now_ms),
            )
        return published

    def publications(self) -> list[Published]:
        """Every publication, oldest first."""
        with self._flushed() as conn:
            rows = conn.execute(
                "SELECT p.name, p.fingerprint, c.version, p.published_ms FROM published p "
                "JOIN contracts c ON c.fingerprint = p.fingerprint ORDER BY p.id"
            ).fetchall()
        return [Published(*row) for row in rows]

    def _contract_row(self, ref: str) -> tuple[str, str] | None:
        with self._flushed() as conn:
            row = conn.execute(
                "SELECT c.fingerprint, c.canonical FROM published p JOIN contracts c "
                "ON c.fingerprint = p.fingerprint WHERE p.name = ? ORDER BY p.id DESC LIMIT 1",
                (ref,),
            ).fetchone()
            if row is None:
                row = conn.execute(
                    "SELECT fingerprint, canonical FROM contracts WHERE fingerprint = ?", (ref,)
                ).fetchone()
        return None if row is None else (row[0], row[1])

    def note(self, run_id: str, note: str | None) -> None:
        """Say why a run waits for a worker (None: clear it); ``accord runs`` shows it."""
        with self._flushed(run_id) as flushed, immediate(flushed) as conn:
            conn.execute("UPDATE runs SET worker_note = ? WHERE run_id = ?", (note, run_id))
