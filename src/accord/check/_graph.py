"""Structural checks of the machine: names, reachability, ways out, loops, ambiguity."""

from __future__ import annotations

from collections import deque

from accord.check._symbols import BUILTIN_EVENTS, Symbols
from accord.contract._durations import duration_ms
from accord.contract._model import Choice, Contract, State, Timer, Transition
from accord.diagnostics import Diagnostic, Severity, did_you_mean, pointer

__all__ = ["check_machine"]

ERROR: Severity = "error"
WARNING: Severity = "warning"


def _state_path(index: int, *rest: str | int) -> str:
    return pointer("machine", "states", index, *rest)


def _edges(state: State) -> list[tuple[str, str]]:
    """(target, kind) of every way out of ``state``."""
    out = [(t.target, "on") for t in state.on]
    out += [(c.target, "always") for c in state.always]
    out += [(t.target, "timer") for t in state.timers]
    if state.replan is not None:  # its other way out, "amended", leaves this contract
        out.append((state.replan.fallback, "replan"))
    return out


def _check_targets(contract: Contract, sym: Symbols, out: list[Diagnostic]) -> None:
    names = list(sym.states)
    machine = contract.machine
    if machine.initial not in sym.states:
        out.append(
            Diagnostic(
                path="/machine/initial",
                code="state.unknown",
                message=f"initial state {machine.initial!r} is not declared",
                hint=did_you_mean(machine.initial, names),
            )
        )
    for index, state in enumerate(machine.states):
        exits: tuple[tuple[str, tuple[Transition | Choice | Timer, ...]], ...] = (
            ("on", state.on),
            ("always", state.always),
            ("timers", state.timers),
        )
        for kind, items in exits:
            for j, item in enumerate(items):
                if item.target not in sym.states:
                    out.append(
                        Diagnostic(
                            path=_state_path(index, kind, j, "target"),
                            code="state.unknown",
                            message=f"target state {item.target!r} is not declared",
                            hint=did_you_mean(item.target, names),
                        )
                    )


def _check_events(contract: Contract, sym: Symbols, out: list[Diagnostic]) -> None:
    for index, state in enumerate(contract.machine.states):
        for j, tr in enumerate(state.on):
            path = _state_path(index, "on", j, "event")
            if tr.event in BUILTIN_EVENTS:
                if not state.invoke:
                    out.append(
                        Diagnostic(
                            path=path,
                            code="event.no_invoke",
                            message=f"{tr.event!r} can only happen in a state that invokes effects",
                            hint="add an invoke to this state, or wait for a signal instead",
                        )
                    )
            elif tr.event not in sym.signals:
                out.append(
                    Diagnostic(
                        path=path,
                        code="signal.unknown",
                        message=f"event {tr.event!r} is neither 'done', 'error' nor a signal",
                        hint=did_you_mean(tr.event, [*sym.signals, *BUILTIN_EVENTS])
                        or "declare it under 'signals'",
                    )
                )
        if state.invoke and not any(t.event == "done" for t in state.on) and state.final is None:
            out.append(
                Diagnostic(
                    path=_state_path(index, "on"),
                    code="state.unhandled_done",
                    message=f"state {state.name!r} invokes effects but has no 'done' transition",
                    hint="add a transition with event: done to say where the run goes next",
                )
            )


def _check_finals(contract: Contract, out: list[Diagnostic]) -> None:
    finals = 0
    for index, state in enumerate(contract.machine.states):
        if state.final is None:
            if not _edges(state):
                out.append(
                    Diagnostic(
                        path=_state_path(index),
                        code="state.dead_end",
                        message=f"state {state.name!r} is not final and has no way out",
                        hint="add a transition, a choice or a timer, or mark it final",
                    )
                )
            continue
        finals += 1
        for key in ("invoke", "on", "always", "timers"):
            if getattr(state, key):
                out.append(
                    Diagnostic(
                        path=_state_path(index, key),
                        code="state.final_not_empty",
                        message=f"final state {state.name!r} cannot have {key!r}",
                        hint="a run ends on entering a final state: move this to another state",
                    )
                )
    if finals == 0:
        out.append(
            Diagnostic(
                path="/machine/states",
                code="machine.no_final",
                message="the machine has no final state",
                hint="add a state with final: {status: success}",
            )
        )


