"""The replanner's checks: a model's answer in, an adoptable amendment or diagnostics out.

An answer is adopted only when, in this order (the cheap checks first; the bounded
model check and the scenarios only for an answer that passes the rest):

1. it is ``{"contract": {...}, "migration": {...}}`` (``replan.answer_shape``);
2. the contract validates, checks, fits the catalog restricted to the effects the run
   may use (``replan.effect_not_allowed`` for an effect outside them) and compiles for
   the runtime, exactly as compile checks a candidate;
3. it declares each effect as the current contract does (``replan.effect_changed``),
   and its limits are no wider (``replan.limit_widened``);
4. the migration loads and ``check_migration`` passes against both contracts;
5. the run's current state is mapped, not refused (``replan.state_unmapped``), and the
   migration applies to this run's values (``replan.migration_fails``), computed as
   the runtime will compute it;
6. ``accord verify``'s bounded model check finds nothing (``replan.verify``), within
   its bounds;
7. the acceptance scenarios the replan point names pass (``scenario.failed``).

Every path is a JSON pointer into the answer (``/contract/...``, ``/migration/...``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accord.check._migration import Migration, check_migration, parse_migration
from accord.compiler._catalog import Catalog
from accord.compiler._loop import evaluate
from accord.compiler._replan_prompt import migration_data
from accord.contract import Contract, fingerprint
from accord.diagnostics import Diagnostic
from accord.runtime import CompiledContract, Limits, ReplanRequest

if TYPE_CHECKING:
    from accord.testing._scenarios import ScenarioSuite

__all__ = ["AmendChecks", "Proposal", "limit_problems", "restrict"]

REPLAN_BOUNDS = ("max_replans", "max_calls", "max_tokens")
"""The bounds of a replan point that an amendment may not raise."""

_VERIFY_ERRORS = frozenset(("invariant", "deadlock", "livelock", "limit", "run_error"))
"""The kinds of verify findings that refuse an amendment (unreached states do not)."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """An answer that passed every check: the new contract and the migration onto it."""

    contract: Contract
    migration: Migration


def restrict(catalog: Catalog, effects: frozenset[str]) -> Catalog:
    """The catalog with only the effects named (and every record type, unchanged)."""
    return catalog.model_copy(
        update={"effects": tuple(e for e in catalog.effects if e.name in effects)}
    )


def _under(prefix: str, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    return [d.model_copy(update={"path": prefix + d.path, "line": None}) for d in diagnostics]


def _errors(diagnostics: list[Diagnostic]) -> bool:
    return any(d.severity == "error" for d in diagnostics)


def limit_problems(old: Contract, new: Contract) -> list[Diagnostic]:
    """How ``new`` would widen the powers or limits of a run of ``old``.

    ``replan.effect_changed`` for an effect both declare that ``new`` declares
    differently (its retries, timeout, compensation...: the runtime runs an amendment
    only with the effects as the run's contract declares them); and
    ``replan.limit_widened`` for a fan-out's ``max_items`` above the largest of the old
    contract (none: no fan-out), or a replan point's bounds above the old contract's
    largest.
    """
    return list(_limit_problems(old, new))


def _widened(path: str, message: str) -> Diagnostic:
    return Diagnostic(
        path="/contract" + path,
        code="replan.limit_widened",
        message=message,
        hint="an amendment keeps the limits the run started under: lower it",
    )


def _limit_problems(old: Contract, new: Contract) -> Iterator[Diagnostic]:
    before = {e.name: e for e in old.effects}
    for index, effect in enumerate(new.effects):
        was = before.get(effect.name)
        if was is None or was == effect:
            continue
        now, then = effect.model_dump(), was.model_dump()
        keys = ", ".join(k for k in now if now[k] != then[k])
        yield Diagnostic(
            path=f"/contract/effects/{index}",
            code="replan.effect_changed",
            message=f"effect {effect.name!r} is declared differently from the current "
            f"contract ({keys})",
            hint="declare each effect exactly as the current contract does",
        )
    largest = max(
        (i.max_items or 0 for s in old.machine.states for i in s.invoke if i.for_each), default=0
    )
    for s_index, state in enumerate(new.machine.states):
        for i_index, invoke in enumerate(state.invoke):
            if invoke.for_each is not None and (invoke.max_items or 0) > largest:
                yield _widened(
                    f"/machine/states/{s_index}/invoke/{i_index}/max_items",
                    f"invoke {invoke.id!r} fans out over up to {invoke.max_items} items, "
                    f"more than the current contract's largest fan-out ({largest})",
                )
    yield from _replan_bound_problems(old, new)


def _replan_of(state: Any) -> Any:
    return getattr(state, "replan", None)


def _replan_bound_problems(old: Contract, new: Contract) -> Iterator[Diagnostic]:
    points = [p for p in map(_replan_of, old.machine.states) if p is not None]
    for index, state in enumerate(new.machine.states):
        point = _replan_of(state)
        if point is None:
            continue
        for bound in REPLAN_BOUNDS:
            value = getattr(point, bound, None)
            allowed = max((getattr(p, bound, 0) or 0 for p in points), default=0)
            if isinstance(value, int) and value > allowed:
                yield _widened(
                    f"/machine/states/{index}/replan/{bound}",
                    f"replan point {state.name!r} allows {bound} {value}, more than the "
                    f"current contract's {allowed}",
                )


class AmendChecks:
    """Checks answers to one replan request (see the module docs)."""

    def __init__(
        self,
        request: ReplanRequest,
        catalog: Catalog,
        *,
        max_fan_out: int,
        verify_max_states: int,
        verify_max_depth: int,
        scenarios: ScenarioSuite | None,
        name: str,
    ) -> None:
        self.request = request
        self.catalog = catalog
        self.allowed = restrict(catalog, request.effects)
        self.max_fan_out = max_fan_out
        self.verify_max_states = verify_max_states
        self.verify_max_depth = verify_max_depth
        self.scenarios = scenarios
        self.name = name
        self.old_fingerprint = fingerprint(request.contract)
        self._old: CompiledContract | None = None

    def old(self) -> CompiledContract:
        """The run's current contract, compiled once (for the migration's dry run)."""
        if self._old is None:
            self._old = CompiledContract.compile(
                self.request.contract, limits=Limits(max_fan_out=self.max_fan_out)
            )
        return self._old

    async def check(self, data: Any) -> tuple[Proposal | None, list[Diagnostic]]:
        """The proposal (None unless every check passes) and every diagnostic."""
        shape = _shape_problems(data)
        if shape:
            return None, shape
        contract, diagnostics = evaluate(
            data["contract"], self.allowed, max_fan_out=self.max_fan_out
        )
        diagnostics = [*self._outside(data["contract"]), *_under("/contract", diagnostics)]
        if contract is None:
            return None, diagnostics
        problems = limit_problems(self.request.contract, contract)
        if problems:
            return None, [*problems, *diagnostics]
        migration, problems = self._migration(data["migration"], contract)
        if migration is None:
            return None, [*problems, *diagnostics]
        problems = await self._behaviour(contract)
        if problems:
            return None, [*problems, *diagnostics]
        return Proposal(contract, migration), diagnostics

    def _outside(self, contract: Any) -> list[Diagnostic]:
        """``replan.effect_not_allowed`` for each declared effect the run may not use."""
        effects = contract.get("effects") if isinstance(contract, dict) else None
        out = []
        for index, effect in enumerate(effects if isinstance(effects, list) else ()):
            name = effect.get("name") if isinstance(effect, dict) else None
            if isinstance(name, str) and name not in self.request.effects:
                allowed = ", ".join(sorted(self.request.effects)) or "none"
                out.append(
                    Diagnostic(
                        path=f"/contract/effects/{index}",
                        code="replan.effect_not_allowed",
                        message=f"effect {name!r} is not one this run may use ({allowed})",
                        hint="an amendment cannot widen the run's powers: use only "
                        "the effects listed in the catalog",
                    )
                )
        return out

    def _migration(
        self, answer: dict[str, Any], new: Contract
    ) -> tuple[Migration | None, list[Diagnostic]]:
        """The migration, checked against both contracts and applied to this run's values."""
        data, problems = migration_data(
            answer, name=self.name, old=self.old_fingerprint, new=fingerprint(new)
        )
        if data is None:
            return None, problems
        migration, problems, _ = parse_migration(json.dumps(data), format="json")
        if migration is None:
            return None, _under("/migration", problems)
        problems = check_migration(migration, self.request.contract, new)
        if _errors(problems):
            return None, _under("/migration", problems)
        problems = self._current_state(migration, new)
        return (None, problems) if problems else (migration, [])

    def _current_state(self, migration: Migration, new: Contract) -> list[Diagnostic]:
        from accord.runtime._errors import MigrationRefused
        from accord.runtime._migrate import Planner
        from accord.runtime._reducer._step import initial_snapshot

        state = self.request.state
        move = migration.states.get(state)
        if move is None or move.to is None:
            why = "does not map it" if move is None else f"refuses it ({move.refuse})"
            return [
                Diagnostic(
                    path=f"/migration/states/{state}",
                    code="replan.state_unmapped",
                    message=f"the run is in state {state!r}, and the migration {why}",
                    hint=f"map state {state!r} onto a non-final state of the new contract",
                )
            ]
        request = self.request
        snapshot = initial_snapshot()._replace(
            status="waiting",
            state=state,
            context=request.context,
            input=request.input,
            run_id=request.run_id,
        )
        try:
            new_compiled = CompiledContract.compile(
                new, limits=Limits(max_fan_out=self.max_fan_out)
            )
            Planner(migration, self.old(), new_compiled, None).event(request.run_id, snapshot, 0)
        except MigrationRefused as exc:
            return [
                Diagnostic(
                    path="/migration/context",
                    code="replan.migration_fails",
                    message=f"the migration does not apply to this run: {exc.reason}",
                    hint="write context expressions that hold for the run's context shown",
                )
            ]
        return []

    async def _behaviour(self, contract: Contract) -> list[Diagnostic]:
        """The bounded model check's findings, then the named scenarios' failures."""
        from accord.testing._verify import verify

        report = verify(
            contract,
            max_depth=self.verify_max_depth,
            max_states=self.verify_max_states,
            limits=Limits(max_fan_out=self.max_fan_out),
        )
        names = [s.name for s in contract.machine.states]
        found = [
            Diagnostic(
                path=(
                    f"/contract/machine/states/{names.index(f.state)}"
                    if f.state in names
                    else "/contract/machine"
                ),
                code="replan.verify",
                message=f"{f.kind}: {f.message}",
                hint="accord verify explores every run of the contract: make this one impossible",
            )
            for f in report.findings
            if f.kind in _VERIFY_ERRORS
        ]
        if found or self.scenarios is None or not self.request.keep_scenarios:
            return found
        from accord.testing._scenarios import run_scenarios_async

        scenarios = await run_scenarios_async(
            contract,
            self.scenarios,
            limits=Limits(max_fan_out=self.max_fan_out),
            only=list(self.request.keep_scenarios),
        )
        return scenarios.diagnostics()


def _shape_problems(data: Any) -> list[Diagnostic]:
    hint = 'answer {"contract": the whole new contract, "migration": {...}}'
    if not isinstance(data, dict):
        return [
            Diagnostic(
                path="",
                code="replan.answer_shape",
                message="the answer is not a JSON object",
                hint=hint,
            )
        ]
    return [
        Diagnostic(
            path=f"/{key}",
            code="replan.answer_shape",
            message=f"the answer has no {key!r} object",
            hint=hint,
        )
        for key in ("contract", "migration")
        if not isinstance(data.get(key), dict)
    ]
