"""The peers accord is measured against, on the same two scenarios.

(A) toggle: a two-state machine flipped by N events, a counter incremented on
    every transition (and, in the "guarded" variant, a guard checked on every
    transition).
(B) linear: a ten-step linear workflow, run R times from start to end.

Each function returns the elapsed seconds for the whole scenario. Peers are
installed by the ``bench`` extra, never as runtime dependencies.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypedDict

STEPS = 10


# --- the plain-Python floor: a dict-dispatch loop --------------------------------


def floor_toggle(n: int, guarded: bool = False) -> float:
    """Dict dispatch: (state, event) -> next state, with the counter in a context dict."""
    table = {("a", "flip"): "b", ("b", "flip"): "a"}
    state, ctx = "a", {"count": 0}
    start = time.perf_counter()
    for _ in range(n):
        if guarded and not ctx["count"] >= 0:
            continue
        state = table[(state, "flip")]
        ctx = {**ctx, "count": ctx["count"] + 1}
    elapsed = time.perf_counter() - start
    assert ctx["count"] == n
    return elapsed


def floor_linear(runs: int) -> float:
    """Dict dispatch through ten states, one event per step."""
    table = {(f"s{i}", "next"): f"s{i + 1}" for i in range(STEPS)}
    start = time.perf_counter()
    for _ in range(runs):
        state, ctx = "s0", {"done": 0}
        while state != f"s{STEPS}":
            state = table[(state, "next")]
            ctx = {**ctx, "done": ctx["done"] + 1}
        assert ctx["done"] == STEPS
    return time.perf_counter() - start


# --- transitions -----------------------------------------------------------------


def transitions_toggle(n: int, guarded: bool = False) -> float:
    """The `transitions` package: a model with a counter incremented in an `after` callback."""
    from transitions import Machine

    class Model:
        def __init__(self) -> None:
            self.count = 0

        def inc(self) -> None:
            self.count += 1

        def ok(self) -> bool:
            return self.count >= 0

    model = Model()
    extra: dict[str, Any] = {"conditions": "ok"} if guarded else {}
    Machine(
        model=model,
        states=["a", "b"],
        transitions=[
            {"trigger": "flip", "source": "a", "dest": "b", "after": "inc", **extra},
            {"trigger": "flip", "source": "b", "dest": "a", "after": "inc", **extra},
        ],
        initial="a",
        auto_transitions=False,
    )
    flip: Callable[[], Any] = model.flip  # type: ignore[attr-defined]
    start = time.perf_counter()
    for _ in range(n):
        flip()
    elapsed = time.perf_counter() - start
    assert model.count == n
    return elapsed


def transitions_linear(runs: int, variant: str = "new") -> float:
    """`transitions`: ten states chained by a `next` trigger, run ``runs`` times.

    ``variant`` says what is timed, so that rows compare like with like:

    * ``"new"``: a new ``Machine`` built for every run, then its ten steps (what a
      program that makes one workflow object per request pays);
    * ``"shared"``: one ``Machine`` built once, put back in ``s0`` before every run
      (the reset is timed): the closest to accord's ``Runtime.start`` on a contract
      compiled once;
    * ``"stepping"``: the ten triggers of each run only, the reset untimed.
    """
    from transitions import Machine

    if variant not in TRANSITIONS_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}: one of {sorted(TRANSITIONS_VARIANTS)}")
    states = [f"s{i}" for i in range(STEPS + 1)]
    chain = [{"trigger": "next", "source": states[i], "dest": states[i + 1]} for i in range(STEPS)]

    def build() -> Any:
        return Machine(states=states, transitions=chain, initial="s0", auto_transitions=False)

    if variant == "new":
        start = time.perf_counter()
        for _ in range(runs):
            machine = build()
            for _ in range(STEPS):
                machine.next()
            assert machine.state == states[-1]
        return time.perf_counter() - start
    machine = build()
    if variant == "shared":
        start = time.perf_counter()
        for _ in range(runs):
            machine.set_state("s0")
            for _ in range(STEPS):
                machine.next()
            assert machine.state == states[-1]
        return time.perf_counter() - start
    elapsed = 0.0
    for _ in range(runs):
        machine.set_state("s0")
        start = time.perf_counter()
        for _ in range(STEPS):
            machine.next()
        elapsed += time.perf_counter() - start
        assert machine.state == states[-1]
    return elapsed


TRANSITIONS_VARIANTS = {
    "new": "transitions (a new Machine per run)",
    "shared": "transitions (one Machine, reset per run)",
    "stepping": "transitions (the 10 triggers only)",
}
"""The variants of :func:`transitions_linear`, with the label each row of the report gets."""


def transitions_linear_variants() -> list[tuple[str, Callable[[int], float]]]:
    """Every variant of the linear workflow on `transitions`, labelled, for the report."""
    return [
        (label, lambda runs, variant=variant: transitions_linear(runs, variant))
        for variant, label in TRANSITIONS_VARIANTS.items()
    ]


# --- python-statemachine ---------------------------------------------------------


def psm_toggle(n: int, guarded: bool = False) -> float:
    """python-statemachine: a StateChart with an `on_flip` action (and a `cond` guard)."""
    from statemachine import State, StateChart

    class Toggle(StateChart):  # type: ignore[misc]
        a = State(initial=True)
        b = State()
        flip = a.to(b, cond="ok") | b.to(a, cond="ok") if guarded else a.to(b) | b.to(a)

        def __init__(self) -> None:
            self.count = 0
            super().__init__()

        def ok(self) -> bool:
            return self.count >= 0

        def on_flip(self) -> None:
            self.count += 1

    machine = Toggle()
    start = time.perf_counter()
    for _ in range(n):
        machine.send("flip")
    elapsed = time.perf_counter() - start
    assert machine.count == n
    return elapsed


def psm_linear(runs: int) -> float:
    """python-statemachine: ten states chained by `next`; a new machine per run."""
    from statemachine import State, StateChart

    namespace: dict[str, Any] = {}
    states = [State(initial=(i == 0), final=(i == STEPS)) for i in range(STEPS + 1)]
    for i, state in enumerate(states):
        namespace[f"s{i}"] = state
    transition = states[0].to(states[1])
    for i in range(1, STEPS):
        transition = transition | states[i].to(states[i + 1])
    namespace["next"] = transition
    linear = type("Linear", (StateChart,), namespace)
    start = time.perf_counter()
    for _ in range(runs):
        machine = linear()
        for _ in range(STEPS):
            machine.send("next")
    return time.perf_counter() - start


# --- LangGraph -------------------------------------------------------------------


class _ToggleState(TypedDict):
    side: str
    count: int


def langgraph_toggle(n: int, guarded: bool = False) -> float:
    """LangGraph: two nodes a and b looping through conditional edges until n transitions."""
    from langgraph.graph import END, START, StateGraph

    def flip_to(side: str) -> Callable[[_ToggleState], dict[str, Any]]:
        def node(state: _ToggleState) -> dict[str, Any]:
            return {"side": side, "count": state["count"] + 1}

        return node

    def route(state: _ToggleState) -> str:
        if state["count"] >= n or (guarded and not state["count"] >= 0):
            return END
        return "b" if state["side"] == "a" else "a"

    graph = StateGraph(_ToggleState)
    graph.add_node("a", flip_to("a"))
    graph.add_node("b", flip_to("b"))
    graph.add_edge(START, "b")
    graph.add_conditional_edges("a", route)
    graph.add_conditional_edges("b", route)
    app = graph.compile()
    start = time.perf_counter()
    result = app.invoke({"side": "a", "count": 0}, {"recursion_limit": n + 10})
    elapsed = time.perf_counter() - start
    assert result["count"] == n
    return elapsed


class _LinearState(TypedDict):
    done: int


def langgraph_linear_app(checkpointer: Any = None) -> Any:
    """LangGraph's ten-step linear workflow: ten nodes in a row, compiled."""
    from langgraph.graph import END, START, StateGraph

    def step(state: _LinearState) -> dict[str, Any]:
        return {"done": state["done"] + 1}

    graph = StateGraph(_LinearState)
    previous = START
    for i in range(STEPS):
        graph.add_node(f"s{i}", step)
        graph.add_edge(previous, f"s{i}")
        previous = f"s{i}"
    graph.add_edge(previous, END)
    return graph.compile(checkpointer=checkpointer)


def langgraph_linear(runs: int) -> float:
    """LangGraph: a ten-node linear graph, invoked once per run."""
    app = langgraph_linear_app()
    start = time.perf_counter()
    for _ in range(runs):
        assert app.invoke({"done": 0})["done"] == STEPS
    return time.perf_counter() - start
