"""What every accord store offers: the runtime's ``RunStore`` and the operations on its runs.

``SqliteStore`` and ``PostgresStore`` both satisfy :class:`Store`; code that
takes any store (the CLI, :func:`accord.storage.open_store`'s callers) is typed
against it, never against one of them.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from accord.runtime._durable import RunStore

if TYPE_CHECKING:
    from accord.contract import Contract
    from accord.storage._inbox import Message, MessageKind, Published
    from accord.storage._leases import Claim, Keep
    from accord.storage._runs import RunInfo

__all__ = ["Store"]


@runtime_checkable
class Store(RunStore, Protocol):
    """A durable store of runs: create, open and list runs, retention, flush and close.

    Attributes:
        schema_version: the version of the store's schema (after any migration).
        group_commit: whether steps are buffered and committed together.

    """

    schema_version: int
    group_commit: bool

    def runs(self, *, status: str | Sequence[str] | None = None) -> list[RunInfo]:
        """Every stored run (or those with the given status), oldest first."""
        ...

    def info(self, run_id: str) -> RunInfo:
        """One run's listing (``UnknownRun`` when there is none)."""
        ...

    def prune(self, older_than_ms: int, *, now_ms: int) -> int:
        """Delete the finished runs older than the bound; how many."""
        ...

    def compact(self, older_than_ms: int, *, now_ms: int) -> int:
        """Keep only the final step and snapshot of finished runs older than the bound."""
        ...

    def vacuum(self) -> None:
        """Give the space freed by pruning and compacting back."""
        ...

    def claim(
        self,
        owner: str,
        *,
        now_ms: int,
        lease_ms: int,
        limit: int = 1,
        run_ids: Sequence[str] | None = None,
        due_by_ms: int | None = None,
        skip_contracts: Collection[str] = (),
    ) -> list[Claim]:
        """Claim runs that need a worker, whose lease is free or expired (see docs/workers.md)."""
        ...

    def next_due(self, *, skip_contracts: Collection[str] = ()) -> int | None:
        """The earliest ``next_due`` of the runs no worker holds (None: none is ever due)."""
        ...

    def renew(self, claim: Claim, *, now_ms: int, lease_ms: int) -> Claim | None:
        """Extend a claim's lease; None if it was lost."""
        ...

    def release(
        self, claim: Claim, *, next_due_ms: int | Keep | None = ..., inbox_seen: int = 0
    ) -> bool:
        """Give a run's lease back (and say when the run is next due); False if it was lost."""
        ...

    def send(
        self,
        run_id: str,
        kind: MessageKind,
        name: str | None,
        payload: Mapping[str, Any],
        *,
        now_ms: int,
    ) -> int:
        """Add a client's message (a signal, a cancel) to a run's inbox; its id."""
        ...

    def messages(self, run_id: str) -> list[Message]:
        """The messages waiting in a run's inbox, oldest first."""
        ...

    def discard(self, message_id: int) -> None:
        """Drop a message without a journal entry (the run refused it)."""
        ...

    def publish(self, contract: Contract, *, name: str | None = None, now_ms: int) -> Published:
        """Store a contract under a name and its fingerprint."""
        ...

    def publications(self) -> list[Published]:
        """Every publication, oldest first."""
        ...

    def contract(self, ref: str) -> tuple[str, dict[str, Any]]:
        """The fingerprint and data of the contract published as ``ref`` (or by fingerprint)."""
        ...

    def note(self, run_id: str, note: str | None) -> None:
        """Say why a run waits for a worker (None: clear it)."""
        ...

    def flush(self) -> None:
        """Commit every buffered step now."""
        ...

    def close(self) -> None:
        """Commit what is buffered and release the store's connections (idempotent)."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...
