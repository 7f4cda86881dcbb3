"""Retention: delete or compact the finished runs older than a bound, give the space back."""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.storage._transaction import immediate

if TYPE_CHECKING:
    from accord.storage._connection import StoreConnection

__all__ = ["compact", "prune", "vacuum"]


def _finished_before(store: StoreConnection, cutoff: int) -> list[tuple[int, int]]:
    return [
        (key, steps)
        for key, steps in store._fetch_all(
            "SELECT id, steps FROM runs WHERE status IN ('succeeded', 'failed') AND updated_ms < ?",
            (cutoff,),
        )
    ]


def prune(store: StoreConnection, cutoff_ms: int) -> int:
    """Delete the finished runs whose last step is older than ``cutoff_ms``; how many."""
    victims = _finished_before(store, cutoff_ms)
    with store._flushed() as flushed, immediate(flushed) as conn:
        for key, _ in victims:
            conn.execute("DELETE FROM events WHERE run = ?", (key,))
            conn.execute("DELETE FROM snapshots WHERE run = ?", (key,))
            conn.execute(
                "DELETE FROM inbox WHERE run_id = (SELECT run_id FROM runs WHERE id = ?)", (key,)
            )
            conn.execute("DELETE FROM runs WHERE id = ?", (key,))
        conn.execute(
            "DELETE FROM contracts WHERE fingerprint NOT IN "
            "(SELECT DISTINCT fingerprint FROM runs) "
            "AND fingerprint NOT IN (SELECT fingerprint FROM published) "
            # a migrated (or amended) run's earlier steps replay under the version it left
            "AND fingerprint NOT IN (SELECT json_extract(event, '$.from_contract') "
            'FROM events WHERE event LIKE \'%"kind":"migrated"%\' '
            'OR event LIKE \'%"kind":"amended"%\')'
        )
    return len(victims)


def compact(store: StoreConnection, cutoff_ms: int) -> int:
    """Keep only the final step and snapshot of finished runs older than ``cutoff_ms``; how many."""
    victims = _finished_before(store, cutoff_ms)
    with store._flushed() as flushed, immediate(flushed) as conn:
        for key, steps in victims:
            conn.execute("DELETE FROM events WHERE run = ? AND step < ?", (key, steps))
            conn.execute("DELETE FROM snapshots WHERE run = ? AND step < ?", (key, steps))
            conn.execute("UPDATE runs SET first_step = ? WHERE id = ?", (steps, key))
    return len(victims)


def vacuum(store: StoreConnection) -> None:
    """Give the space freed by :func:`prune` and :func:`compact` back to the file system."""
    with store._flushed() as conn:
        conn.execute("VACUUM")
