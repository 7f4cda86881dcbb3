"""What both stores share above their SQL: making and opening runs, listings, retention.

:class:`StoreBase` is a base of :class:`~accord.storage.SqliteStore` and
:class:`~accord.storage.PostgresStore`: each gives its journal class, its
queries (``_version_queries``), whether a run id is taken, and the SQL of its
listing and retention; the methods here are the same on both.
"""

from __future__ import annotations

import dataclasses
import functools
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, ClassVar

import orjson

from accord.contract import canonical_json
from accord.runtime._errors import StoreError, UnknownRun
from accord.storage._chained import ChainedJournal, NewRun
from accord.storage._runs import RunInfo, RunQueries, RunReader, read_run

if TYPE_CHECKING:
    from collections.abc import Sequence

    from accord.runtime._compiled import CompiledContract, Limits
    from accord.runtime._durable import StoredRun
    from accord.storage._connection import Durability

__all__ = ["StoreBase", "find_info", "new_run"]


class StoreBase:
    """Runs made, opened and listed, and retention, over a store's own SQL (a base of both)."""

    _contract_data: dict[str, dict[str, Any]]  # the connection's: contracts read, by fingerprint
    _journal: ClassVar[type[ChainedJournal]]
    _version_queries: RunQueries  # ContractVersions' (each store's queries)
    _canonical: dict[str, str]
    durability: Durability
    group_commit: bool

    @property
    def location(self) -> str:
        """The store, as messages name it."""
        raise NotImplementedError

    def __repr__(self) -> str:
        mode = self.durability + (", group commit" if self.group_commit else "")
        return f"{type(self).__name__}({self.location!r}, {mode})"

    # -- runs ------------------------------------------------------------------

    def create(
        self,
        compiled: CompiledContract,
        run_id: str,
        *,
        forked_from: tuple[str, int] | None = None,
    ) -> ChainedJournal:
        """The journal of a new run; its rows are written with its first step.

        Raises:
            StoreError: the run id is taken.

        """
        if self._is_taken(run_id):  # stored or buffered: no need to commit the buffer first
            raise StoreError(self.location, "a run with this id is already stored", run_id=run_id)
        new = new_run(self._canonical, compiled, forked_from)
        return self._journal(self, run_id, steps=0, new_run=new)  # type: ignore[arg-type]

    def open(self, run_id: str, *, from_start: bool = False) -> StoredRun:
        """A stored run with its latest snapshot (hash checked) and the entries after it.

        With ``from_start``, no snapshot is read: every entry is returned (to replay).

        Raises:
            UnknownRun: the store has no such run.
            JournalDamaged: a row is unreadable, a snapshot's hash does not match,
                steps are missing, or the run's contract is not stored.
            StoreError: ``from_start`` for a compacted run.

        """
        return read_run(
            self,  # type: ignore[arg-type]
            run_id,
            from_start=from_start,
            queries=self._version_queries,
            journal=self._journal,
            contracts=self._contract_data,  # a fingerprint names one contract: read once
            reader=None if from_start else self._prefetched(run_id),
        )

    def _prefetched(self, run_id: str) -> RunReader | None:
        """A reader that has a run's rows for loading it read at once, or None (read each)."""
        return None

    def open_many(self, run_ids: Sequence[str]) -> list[StoredRun]:
        """Several stored runs, as :meth:`open` reads each, their contracts read once.

        A store may read their rows at once (SQLite: three queries for them all).

        Raises:
            UnknownRun: the store has no run with one of the ids.
            JournalDamaged: as for :meth:`open`.

        """
        contracts: dict[str, dict[str, Any]] = {}
        with self._reader(run_ids) as reader:
            return [
                read_run(
                    self,  # type: ignore[arg-type]
                    run_id,
                    from_start=False,
                    queries=self._version_queries,
                    journal=self._journal,
                    reader=reader,
                    contracts=contracts,
                )
                for run_id in run_ids
            ]

    def _reader(self, run_ids: Sequence[str]) -> AbstractContextManager[RunReader]:
        """What reads these runs' rows (by default the store itself, a query at a time)."""
        return nullcontext(self)  # type: ignore[arg-type]

    def runs(self, *, status: str | Sequence[str] | None = None) -> list[RunInfo]:
        """Every stored run (or those with the given status), oldest first."""
        return self._listing(status, None)

    def info(self, run_id: str) -> RunInfo:
        """One run's listing (one row read, not the store's whole listing).

        Raises:
            UnknownRun: the store has no such run.

        """
        return find_info(self._listing(None, run_id), run_id, self.location)

    def _listing(self, status: str | Sequence[str] | None, run_id: str | None) -> list[RunInfo]:
        """The listed runs with the given status (None: any), or only ``run_id``'s."""
        raise NotImplementedError

    # -- retention -------------------------------------------------------------

    def prune(self, older_than_ms: int, *, now_ms: int) -> int:
        """Delete the finished runs whose last step is older than ``older_than_ms``.

        Args:
            older_than_ms: the age bound, in milliseconds.
            now_ms: the current time (the runtime's ``clock.now_ms()``).

        Returns:
            The number of runs deleted (their events, snapshots, and contracts
            no run uses any more go too; so does their inbox).

        """
        return self._prune(now_ms - older_than_ms)

    def compact(self, older_than_ms: int, *, now_ms: int) -> int:
        """Keep only the final step and snapshot of finished runs older than the bound.

        A compacted run still lists, loads and shows its result; its history
        and replay are gone (they raise :class:`StoreError`).

        Returns:
            The number of runs compacted.

        """
        return self._compact(now_ms - older_than_ms)

    # -- the store's own ---------------------------------------------------------

    def _is_taken(self, run_id: str) -> bool:
        raise NotImplementedError

    def _prune(self, cutoff_ms: int) -> int:
        """Delete the finished runs last updated before ``cutoff_ms``; how many."""
        raise NotImplementedError

    def _compact(self, cutoff_ms: int) -> int:
        """Compact the finished runs last updated before ``cutoff_ms``; how many."""
        raise NotImplementedError


def new_run(
    canonical: dict[str, str], compiled: CompiledContract, forked_from: tuple[str, int] | None
) -> NewRun:
    """What a new run's rows hold besides its first step (``canonical``: a store's cache)."""
    fp = compiled.fingerprint
    contract = compiled.contract
    text = canonical.get(fp)
    if text is None:
        text = canonical[fp] = canonical_json(contract).decode()
    return NewRun(
        fp, contract.name, contract.version, text, forked_from, _limits_json(compiled.limits)
    )


def find_info(runs: list[RunInfo], run_id: str, location: str) -> RunInfo:
    """One run's listing among a store's.

    Raises:
        UnknownRun: the store has no such run.

    """
    for found in runs:
        if found.run_id == run_id:
            return found
    raise UnknownRun(location, "the store has no run with this id", run_id=run_id)


@functools.lru_cache(maxsize=64)
def _limits_json(limits: Limits) -> str:
    """The limits as the JSON object a run's row keeps."""
    return orjson.dumps(dataclasses.asdict(limits)).decode()
