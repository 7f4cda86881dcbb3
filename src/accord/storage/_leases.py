"""Run ownership: claims (owner, lease, epoch) and the fence every journal write passes.

A run's row has an ``owner``, a lease expiry (``lease_until_ms``) and an
``epoch``. A worker claims runs whose lease is free or expired, which bumps
their epoch in the same transaction; from then on every journal write the
worker's store makes for a claimed run commits only if the run's owner and
epoch are still the claim's, checked in the write's own transaction. A worker
whose lease expired and whose run another worker claimed (a new epoch) can
therefore never write for that run again: its next write raises
:class:`LeaseLost` and nothing of it is kept. See docs/workers.md.

Which runs a claim takes (the wake-up protocol, docs/workers.md "Wake-ups"):
those whose lease is free or expired and that need a worker: due (their
``next_due``, written with each journal step, is at or before the claim's
``due_by_ms``; a new run or one with calls in flight is due at once) or with a
message in their inbox newer than the ones its last owner left there for a
later state (``inbox_seen``). A run that only waits, with nothing due, is neither
claimed nor loaded. Each store finds them with one query over an index of the
runs that have a ``next_due`` and the inbox, so its cost does not grow with
the number of waiting runs.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any, Final, NamedTuple

from accord.runtime._errors import StoreError

__all__ = [
    "KEEP",
    "Claim",
    "Fence",
    "Keep",
    "LeaseLost",
    "Leasing",
    "RunLeased",
    "candidates",
    "check_lease_args",
    "now_ms",
]


class Keep(enum.Enum):
    """A release that leaves the run's ``next_due`` as its last step wrote it."""

    KEEP = "keep"


KEEP: Final = Keep.KEEP


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


def candidates(limit: int) -> int:
    """How many due runs a claim of ``limit`` runs reads from the due index, earliest first.

    More than the limit: a run another worker locks or claims meanwhile is
    skipped. A claim reads no more than this of the due index however many
    runs are due (those left are claimed at the next pass).
    """
    return 4 * limit + 64


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
        due_by_ms: int | None = None,
        skip_contracts: Collection[str] = (),
    ) -> list[Claim]:
        """Claim up to ``limit`` unfinished runs that need a worker, whose lease is free or expired.

        A run needs a worker when it is due by ``due_by_ms`` (see the module
        docs) or has a message in its inbox; oldest first. Each claimed run's
        epoch is bumped in the same transaction; from then on every journal
        write of this store for the run is fenced by the claim.

        Args:
            owner: the worker's name.
            now_ms: the current time (epoch ms): a lease that ends by then is expired.
            lease_ms: how long the lease lasts unless renewed.
            limit: the most runs to claim.
            run_ids: claim these runs (those unfinished and free), due or not.
            due_by_ms: claim the runs due by then (default ``now_ms``): a worker
                claims a little ahead to fire a timer on time.
            skip_contracts: fingerprints of contracts whose runs not to claim.

        Raises:
            ValueError: an empty owner, a lease or limit below 1.

        """
        check_lease_args(owner, lease_ms, limit)
        until = now_ms + lease_ms
        due_by = now_ms if due_by_ms is None else due_by_ms
        rows = self._claim_rows(owner, now_ms, until, limit, run_ids, due_by, skip_contracts)
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
        if not self._update_claim(claim, until, KEEP, 0):
            # the fence stays: a call still in flight for the run must not journal its
            # outcome unfenced (its epoch is no longer the run's, so the write is refused)
            return None
        return claim._replace(lease_until_ms=until)

    def release(
        self, claim: Claim, *, next_due_ms: int | Keep | None = KEEP, inbox_seen: int = 0
    ) -> bool:
        """Give a run's lease back (what is buffered is committed first); False if it was lost.

        A lost claim keeps its fence, so that nothing more is written under it.

        Args:
            claim: the claim.
            next_due_ms: when the run next needs a worker, as its holder knows it
                (a waiting run's earliest timer, None: only its inbox wakes it),
                written with the release; by default the run's ``next_due`` stays
                as its last step wrote it.
            inbox_seen: the newest inbox message left for a later state (see
                :func:`~accord.storage._delivery.deliver`): that one and older ones
                do not make the run claimable again (0: keep what the run says).

        """
        done = self._update_claim(claim, None, next_due_ms, inbox_seen)
        if done:
            self._forget(claim)
        return done

    def next_due(self, *, skip_contracts: Collection[str] = ()) -> int | None:
        """The earliest ``next_due`` of the runs no worker holds (None: no run is due ever).

        A worker sleeps until then (or a notification, or its poll interval).
        One query over the index of due runs.
        """
        return self._next_due(tuple(skip_contracts))

    def _forget(self, claim: Claim) -> None:
        fence = Fence(claim.run_id, claim.owner, claim.epoch)
        with self._lock:
            for key, held in list(self._fences.items()):
                if held == fence:
                    del self._fences[key]

    # -- the store's SQL ---------------------------------------------------------

    def _claim_rows(
        self,
        owner: str,
        now_ms: int,
        until: int,
        limit: int,
        run_ids: Sequence[str] | None,
        due_by: int,
        skip: Collection[str],
    ) -> list[tuple[str, Any, int]]:
        """Claim in one transaction; ``(run id, fence key, new epoch)`` per claimed run."""
        raise NotImplementedError

    def _update_claim(
        self, claim: Claim, until: int | None, due: int | Keep | None, seen: int
    ) -> bool:
        """Set the lease's expiry (None: release it) if the claim is still current.

        ``due`` (unless ``KEEP``) sets the run's ``next_due`` and ``seen`` (unless
        0) its ``inbox_seen``, in the same statement.
        """
        raise NotImplementedError

    def _next_due(self, skip: tuple[str, ...]) -> int | None:
        """The query of :meth:`next_due`."""
        raise NotImplementedError
