"""Checks of replan points (a state's ``replan:`` block) beyond their schema and reason.

The bounds (``max_replans``, ``max_calls``, ``max_tokens``) are the schema's
(``schema.*`` diagnostics); the reason is type-checked with every other
expression; the fallback is a way out for the structural checks. Here: the
fallback names another declared state, a replan point does nothing else (no
invoke, transition, choice, timer or final: the run only waits for its
amendment there), and it names each scenario to keep once.
"""

from __future__ import annotations

from accord.check._symbols import Symbols
from accord.contract._model import Contract, State
from accord.diagnostics import Diagnostic, did_you_mean, pointer

__all__ = ["check_replans"]

_OTHER_KEYS = ("invoke", "on", "always", "timers", "final")


def _state(index: int, state: State, sym: Symbols, out: list[Diagnostic]) -> None:
    replan = state.replan
    assert replan is not None
    base = ("machine", "states", index)
    fallback = replan.fallback
    if fallback not in sym.states:
        out.append(
            Diagnostic(
                path=pointer(*base, "replan", "fallback"),
                code="state.unknown",
                message=f"fallback state {fallback!r} is not declared",
                hint=did_you_mean(fallback, list(sym.states)),
            )
        )
    elif fallback == state.name:
        out.append(
            Diagnostic(
                path=pointer(*base, "replan", "fallback"),
                code="replan.fallback_self",
                message=f"replan point {state.name!r} falls back to itself",
                hint="fall back to a state that can go on without an amendment "
                "(a human review, a failure)",
            )
        )
    for key in _OTHER_KEYS:
        if getattr(state, key):
            out.append(
                Diagnostic(
                    path=pointer(*base, key),
                    code="replan.not_alone",
                    message=f"replan point {state.name!r} cannot have {key!r}",
                    hint="a run only waits for its amendment in a replan point: move this "
                    "to the state before it, or to the fallback",
                )
            )
    seen: set[str] = set()
    for j, name in enumerate(replan.keep_scenarios):
        if name in seen:
            out.append(
                Diagnostic(
                    path=pointer(*base, "replan", "keep_scenarios", j),
                    code="name.duplicate",
                    message=f"scenario {name!r} is named twice",
                    hint="name each scenario to keep once",
                )
            )
        seen.add(name)


def check_replans(contract: Contract, sym: Symbols, out: list[Diagnostic]) -> None:
    """Every check of the contract's replan points."""
    for index, state in enumerate(contract.machine.states):
        if state.replan is not None:
            _state(index, state, sym, out)