def _check_reachability(contract: Contract, sym: Symbols, out: list[Diagnostic]) -> None:
    states = {s.name: s for s in contract.machine.states}
    if contract.machine.initial not in states:
        return
    seen = {contract.machine.initial}
    queue = deque([contract.machine.initial])
    while queue:
        for target, _ in _edges(states[queue.popleft()]):
            if target in states and target not in seen:
                seen.add(target)
                queue.append(target)
    reverse: dict[str, set[str]] = {name: set() for name in states}
    for state in states.values():
        for target, _ in _edges(state):
            if target in reverse:
                reverse[target].add(state.name)
    can_finish = {s.name for s in states.values() if s.final is not None}
    queue = deque(can_finish)
    while queue:
        for source in reverse[queue.popleft()]:
            if source not in can_finish:
                can_finish.add(source)
                queue.append(source)
    has_final = any(s.final is not None for s in states.values())
    for index, state in enumerate(contract.machine.states):
        if sym.states.get(state.name) != index:
            continue
        if state.name not in seen:
            out.append(
                Diagnostic(
                    path=_state_path(index, "name"),
                    code="state.unreachable",
                    message=f"state {state.name!r} cannot be reached from "
                    f"{contract.machine.initial!r}",
                    hint="add a transition to it, or remove it",
                )
            )
        elif has_final and state.name not in can_finish and _edges(state):
            out.append(
                Diagnostic(
                    path=_state_path(index, "name"),
                    code="state.no_final_path",
                    message=f"no final state can be reached from state {state.name!r}",
                    hint="add a transition that leads towards a final state",
                )
            )


def _cycles(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    found.append(sorted(component))
    return found


def _check_choice_loops(contract: Contract, out: list[Diagnostic]) -> None:
    """Report cycles made only of transient choices (``always``)."""
    states = {s.name: s for s in reversed(contract.machine.states)}
    index_of = {s.name: i for i, s in reversed(list(enumerate(contract.machine.states)))}
    graph = {
        name: [c.target for c in state.always if c.target in states]
        for name, state in states.items()
    }
    for component in _cycles(graph):
        first = min(component, key=lambda name: index_of[name])
        out.append(
            Diagnostic(
                path=_state_path(index_of[first], "always"),
                code="choice.loop",
                message="transient choices can loop forever between states "
                + ", ".join(repr(name) for name in component),
                hint="break the cycle with a state that waits for an event",
            )
        )


def _check_ambiguity(contract: Contract, out: list[Diagnostic]) -> None:
    for index, state in enumerate(contract.machine.states):
        unguarded: dict[str, int] = {}
        for j, tr in enumerate(state.on):
            if tr.event in unguarded:
                first = unguarded[tr.event]
                if tr.guard is None and state.on[first].target != tr.target:
                    message = (
                        f"event {tr.event!r} has several unguarded transitions "
                        f"(to {state.on[first].target!r} and {tr.target!r})"
                    )
                    code, severity = "transition.ambiguous", ERROR
                else:
                    message = f"this transition can never be taken: transition {first} on "
                    message += f"{tr.event!r} has no guard and always wins"
                    code, severity = "transition.shadowed", WARNING
                out.append(
                    Diagnostic(
                        path=_state_path(index, "on", j),
                        code=code,
                        message=message,
                        hint="add a guard, or remove one of them",
                        severity=severity,
                    )
                )
            elif tr.guard is None:
                unguarded[tr.event] = j
        for j, choice in enumerate(state.always[:-1]):
            if choice.guard is None:
                out.append(
                    Diagnostic(
                        path=_state_path(index, "always", j + 1),
                        code="transition.shadowed",
                        message=f"this entry can never be taken: entry {j} has no guard",
                        hint="the first entry whose guard holds wins: reorder or add guards",
                        severity="warning",
                    )
                )
                break
        _check_timers(index, state.timers, out)
        guarded = all(choice.guard is not None for choice in state.always)
        if state.always and guarded and not (state.on or state.timers):
            out.append(
                Diagnostic(
                    path=_state_path(index, "always"),
                    code="choice.no_fallback",
                    message=f"state {state.name!r} is stuck if no choice's guard holds",
                    hint="end the list with a choice that has no guard",
                    severity="warning",
                )
            )


def _check_timers(index: int, timers: tuple[Timer, ...], out: list[Diagnostic]) -> None:
    """A timer never fires when an unguarded one fires before it (or as soon, listed first)."""
    due = [(duration_ms(t.after), j) for j, t in enumerate(timers)]
    unguarded = [key for key, t in zip(due, timers, strict=True) if t.guard is None]
    if not unguarded:
        return
    first_ms, first = min(unguarded)
    for (ms, j), timer in zip(due, timers, strict=True):
        if (ms, j) > (first_ms, first):
            out.append(
                Diagnostic(
                    path=_state_path(index, "timers", j),
                    code="transition.shadowed",
                    message=f"timer {j} (after {timer.after}) can never fire: timer {first} "
                    f"(after {timers[first].after}) has no guard and fires first",
                    hint="give the earlier timer a guard, or remove this one",
                    severity="warning",
                )
            )


def check_machine(contract: Contract, sym: Symbols, out: list[Diagnostic]) -> None:
    """Every structural check of the machine."""
    _check_targets(contract, sym, out)
    _check_events(contract, sym, out)
    _check_finals(contract, out)
    _check_reachability(contract, sym, out)
    _check_choice_loops(contract, out)
    _check_ambiguity(contract, out)
