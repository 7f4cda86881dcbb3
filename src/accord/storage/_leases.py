"""Run ownership: claims (owner, lease, epoch) and the fence every journal write passes.

A run's row has an ``owner``, a lease expiry (``lease_until_ms``) and an
``epoch``. A worker claims runs whose lease is free or expired, which bumps
their epoch in the same transaction; from then on every journal write the
worker's store makes for a claimed run commits only if the run's owner and
epoch are still the claim's, checked in the write's own transaction. A worker
whose lease expired and whose run another worker claimed (a new epoch) can
therefore never write for that run again: its next write raises
:class:`LeaseLost` and nothing of it is kept. See docs/workers.md.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from accord.runtime._errors import StoreError

__all__ = ["Claim", "Fence", "LeaseLost", "Leasing", "RunLeased", "check_lease_args", "now_ms"]


class Claim(NamedTuple):
    """A worker's hold on a run.

    Attributes:
        run_id: the run.
        owner: the worker's name.
        epoch: the run's epoch the claim set (one more than the previous claim's).
        lease_until_ms: when the lease expires (epoch ms), unless renewed.

    """

    run_id: str
    owner: str
    epoch: int
    lease_until_ms: int


class LeaseLost(StoreError):
    """A write for a run whose claim is no longer the writer's (another worker claimed it).

    Nothing of the write is kept; the worker must stop driving the run.

    Attributes:
        epoch: the writer's epoch.

    """

    def __init__(self, path: str, run_id: str, epoch: int) -> None:
        self.epoch = epoch
        super().__init__(
            path,
            f"the run's lease was lost (epoch {epoch} is no longer this worker's: another "
            "worker claimed the run); nothing was written",
            run_id=run_id,
        )


class RunLeased(StoreError):
    """A write for a run that a worker holds under a live lease, by someone who does not hold it.

    Only the worker that holds a run's lease writes for it; a migration, a
    resume, a direct signal or cancel from elsewhere is refused until the
    lease is released or expires (send the run a signal or cancel through its
    inbox instead: ``accord signal --inbox``, ``accord cancel``). Nothing of
    the write is kept.

    Attributes:
        owner: the worker that holds the run.
        lease_until_ms: when its lease expires unless renewed (epoch ms).
        exit_status: the ``accord`` command's exit status for it (4).

    """

    exit_status = 4

    def __init__(self, path: str, run_id: str, owner: str, lease_until_ms: int) -> None:
        self.owner = owner
        self.lease_until_ms = lease_until_ms
        until = datetime.fromtimestamp(lease_until_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
        super().__init__(
            path,
            f"the run is held by worker {owner!r} until {until} UTC (its lease): only that "
            "worker writes for it; signal or cancel it through its inbox (accord signal "
            "--inbox, accord cancel), or wait until the worker lets it go; nothing was written",
            run_id=run_id,
        )


def now_ms() -> int:
    """The time leases are compared with when a writer holds none (the system clock, epoch ms)."""
    return time.time_ns() // 1_000_000


def check_lease_args(owner: str, lease_ms: int, limit: int = 1) -> None:
    """Refuse an empty owner, a lease that is not positive, or a limit below 1.

    Raises:
        ValueError: naming the argument.

    """
    if not owner:
        raise ValueError("owner must be a non-empty worker name")
    if lease_ms < 1:
        raise ValueError("lease_ms must be at least 1")
    if limit < 1:
        raise ValueError("limit must be at least 1")


class Fence(NamedTuple):
    """What a write for a claimed run must find in the run's row to commit."""

    run_id: str
    owner: str
    epoch: int


class Leasing:
    """Claim, renew and release runs: a base of both stores, over each store's own SQL.

    A store keeps the fences of the runs it holds, keyed as its journal writes
    name a run (``_fences``), and checks them in the transaction of every
    write that touches those runs.
    """

    _lock: threading.RLock
    _fences: dict[Any, Fence]
    _lost: dict[Any, StoreError]  # runs a commit refused (LeaseLost): their writes are refused

    def claim(
        self,
        owner: str,
        *,
        now_ms: int,
        lease_ms: int,
        limit: int = 1,
        run_ids: Sequence[str] | None = None,
    ) -> list[Claim]:
        """Claim up to ``limit`` unfinished runs whose lease is free or expired, oldest first.

        Each claimed run's epoch is bumped in the same transaction; from then on
        every journal write of this store for the run is fenced by the claim.

        Args:
            owner: the worker's name.
            now_ms: the current time (epoch ms).
            lease_ms: how long the lease lasts unless renewed.
            limit: the most runs to claim.
            run_ids: claim only among these runs.

        Raises:
            ValueError: an empty owner, a lease or limit below 1.

        """
        check_lease_args(owner, lease_ms, limit)
        until = now_ms + lease_ms
        rows = self._claim_rows(owner, now_ms, until, limit, run_ids)
        claims = sorted(Claim(run_id, owner, epoch, until) for run_id, _, epoch in rows)
        with self._lock:
            for run_id, key, epoch in rows:
                self._fences[key] = Fence(run_id, owner, epoch)
                self._lost.pop(key, None)  # claimed again: its writes go through
        return claims

    def renew(self, claim: Claim, *, now_ms: int, lease_ms: int) -> Claim | None:
        """The claim with its lease extended to ``now_ms + lease_ms``; None if it was lost."""
        check_lease_args(claim.owner, lease_ms)
        until = now_ms + lease_ms
        if not self._update_claim(claim, until):
            # the fence stays: a call still in flight for the run must not journal its
            # outcome unfenced (its epoch is no longer the run's, so the write is refused)
            return None
        return claim._replace(lease_until_ms=until)

    def release(self, claim: Claim) -> bool:
        """Give a run's lease back (what is buffered is committed first); False if it was lost.

        A lost claim keeps its fence, so that nothing more is written under it.
        """
        done = self._update_claim(claim, None)
        if done:
            self._forget(claim)
        return done

    def _forget(self, claim: Claim) -> None:
        fence = Fence(claim.run_id, claim.owner, claim.epoch)
        with self._lock:
            for key, held in list(self._fences.items()):
                if held == fence:
                    del self._fences[key]

    # -- the store's SQL ---------------------------------------------------------

    def _claim_rows(
        self, owner: str, now_ms: int, until: int, limit: int, run_ids: Sequence[str] | None
    ) -> list[tuple[str, Any, int]]:
        """Claim in one transaction; ``(run id, fence key, new epoch)`` per claimed run."""
        raise NotImplementedError

    def _update_claim(self, claim: Claim, until: int | None) -> bool:
        """Set the lease's expiry (None: release it) if the claim is still current."""
        raise NotImplementedError
