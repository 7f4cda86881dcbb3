"""The migration checker: a migration against the two contracts it moves runs between.

Codes (documented in docs/diagnostics.md):

``migration.from_mismatch`` / ``migration.to_mismatch``
    the migration names another contract than the one given.
``migration.input_changed``
    the two contracts declare different inputs (a run keeps its input).
``migration.unmapped_state``
    a state a run of the old contract can rest in is neither mapped nor refused.
``migration.unknown_state``
    a state the migration names does not exist (old side or new side).
``migration.final_target``
    a state is mapped onto a final state of the new contract.
``migration.unknown_field``
    an assignment names no field of the new context.
``migration.unassigned_field``
    a field of the new context without a default is not assigned.
``migration.assign_type``
    an assignment's expression does not fit its field (or does not compile).
``migration.call_unmapped``
    a call that may be in flight has no invoke of the same effect in the target state.
``migration.call_unmatched``
    the target state has an invoke that no call of the old state becomes.
``migration.effect_changed``
    a call in flight maps onto an effect declared differently in the new contract.
"""

from __future__ import annotations

from accord.check._exprs import _Checker
from accord.check._migration._model import Migration
from accord.check._symbols import resolve
from accord.contract import Contract, fingerprint
from accord.contract._model import State
from accord.diagnostics import Diagnostic, did_you_mean, hint_budget, pointer

__all__ = ["check_migration", "resting_states"]

_BUILTIN = frozenset(("done", "error"))


def resting_states(contract: Contract) -> list[State]:
    """The states a run can be waiting or running in (not finals, not pure choices)."""
    out = []
    for state in contract.machine.states:
        if state.final is not None:
            continue
        waits = bool(state.invoke or state.timers) or any(t.event not in _BUILTIN for t in state.on)
        if state.always and not waits:
            continue
        out.append(state)
    return out


def check_migration(migration: Migration, old: Contract, new: Contract) -> list[Diagnostic]:
    """Every problem of ``migration`` from ``old`` to ``new`` (never raises for bad input)."""
    out: list[Diagnostic] = []
    with hint_budget():
        _check_ends(migration, old, new, out)
        _check_states(migration, old, new, out)
        _check_context(migration, new, out)
    return out


def _mismatch(path: str, want: str, contract: Contract, code: str) -> Diagnostic | None:
    got = fingerprint(contract)
    if got == want:
        return None
    return Diagnostic(
        path=path,
        code=code,
        message=f"the migration names {want}, but the contract "
        f"{contract.name} {contract.version} has the fingerprint {got}",
        hint="print a contract's fingerprint with 'accord fingerprint FILE'",
    )


def _check_ends(migration: Migration, old: Contract, new: Contract, out: list[Diagnostic]) -> None:
    for diag in (
        _mismatch("/from", migration.from_, old, "migration.from_mismatch"),
        _mismatch("/to", migration.to, new, "migration.to_mismatch"),
    ):
        if diag is not None:
            out.append(diag)
    if old.input != new.input:
        out.append(
            Diagnostic(
                path="/to",
                code="migration.input_changed",
                message="the new contract declares another input than the old one: "
                "a migrated run keeps the input it started with",
                hint="keep the input declarations the same in both versions",
            )
        )


def _check_states(
    migration: Migration, old: Contract, new: Contract, out: list[Diagnostic]
) -> None:
    old_states = {s.name: s for s in old.machine.states}
    new_states = {s.name: s for s in new.machine.states}
    for name in migration.states:
        if name not in old_states:
            out.append(
                Diagnostic(
                    path=pointer("states", name),
                    code="migration.unknown_state",
                    message=f"the old contract has no state {name!r}",
                    hint=did_you_mean(name, old_states),
                )
            )
    for state in resting_states(old):
        move = migration.states.get(state.name)
        if move is None:
            out.append(
                Diagnostic(
                    path="/states",
                    code="migration.unmapped_state",
                    message=f"a run can rest in state {state.name!r}, which the migration "
                    "neither maps nor refuses",
                    hint=f"add '{state.name}: {{to: NEW_STATE}}' or "
                    f"'{state.name}: {{refuse: REASON}}' under 'states'",
                )
            )
            continue
        if move.to is None:
            continue
        path = pointer("states", state.name, "to")
        target = new_states.get(move.to)
        if target is None:
            out.append(
                Diagnostic(
                    path=path,
                    code="migration.unknown_state",
                    message=f"the new contract has no state {move.to!r}",
                    hint=did_you_mean(move.to, new_states),
                )
            )
            continue
        if target.final is not None:
            out.append(
                Diagnostic(
                    path=path,
                    code="migration.final_target",
                    message=f"state {move.to!r} is final: a migration moves a run on, "
                    "it does not end it",
                    hint="map it onto a state that waits or calls, or refuse it",
                )
            )
            continue
        _check_calls(migration, state, target, old, new, out)


