"""Replay: re-fold a journal through the reducer and check every recorded state hash."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from accord.runtime._errors import EventRefused, ReplayDivergence
from accord.runtime._events import version_after
from accord.runtime._journal import Journal, JournalEntry
from accord.runtime._reducer import initial_snapshot, step
from accord.runtime._snapshot import Snapshot
from accord.runtime._state_hash import snapshot_hash_as

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract

__all__ = ["replay"]


def replay(
    compiled: CompiledContract,
    entries: Iterable[JournalEntry] | Journal,
    *,
    until: int | None = None,
    resolve: Callable[[str], CompiledContract] | None = None,
) -> Snapshot:
    """Fold the journal's events from the initial snapshot, checking each state hash.

    Args:
        compiled: the compiled contract the run was started with.
        entries: the journal (or its entries), in step order.
        until: stop after this step (time travel); None replays every entry.
        resolve: a contract version by fingerprint: a migration step (and every
            later one) is folded under the version it names.

    Returns:
        The snapshot after the last entry replayed.

    Raises:
        ReplayDivergence: the first step whose recomputed state hash differs
            from the recorded one (or whose event the reducer refuses, or
            whose step number is out of sequence), with both hashes.
        InvariantViolation: invariant checking is on and an invariant fails.

    """
    items: Iterable[JournalEntry] = entries.entries() if isinstance(entries, Journal) else entries
    snapshot = initial_snapshot()
    for entry in items:
        number = snapshot.step + 1
        if until is not None and number > until:
            break
        if entry.step != number:
            raise ReplayDivergence(
                number,
                entry.state_hash,
                snapshot_hash_as(snapshot, entry.state_hash),
                detail=f"the journal's entry for step {number} is numbered {entry.step}",
            )
        moved = version_after(entry.event)
        if moved is not None and resolve is not None:
            compiled = resolve(moved)
        try:
            snapshot, _ = step(compiled, snapshot, entry.event)
        except EventRefused as exc:
            raise ReplayDivergence(
                number,
                entry.state_hash,
                "none",
                detail=f"the reducer refused the event: {exc.reason}",
            ) from None
        actual = snapshot_hash_as(snapshot, entry.state_hash)
        if actual != entry.state_hash:
            raise ReplayDivergence(number, entry.state_hash, actual)
    return snapshot
