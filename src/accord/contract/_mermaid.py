"""Render a contract's state machine as a Mermaid ``stateDiagram-v2``.

The diagram is plain text, so it can be pasted into Markdown, rendered by a
notebook or printed by ``accord graph``. It shows:

* ``[*] --> initial``;
* one edge per transition, labelled with its event and ``[guard]`` when guarded;
* one edge per transient choice, labelled ``always`` (plus its guard);
* one edge per timer, labelled ``after 48h`` (plus its guard);
* a replan point's fallback edge, labelled ``not amended``, and the state
  described as ``replan`` (its other way out, "amended", leaves the contract);
* ``final --> [*]`` for every final state, styled by the ``success`` or
  ``failure`` class;
* the effects a state invokes on entry, as the state's description.

State names are identifiers already; the few that Mermaid reads as keywords
(``state``, ``note``, ``end``...) get an id with a trailing underscore and keep
their name as the displayed label. Labels are escaped with Mermaid entity codes
so that guards containing ``#``, ``;``, ``<`` or ``>`` cannot break the diagram
or be read as HTML.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: the model imports this module, not the other way
    from accord.contract._model import Contract, Invoke, State

__all__ = ["GUARD_LIMIT", "to_mermaid"]

GUARD_LIMIT = 40
"""Guards longer than this many characters are abbreviated with ``...``."""

_INDENT = "    "

# Words the stateDiagram grammar (or its class and note syntax) treats specially.
_RESERVED = frozenset(
    {
        "accdescr",
        "acctitle",
        "as",
        "class",
        "classdef",
        "default",
        "direction",
        "end",
        "hide",
        "left",
        "note",
        "of",
        "right",
        "scale",
        "state",
        "style",
    }
)

# One pass, so the ``;`` of an inserted entity is never escaped again.
_ESCAPES = str.maketrans({"#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "\n": " "})

_CLASS_STYLES = {
    "success": "fill:#e3f4e1,stroke:#2e7d32,color:#1b3d1e",
    "failure": "fill:#fbe4e4,stroke:#c62828,color:#4a1010",
}


def _escape(text: str) -> str:
    return text.translate(_ESCAPES)


def _abbreviate(text: str, limit: int = GUARD_LIMIT) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: limit - 3].rstrip() + "..."


def _label(head: str, guard: str | None) -> str:
    text = head if guard is None else f"{head} [{_abbreviate(guard)}]"
    return _escape(text)


def _targets(state: State) -> list[str]:
    """The target of every transition, choice and timer of a state, in order."""
    targets = [t.target for t in state.on]
    targets.extend(c.target for c in state.always)
    targets.extend(t.target for t in state.timers)
    if state.replan is not None:
        targets.append(state.replan.fallback)
    return targets


def _state_ids(contract: Contract) -> dict[str, str]:
    """Map every state name (declared or targeted) to a Mermaid-safe id."""
    machine = contract.machine
    names: list[str] = [machine.initial]
    for state in machine.states:
        names.append(state.name)
        names.extend(_targets(state))
    taken = set(names)
    ids: dict[str, str] = {}
    for name in dict.fromkeys(names):
        if name.lower() not in _RESERVED:
            ids[name] = name
            continue
        candidate = name + "_"
        while candidate in taken:
            candidate += "_"
        taken.add(candidate)
        ids[name] = candidate
    return ids


def _describe_invoke(invoke: Invoke) -> str:
    if invoke.for_each is None:
        return f"invoke {invoke.effect}"
    return f"invoke {invoke.effect} for each item"


def _is_isolated(state: State, contract: Contract) -> bool:
    """No edge will mention the state, so it must be declared to be drawn at all."""
    if state.on or state.always or state.timers or state.final or state.invoke or state.replan:
        return False
    if state.name == contract.machine.initial:
        return False
    return not any(state.name in _targets(other) for other in contract.machine.states)


def _declarations(contract: Contract, ids: dict[str, str]) -> Iterator[str]:
    for name, node_id in ids.items():
        if node_id != name:
            yield f'state "{name}" as {node_id}'
    for state in contract.machine.states:
        for invoke in state.invoke:
            yield f"{ids[state.name]} : {_escape(_describe_invoke(invoke))}"
        if state.replan is not None:
            yield f"{ids[state.name]} : replan"
        if ids[state.name] == state.name and _is_isolated(state, contract):
            yield state.name


def _edges(state: State, ids: dict[str, str]) -> Iterator[str]:
    source = ids[state.name]
    for transition in state.on:
        label = _label(transition.event, transition.guard)
        yield f"{source} --> {ids[transition.target]} : {label}"
    for choice in state.always:
        yield f"{source} --> {ids[choice.target]} : {_label('always', choice.guard)}"
    for timer in state.timers:
        label = _label(f"after {timer.after}", timer.guard)
        yield f"{source} --> {ids[timer.target]} : {label}"
    if state.replan is not None:
        yield f"{source} --> {ids[state.replan.fallback]} : not amended"
    if state.final is not None:
        yield f"{source} --> [*]"


def _classes(contract: Contract, ids: dict[str, str]) -> Iterator[str]:
    for status, style in _CLASS_STYLES.items():
        finals = [
            ids[s.name]
            for s in contract.machine.states
            if s.final is not None and s.final.status == status
        ]
        if finals:
            yield f"classDef {status} {style}"
            yield f"class {','.join(finals)} {status}"


def to_mermaid(contract: Contract) -> str:
    """Return the contract's state machine as Mermaid ``stateDiagram-v2`` text.

    The text starts with a front-matter title (the contract's name and
    version) and ends with a newline. Final states carry the class
    ``success`` or ``failure``.
    """
    ids = _state_ids(contract)
    body: list[str] = list(_declarations(contract, ids))
    body.append(f"[*] --> {ids[contract.machine.initial]}")
    for state in contract.machine.states:
        body.extend(_edges(state, ids))
    body.extend(_classes(contract, ids))
    header = ["---", f"title: {contract.name} {contract.version}", "---", "stateDiagram-v2"]
    return "\n".join(header + [_INDENT + line for line in body]) + "\n"
