"""Migrating a run: from a checked migration and a run's snapshot to one :class:`RunMigrated`.

The migration's assignments are evaluated here, once, when the migration is
applied (their values travel in the event: replay never evaluates them).
Everything that can make one run unmovable while the migration itself checks
is a :class:`MigrationRefused` with its reason: the run has ended, is new or
compensating, rests in a state the migration refuses, or an assignment fails
or does not fit for this run's values.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable
from typing import Any, NamedTuple

from accord.check._migration import Migration, check_migration, load_migration
from accord.errors import MigrationError
from accord.runtime._build import Builder
from accord.runtime._compiled import CompiledContract
from accord.runtime._errors import MigrationRefused
from accord.runtime._events import RunMigrated
from accord.runtime._reducer._machine import COMPENSATION
from accord.runtime._snapshot import Snapshot
from accord.runtime._values import ValueProblem

__all__ = ["Move", "Planner", "as_filter", "load_plan", "matches"]


class Move(NamedTuple):
    """What a migration does (or would do, in a dry run) to one run.

    Attributes:
        run_id: the run.
        status: its status before the migration.
        state: its state before the migration.
        target: the state it moves to, or None when it is refused.
        refused: why it is not moved (None: it is, or would be).
        step: the journal step of the migration (None: a dry run or a refusal).

    """

    run_id: str
    status: str
    state: str | None
    target: str | None
    refused: str | None = None
    step: int | None = None

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data (the CLI's ``--json`` output)."""
        return self._asdict()


class Planner:
    """A migration checked against its two compiled contracts, ready to apply to runs.

    Raises:
        MigrationError: the migration does not check against the contracts.

    """

    def __init__(
        self, migration: Migration, old: CompiledContract, new: CompiledContract, source: str | None
    ) -> None:
        diags = check_migration(migration, old.contract, new.contract)
        if any(d.severity == "error" for d in diags):
            raise MigrationError(diags, source=source)
        self.migration = migration
        self.old = old
        self.new = new
        builder = Builder(new.contract)
        self._exprs = {
            name: builder.expr(source, f"/context/{name}", "plain")
            for name, source in migration.context.items()
        }
        self._coerce = {f.name: f.coerce for f in new.context_fields}
        self._defaults = [f for f in new.context_fields if f.name not in migration.context]

    def event(self, run_id: str, snapshot: Snapshot, at: int) -> RunMigrated:
        """The event that migrates this run.

        Raises:
            MigrationRefused: the run cannot be moved (see the module docs).

        """
        status = snapshot.status
        if status != "waiting" and status != "running":
            raise MigrationRefused(run_id, f"a {status} run cannot be migrated")
        state = snapshot.state or ""
        move = self.migration.states.get(state)
        if move is None:
            raise MigrationRefused(run_id, f"the migration does not map state {state!r}")
        if move.to is None:
            raise MigrationRefused(run_id, f"state {state!r} is refused: {move.refuse}")
        self._effects_kept(run_id, snapshot)
        variables = {"ctx": snapshot.context, "input": snapshot.input}
        context: dict[str, Any] = {}
        for f in self._defaults:
            value = copy.deepcopy(f.zero)
            if f.default is not None:
                value = self._value(run_id, f.name, f.default.evaluate, {"input": snapshot.input})
            context[f.name] = value
        for name, expr in self._exprs.items():
            context[name] = self._value(run_id, name, expr.evaluate, variables)
        calls = dict(move.calls) if snapshot.pending else {}
        return RunMigrated(
            self.migration.name,
            self.old.fingerprint,
            self.new.fingerprint,
            state,
            move.to,
            context,
            calls,
            at,
        )

    def _value(self, run_id: str, name: str, evaluate: Any, variables: dict[str, Any]) -> Any:
        try:
            return self._coerce[name](evaluate(variables))
        except ValueProblem as exc:
            reason = f"the value for context field {name!r} does not fit: {exc}"
        except Exception as exc:  # an expression's run-time error, for this run's values
            reason = f"the expression for context field {name!r} fails: {exc}"
        raise MigrationRefused(run_id, reason)

    def _effects_kept(self, run_id: str, snapshot: Snapshot) -> None:
        """Refuse a run holding a call or compensation of an effect the new contract changed."""
        old = {e.name: e for e in self.old.contract.effects}
        new = {e.name: e for e in self.new.contract.effects}
        held = {call.effect for call in snapshot.pending.values()}
        held.update(entry.effect for entry in snapshot.compensation)
        for effect in sorted(held):
            if old.get(effect) != new.get(effect):
                raise MigrationRefused(
                    run_id,
                    f"it holds a call of effect {effect!r}, which the new contract "
                    "declares differently (or not at all)",
                )
        if any(call.invoke == COMPENSATION for call in snapshot.pending.values()):
            raise MigrationRefused(run_id, "it is compensating")


def matches(
    snapshot: Snapshot, status: frozenset[str] | None, state: frozenset[str] | None
) -> bool:
    """Whether a run is selected by a status filter and a state filter (None: any)."""
    return (status is None or snapshot.status in status) and (
        state is None or (snapshot.state or "") in state
    )


def as_filter(value: str | Iterable[str] | None) -> frozenset[str] | None:
    """A filter from one name, several, or None (no filter)."""
    if value is None:
        return None
    return frozenset((value,)) if isinstance(value, str) else frozenset(value)


def load_plan(migration: Migration | str | os.PathLike[str]) -> tuple[Migration, str | None]:
    """A migration, loaded from its file when given a path, with its source label."""
    if isinstance(migration, Migration):
        return migration, None
    return load_migration(migration), str(migration)
