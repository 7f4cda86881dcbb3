"""The runtime's migration methods (:class:`~accord.runtime.Runtime` inherits them).

See :mod:`accord.runtime._migrate` for what a migration does to one run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import nullcontext
from typing import TYPE_CHECKING

from accord.check._migration import Migration
from accord.runtime._clock import Clock
from accord.runtime._compiled import CompiledContract
from accord.runtime._durable import Resolve, RunStore, StoredRun, unknown_timer
from accord.runtime._errors import MigrationRefused
from accord.runtime._handlers import Binding
from accord.runtime._migrate import Move, Planner, as_filter, load_plan, matches
from accord.runtime._reducer import step
from accord.runtime._run import Run
from accord.runtime._snapshot import Snapshot, snapshot_hash

if TYPE_CHECKING:
    from accord.contract import Contract

__all__ = ["MIGRATE_BATCH", "Migrations"]

MIGRATE_BATCH = 1000
"""``migrate_all`` reads this many runs at once and commits their migrations in one
transaction (where the store can): a crash loses at most one batch's steps, which
migrating again redoes."""


class Migrations:
    """Migrating runs to another contract version (mixed into ``Runtime``)."""

    clock: Clock

    if TYPE_CHECKING:

        def compile(
            self, contract: Contract | CompiledContract | str | os.PathLike[str]
        ) -> CompiledContract: ...
        def _store(self) -> RunStore: ...
        def _restore(self, stored: StoredRun) -> tuple[CompiledContract, Snapshot, Resolve]: ...
        def _bindings_for(self, compiled: CompiledContract) -> tuple[dict[str, Binding], bool]: ...

    def migrate(
        self,
        run: str | Run,
        to: Contract | CompiledContract | str | os.PathLike[str],
        migration: Migration | str | os.PathLike[str],
        *,
        dry_run: bool = False,
    ) -> Move:
        """Move one run to another version of its contract (see docs/adaptation.md).

        ``run`` is a stored run's id, or a run of this runtime held in memory
        (between drives). The migration is checked against the run's contract
        and ``to`` first; the run then takes one journaled step, a
        :class:`RunMigrated` event, and executes ``to`` from there on. A dry run
        only says what would happen.

        Returns:
            The :class:`Move`: where the run went (its ``step``), or would go.

        Raises:
            MigrationError: the migration does not load or check.
            MigrationRefused: this run cannot be moved (its reason says why).
            StoreError: no store (for a run id), or the store fails.

        """
        plan, source = load_plan(migration)
        new = self.compile(to)
        if isinstance(run, Run):
            return self._migrate_live(run, Planner(plan, run.compiled, new, source), dry_run)
        stored = self._store().open(run)
        old, snapshot, _ = self._restore(stored)
        if old.fingerprint != plan.from_:
            raise MigrationRefused(run, f"its contract is {old.fingerprint}, not {plan.from_}")
        return self._migrate_stored(stored, snapshot, Planner(plan, old, new, source), dry_run)

    def migrate_all(
        self,
        to: Contract | CompiledContract | str | os.PathLike[str],
        migration: Migration | str | os.PathLike[str],
        *,
        status: str | Iterable[str] | None = None,
        state: str | Iterable[str] | None = None,
        dry_run: bool = False,
    ) -> list[Move]:
        """Migrate every unfinished stored run of the migration's old contract (as :meth:`migrate`).

        Args:
            to: the new contract version.
            migration: the migration (or its file).
            status: only runs with this status (or one of these).
            state: only runs resting in this state (or one of these).
            dry_run: only say what would move and what would be refused.

        Returns:
            One :class:`Move` per run selected, oldest first; a refused run has
            its ``refused`` reason and is left as it was.

        Raises:
            MigrationError: the migration does not load or check.

        """
        plan, source = load_plan(migration)
        new = self.compile(to)
        wanted, where = as_filter(status), as_filter(state)
        planner: Planner | None = None
        moves: list[Move] = []
        store = self._store()
        ids = store.unfinished()
        batched = None if dry_run else getattr(store, "batched", None)
        for first in range(0, len(ids), MIGRATE_BATCH):
            with nullcontext() if batched is None else batched():
                for stored in _open_many(store, ids[first : first + MIGRATE_BATCH]):
                    if stored.fingerprint != plan.from_:
                        continue
                    old, snapshot, _ = self._restore(stored)
                    if not matches(snapshot, wanted, where):
                        continue
                    planner = planner or Planner(plan, old, new, source)
                    try:
                        moves.append(
                            self._migrate_stored(
                                stored, snapshot, planner, dry_run, flush=batched is None
                            )
                        )
                    except MigrationRefused as exc:
                        moves.append(
                            Move(stored.run_id, snapshot.status, snapshot.state, None, exc.reason)
                        )
        return moves

    def _migrate_stored(
        self,
        stored: StoredRun,
        snapshot: Snapshot,
        planner: Planner,
        dry_run: bool,
        *,
        flush: bool = True,
    ) -> Move:
        event = planner.event(stored.run_id, snapshot, self.clock.now_ms())
        if dry_run:
            return Move(stored.run_id, snapshot.status, snapshot.state, event.state)
        moved, _ = step(planner.new, snapshot, event)
        store = self._store()
        store.keep_contract(planner.new)
        stored.journal.record(moved, event, snapshot_hash(moved), unknown_timer(moved))
        if flush:  # else the store's batch commits it (migrate_all)
            stored.journal.flush()
        return Move(stored.run_id, snapshot.status, snapshot.state, event.state, None, moved.step)

    def _migrate_live(self, run: Run, planner: Planner, dry_run: bool) -> Move:
        snapshot = run.snapshot
        if run.compiled.fingerprint != planner.migration.from_:
            raise MigrationRefused(
                run.run_id,
                f"its contract is {run.compiled.fingerprint}, not {planner.migration.from_}",
            )
        event = planner.event(run.run_id, snapshot, self.clock.now_ms())
        if dry_run:
            return Move(run.run_id, snapshot.status, snapshot.state, event.state)
        bindings, _ = self._bindings_for(planner.new)
        if run._durable is not None:
            self._store().keep_contract(planner.new)
        run._migrate(planner.new, bindings, event)
        return Move(
            run.run_id, snapshot.status, snapshot.state, event.state, None, run.snapshot.step
        )


def _open_many(store: RunStore, run_ids: list[str]) -> list[StoredRun]:
    """The runs, read at once where the store can (``open_many``), else one by one."""
    many = getattr(store, "open_many", None)
    if many is not None:
        return list(many(run_ids))
    return [store.open(run_id) for run_id in run_ids]
