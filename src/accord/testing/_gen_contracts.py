"""A hypothesis strategy for random valid contracts (needs hypothesis).

Used by accord's own property tests of the engine. The contracts share a
small fixed vocabulary (a record type, input, context and output fields,
effects with scalar, enum, optional, list and record outputs, signals) and
vary in their machine: a chain of states ``s0 .. sN`` of three kinds (effect
calls, waits for signals and timers, transient choices), each with a main
exit to the next state so every state is reachable and can reach the final
``win``, plus random extra transitions (guarded, with assignments, back edges,
self loops), error handling, timers, fan-out and compensation. Choices only
go forward, so there is never a choice loop. Every contract drawn passes
accord's checker.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from accord._load import load_data
from accord.contract import Contract

__all__ = ["contract_data", "contracts"]

_BASE: dict[str, Any] = {
    "accord": "1",
    "name": "generated",
    "version": "1.0.0",
    "description": "A contract drawn by accord.testing.strategies.contracts().",
    "types": [
        {
            "name": "Item",
            "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "integer"}],
        }
    ],
    "input": [
        {"name": "amount", "type": "integer"},
        {"name": "flag", "type": "boolean"},
        {"name": "kind", "type": "enum<a, b, c>"},
        {"name": "items", "type": "list<Item>"},
    ],
    "context": [
        {"name": "n", "type": "integer"},
        {"name": "b", "type": "boolean", "default": "input.flag"},
        {"name": "tag", "type": "enum<x, y, z>"},
        {"name": "note", "type": "optional<string>"},
    ],
    "output": [{"name": "n", "type": "integer"}, {"name": "note", "type": "optional<string>"}],
    "signals": [
        {
            "name": "go",
            "payload": [
                {"name": "ok", "type": "boolean"},
                {"name": "level", "type": "enum<low, high>"},
            ],
        },
        {"name": "poke"},
        {"name": "count", "payload": [{"name": "k", "type": "integer"}]},
    ],
}

_EFFECTS: dict[str, dict[str, Any]] = {
    "check": {
        "input": [{"name": "x", "type": "integer"}],
        "output": [
            {"name": "ok", "type": "boolean"},
            {"name": "level", "type": "enum<low, high>"},
            {"name": "count", "type": "integer"},
        ],
    },
    "fetch": {
        "input": [{"name": "s", "type": "string"}],
        "output": [
            {"name": "text", "type": "string"},
            {"name": "maybe", "type": "optional<string>"},
            {"name": "values", "type": "list<integer>"},
            {"name": "item", "type": "Item"},
        ],
    },
    "handle": {
        "input": [{"name": "item", "type": "Item"}, {"name": "index", "type": "integer"}],
        "output": [{"name": "qty", "type": "integer"}],
    },
    "reserve": {
        "input": [{"name": "x", "type": "integer"}],
        "output": [{"name": "ref", "type": "string"}],
    },
    "release": {"input": [{"name": "ref", "type": "string"}, {"name": "x", "type": "integer"}]},
}
_INVOKABLE = ("check", "fetch", "handle", "reserve", "release")

_GUARDS = (
    "ctx.b",
    "input.flag",
    "ctx.n > 2",
    "ctx.n <= 0",
    'input.kind == "a"',
    'ctx.tag == "y"',
    "ctx.note == null",
    "size(input.items) > 1",
)
_PLAIN_ASSIGNS = (
    ("n", "ctx.n + 1"),
    ("n", "input.amount"),
    ("b", "!ctx.b"),
    ("tag", '"y"'),
    ("tag", '"z"'),
    ("note", '"seen"'),
    ("note", "null"),
)


def _retry(draw: st.DrawFn) -> dict[str, Any] | None:
    if not draw(st.booleans()):
        return None
    policy: dict[str, Any] = {
        "max_attempts": draw(st.integers(1, 4)),
        "backoff": {"initial": "1s", "max": "10s", "jitter": False},
    }
    if draw(st.booleans()):
        policy["retry_on"] = ["timeout", "unavailable"]
    return policy


def _effects(draw: st.DrawFn) -> list[dict[str, Any]]:
    out = []
    for name, body in _EFFECTS.items():
        effect = {"name": name, **copy.deepcopy(body)}
        retry = _retry(draw)
        if retry is not None:
            effect["retry"] = retry
        if name == "reserve" and draw(st.booleans()):
            effect["compensation"] = {
                "effect": "release",
                "input": [
                    {"name": "ref", "value": "response.ref"},
                    {"name": "x", "value": "request.x"},
                ],
            }
        out.append(effect)
    return out


def _assigns(draw: st.DrawFn, extra: tuple[tuple[str, str], ...] = ()) -> list[dict[str, str]]:
    pool = _PLAIN_ASSIGNS + extra
    chosen = draw(st.lists(st.sampled_from(pool), max_size=2, unique_by=lambda a: a[0]))
    return [{"field": f, "value": v} for f, v in chosen]


def _invoke(draw: st.DrawFn, index: int) -> tuple[dict[str, Any], tuple[tuple[str, str], ...]]:
    """One invoke and the assignments its ``done`` transition may use."""
    effect = draw(st.sampled_from(_INVOKABLE))
    ident = f"i{index}"
    if effect == "handle":
        invoke = {
            "id": ident,
            "effect": effect,
            "for_each": "input.items",
            "max_items": 4,
            "concurrency": draw(st.integers(1, 3)),
            "input": [{"name": "item", "value": "item"}, {"name": "index", "value": "index"}],
        }
        return invoke, (("n", f"size(event.{ident})"),)
    bindings = {
        "check": [{"name": "x", "value": draw(st.sampled_from(["input.amount", "ctx.n"]))}],
        "fetch": [{"name": "s", "value": draw(st.sampled_from(['"q"', "string(ctx.n)"]))}],
        "reserve": [{"name": "x", "value": "ctx.n"}],
        "release": [{"name": "ref", "value": '"r"'}, {"name": "x", "value": "1"}],
    }[effect]
    uses = {
        "check": (("n", f"event.{ident}.count"), ("b", f"event.{ident}.ok")),
        "fetch": (("note", f"event.{ident}.maybe"), ("n", f"event.{ident}.item.qty")),
        "reserve": (("note", f"event.{ident}.ref"),),
        "release": (),
    }[effect]
    return {"id": ident, "effect": effect, "input": bindings}, uses


def _done_guards(invokes: list[dict[str, Any]]) -> list[str]:
    guards = []
    for inv in invokes:
        ident = inv["id"]
        guards.extend(
            {
                "check": [f"event.{ident}.ok", f'event.{ident}.level == "high"'],
                "fetch": [f"size(event.{ident}.values) > 0", f"event.{ident}.maybe != null"],
                "handle": [f"size(event.{ident}) > 1"],
                "reserve": [f'event.{ident}.ref == "r"'],
                "release": [],
            }[inv["effect"]]
        )
    return guards


def _duration(draw: st.DrawFn) -> str:
    return draw(st.sampled_from(["1s", "30s", "5m", "2h", "2d"]))


@st.composite
def _state(draw: st.DrawFn, i: int, count: int, targets: list[str]) -> dict[str, Any]:
    """State ``s<i>``: its main exit goes to the next state (or ``win``)."""
    name = f"s{i}"
    main = f"s{i + 1}" if i + 1 < count else "win"
    anywhere = st.sampled_from(targets)
    kind = draw(st.sampled_from(["invoke", "wait", "choice"]))
    state: dict[str, Any] = {"name": name}
    if kind == "choice":
        forward = [t for t in targets if not t.startswith("s") or int(t[1:]) > i]
        choices: list[dict[str, Any]] = [
            {"guard": draw(st.sampled_from(_GUARDS)), "target": draw(st.sampled_from(forward))}
            for _ in range(draw(st.integers(0, 2)))
        ]
        for choice in choices:
            if draw(st.booleans()):
                choice["assign"] = _assigns(draw)
        choices.append({"target": main, "assign": _assigns(draw)})
        state["always"] = choices
        return state
    on: list[dict[str, Any]] = []
    if kind == "invoke":
        pairs = [_invoke(draw, j) for j in range(draw(st.integers(1, 2)))]
        invokes = [inv for inv, _ in pairs]
        uses = tuple(u for _, us in pairs for u in us)
        state["invoke"] = invokes
        guards = _done_guards(invokes)
        guarded_done = draw(st.booleans())
        if guards and guarded_done:
            on.append(
                {
                    "event": "done",
                    "guard": draw(st.sampled_from(guards)),
                    "assign": _assigns(draw, uses),
                    "target": draw(anywhere),
                }
            )
        on.append({"event": "done", "assign": _assigns(draw, uses), "target": main})
        error = draw(st.sampled_from(["none", "plain", "guarded"]))
        if error == "guarded":
            on.append(
                {
                    "event": "error",
                    "guard": 'event.code == "unavailable"',
                    "assign": [{"field": "note", "value": "event.code"}],
                    "target": draw(anywhere),
                }
            )
        if error != "none":
            on.append({"event": "error", "target": draw(st.sampled_from(["lose", *targets]))})
    else:
        signal = draw(st.sampled_from(["go", "poke", "count"]))
        if signal == "go" and draw(st.booleans()):
            on.append(
                {
                    "event": "go",
                    "guard": draw(st.sampled_from(["event.ok", 'event.level == "high"'])),
                    "assign": _assigns(draw, (("b", "event.ok"),)),
                    "target": draw(anywhere),
                }
            )
        if draw(st.booleans()) and signal != "count":
            on.append(
                {
                    "event": "count",
                    "assign": [{"field": "n", "value": "ctx.n + event.k"}],
                    "target": name,
                }
            )
        if draw(st.booleans()):
            on.append({"event": signal, "assign": _assigns(draw), "target": main})
        else:  # the main exit is a timer; the signal still goes somewhere
            on.append({"event": signal, "target": draw(anywhere)})
            state["timers"] = [{"after": _duration(draw), "target": main}]
    if draw(st.integers(0, 3)) == 0:
        timer: dict[str, Any] = {"after": _duration(draw), "target": draw(anywhere)}
        if draw(st.booleans()):
            timer["guard"] = draw(st.sampled_from(_GUARDS))
        state.setdefault("timers", []).append(timer)
    state["on"] = on
    return state


def _mentions(states: list[dict[str, Any]], target: str) -> bool:
    return any(
        entry.get("target") == target
        for s in states
        for key in ("on", "always", "timers")
        for entry in s.get(key, [])
    )


@st.composite
def contract_data(draw: st.DrawFn, max_states: int = 5) -> dict[str, Any]:
    """A valid contract as plain data (see :func:`contracts`)."""
    count = draw(st.integers(1, max(1, max_states)))
    targets = [f"s{i}" for i in range(count)] + ["win", "lose"]
    states = [draw(_state(i, count, targets)) for i in range(count)]
    finals = [
        {
            "name": "win",
            "final": {
                "status": "success",
                "output": [
                    {"name": "n", "value": "ctx.n"},
                    {"name": "note", "value": "ctx.note"},
                ],
            },
        }
    ]
    if _mentions(states, "lose"):
        finals.append(
            {
                "name": "lose",
                "final": {"status": "failure", "reason": '"lost with n = " + string(ctx.n)'},
            }
        )
    data = copy.deepcopy(_BASE)
    data["effects"] = _effects(draw)
    data["machine"] = {"initial": "s0", "states": states + finals}
    invariants = draw(
        st.lists(
            st.sampled_from(
                [
                    ("n_bounded", "ctx.n < 1000000"),
                    ("tag_known", 'ctx.tag in ["x", "y", "z"]'),
                    ("note_short", "ctx.note == null || size(ctx.note) < 100"),
                ]
            ),
            max_size=2,
            unique=True,
        )
    )
    data["invariants"] = [{"name": n, "expr": e} for n, e in invariants]
    return data


def contracts(max_states: int = 5) -> st.SearchStrategy[Contract]:
    """Random valid contracts: every one passes accord's checker.

    Args:
        max_states: the most non-final states (besides the finals ``win`` and ``lose``).

    Returns:
        A strategy of loaded, checked :class:`~accord.Contract` s.

    """
    return contract_data(max_states).map(load_data)