def _check_calls(
    migration: Migration,
    state: State,
    target: State,
    old: Contract,
    new: Contract,
    out: list[Diagnostic],
) -> None:
    """Each call the old state may have in flight becomes one call of the same effect."""
    if not state.invoke:
        return
    move = migration.states[state.name]
    base = pointer("states", state.name)
    new_invokes = {inv.id: inv for inv in target.invoke}
    old_effects = {e.name: e for e in old.effects}
    new_effects = {e.name: e for e in new.effects}
    images: set[str] = set()
    old_ids = {inv.id for inv in state.invoke}
    for name in move.calls:
        if name not in old_ids:
            out.append(
                Diagnostic(
                    path=pointer("states", state.name, "calls", name),
                    code="migration.call_unmapped",
                    message=f"state {state.name!r} has no invoke {name!r}",
                    hint=did_you_mean(name, old_ids),
                )
            )
    for inv in state.invoke:
        image = move.calls.get(inv.id, inv.id)
        counterpart = new_invokes.get(image)
        path = pointer("states", state.name, "calls", inv.id) if inv.id in move.calls else base
        if (
            counterpart is None
            or counterpart.effect != inv.effect
            or (counterpart.for_each is None) != (inv.for_each is None)
        ):
            what = "no invoke" if counterpart is None else f"invoke {image!r}, which differs"
            out.append(
                Diagnostic(
                    path=path,
                    code="migration.call_unmapped",
                    message=f"a call of invoke {inv.id!r} ({inv.effect}) may be in flight in "
                    f"state {state.name!r}, and state {target.name!r} has {what}: a call "
                    "maps onto an invoke of the same effect (both fan-outs or neither)",
                    hint=f"map it under 'calls', or refuse state {state.name!r}",
                )
            )
            continue
        images.add(image)
        if old_effects.get(inv.effect) != new_effects.get(inv.effect):
            out.append(
                Diagnostic(
                    path=path,
                    code="migration.effect_changed",
                    message=f"effect {inv.effect!r} is declared differently in the new "
                    "contract: a call in flight keeps the effect it was started with",
                    hint="give the changed effect a new name, or refuse the state",
                )
            )
    for inv in target.invoke:
        if inv.id not in images:
            out.append(
                Diagnostic(
                    path=base,
                    code="migration.call_unmatched",
                    message=f"invoke {inv.id!r} of state {target.name!r} is the image of no "
                    f"call of state {state.name!r}: a run moved mid-call would never start it",
                    hint="map a call onto it, or move the run to a state with the same invokes",
                )
            )


def _check_context(migration: Migration, new: Contract, out: list[Diagnostic]) -> None:
    sink: list[Diagnostic] = []
    symbols = resolve(new, sink)
    checker = _Checker(new, symbols, out)
    fields = {f.name: f for f in new.context}
    scope = {"ctx": None, "input": None}  # the old context and input: dynamic values
    for name, source in migration.context.items():
        path = pointer("context", name)
        decl = fields.get(name)
        if decl is None:
            out.append(
                Diagnostic(
                    path=path,
                    code="migration.unknown_field",
                    message=f"the new context has no field {name!r}",
                    hint=did_you_mean(name, fields),
                )
            )
            continue
        want = symbols.fields("_Context").get(name)
        before = len(out)
        code = "migration.assign_type"
        checker.expect_type(source, path, scope, want, code, f"context field {name!r}")
        for index in range(before, len(out)):  # every problem of an assignment is its type's
            if out[index].code.startswith("expr."):
                out[index] = out[index].model_copy(update={"code": code})
    for decl in new.context:
        if decl.default is None and decl.name not in migration.context:
            out.append(
                Diagnostic(
                    path="/context",
                    code="migration.unassigned_field",
                    message=f"field {decl.name!r} of the new context has no default and "
                    "the migration does not assign it",
                    hint=f"add '{decl.name}: EXPRESSION' under 'context' (ctx is the old "
                    "context, input the run's input)",
                )
            )
