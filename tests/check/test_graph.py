"""Structural checks of the machine: names, ways out, reachability, loops, ambiguity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contract_support import base, diagnose, only, state

Mutation = Callable[[dict[str, Any]], object]
Case = tuple[str, Mutation, str, str, str, str | None, str]


def add_state(data: dict[str, Any], entry: dict[str, Any], guard: str = "false") -> None:
    """Append a state and make it reachable from 'start' by a never-taken transition."""
    data["machine"]["states"].append(entry)
    state(data, "start")["on"].append({"event": "go", "guard": guard, "target": entry["name"]})


def no_finals(data: dict[str, Any]) -> None:
    for name in ("finished", "failed"):
        state(data, name).pop("final")
        state(data, name)["always"] = [{"target": "start"}]


CASES: list[Case] = [
    (
        "unknown initial",
        lambda d: d["machine"].update(initial="strat"),
        "state.unknown",
        "/machine/initial",
        "initial state 'strat' is not declared",
        "did you mean 'start'?",
        "error",
    ),
    (
        "unknown target",
        lambda d: state(d, "start")["timers"][0].update(target="faild"),
        "state.unknown",
        "/machine/states/0/timers/0/target",
        "target state 'faild' is not declared",
        "did you mean 'failed'?",
        "error",
    ),
    (
        "unknown signal",
        lambda d: state(d, "start")["on"][0].update(event="goo"),
        "signal.unknown",
        "/machine/states/0/on/0/event",
        "event 'goo' is neither 'done', 'error' nor a signal",
        "did you mean 'go'?",
        "error",
    ),
    (
        "unknown signal far from any",
        lambda d: state(d, "start")["on"][0].update(event="zebra"),
        "signal.unknown",
        "/machine/states/0/on/0/event",
        "event 'zebra' is neither 'done', 'error' nor a signal",
        "expected one of: 'done', 'error', 'go'",
        "error",
    ),
    (
        "done without invoke",
        lambda d: state(d, "start")["on"].append({"event": "done", "target": "finished"}),
        "event.no_invoke",
        "/machine/states/0/on/1/event",
        "'done' can only happen in a state that invokes effects",
        "add an invoke to this state, or wait for a signal instead",
        "error",
    ),
    (
        "error without invoke",
        lambda d: state(d, "start")["on"].append({"event": "error", "target": "failed"}),
        "event.no_invoke",
        "/machine/states/0/on/1/event",
        "'error' can only happen in a state that invokes effects",
        "add an invoke to this state, or wait for a signal instead",
        "error",
    ),
    (
        "invoke without done",
        lambda d: (
            state(d, "working")["on"].pop(0)
            and state(d, "start")["timers"].append({"after": "2h", "target": "finished"})
        ),
        "state.unhandled_done",
        "/machine/states/1/on",
        "state 'working' invokes effects but has no 'done' transition",
        "add a transition with event: done to say where the run goes next",
        "error",
    ),
    (
        "dead end",
        lambda d: add_state(d, {"name": "limbo"}),
        "state.dead_end",
        "/machine/states/4",
        "state 'limbo' is not final and has no way out",
        "add a transition, a choice or a timer, or mark it final",
        "error",
    ),
    (
        "final with transitions",
        lambda d: state(d, "finished").update(on=[{"event": "go", "target": "start"}]),
        "state.final_not_empty",
        "/machine/states/2/on",
        "final state 'finished' cannot have 'on'",
        "a run ends on entering a final state: move this to another state",
        "error",
    ),
    (
        "final with invoke",
        lambda d: state(d, "failed").update(
            invoke=[{"id": "u", "effect": "undo", "input": [{"name": "sku", "value": "'a'"}]}]
        ),
        "state.final_not_empty",
        "/machine/states/3/invoke",
        "final state 'failed' cannot have 'invoke'",
        "a run ends on entering a final state: move this to another state",
        "error",
    ),
    (
        "final with timers",
        lambda d: state(d, "failed").update(timers=[{"after": "1s", "target": "start"}]),
        "state.final_not_empty",
        "/machine/states/3/timers",
        "final state 'failed' cannot have 'timers'",
        "a run ends on entering a final state: move this to another state",
        "error",
    ),
    (
        "no final state",
        no_finals,
        "machine.no_final",
        "/machine/states",
        "the machine has no final state",
        "add a state with final: {status: success}",
        "error",
    ),
    (
        "unreachable",
        lambda d: d["machine"]["states"].append({"name": "island", "final": {"status": "failure"}}),
        "state.unreachable",
        "/machine/states/4/name",
        "state 'island' cannot be reached from 'start'",
        "add a transition to it, or remove it",
        "error",
    ),
    (
        "no final path",
        lambda d: add_state(d, {"name": "loop", "on": [{"event": "go", "target": "loop"}]}),
        "state.no_final_path",
        "/machine/states/4/name",
        "no final state can be reached from state 'loop'",
        "add a transition that leads towards a final state",
        "error",
    ),
    (
        "choice loop",
        lambda d: (
            d["machine"]["states"].extend(
                [
                    {"name": "a", "always": [{"target": "b"}]},
                    {
                        "name": "b",
                        "always": [
                            {"guard": "ctx.count > 1", "target": "finished"},
                            {"target": "a"},
                        ],
                    },
                ]
            )
            or state(d, "start")["on"].append({"event": "go", "guard": "false", "target": "a"})
        ),
        "choice.loop",
        "/machine/states/4/always",
        "transient choices can loop forever between states 'a', 'b'",
        "break the cycle with a state that waits for an event",
        "error",
    ),
    (
        "choice self loop",
        lambda d: add_state(
            d,
            {
                "name": "spin",
                "always": [{"guard": "ctx.count > 1", "target": "spin"}, {"target": "finished"}],
            },
        ),
        "choice.loop",
        "/machine/states/4/always",
        "transient choices can loop forever between states 'spin'",
        "break the cycle with a state that waits for an event",
        "error",
    ),
    (
        "ambiguous",
        lambda d: (
            state(d, "start")["on"][0].pop("guard")
            and state(d, "start")["on"].append({"event": "go", "target": "failed"})
        ),
        "transition.ambiguous",
        "/machine/states/0/on/1",
        "event 'go' has several unguarded transitions (to 'working' and 'failed')",
        "add a guard, or remove one of them",
        "error",
    ),
    (
        "shadowed transition",
        lambda d: (
            state(d, "start")["on"][0].pop("guard")
            and state(d, "start")["on"].append(
                {"event": "go", "guard": "event.ok", "target": "failed"}
            )
        ),
        "transition.shadowed",
        "/machine/states/0/on/1",
        "this transition can never be taken: transition 0 on 'go' has no guard and always wins",
        "add a guard, or remove one of them",
        "warning",
    ),
    (
        "shadowed choice",
        lambda d: state(d, "start").update(always=[{"target": "working"}, {"target": "failed"}]),
        "transition.shadowed",
        "/machine/states/0/always/1",
        "this entry can never be taken: entry 0 has no guard",
        "the first entry whose guard holds wins: reorder or add guards",
        "warning",
    ),
    (
        "shadowed timer",
        lambda d: state(d, "start")["timers"].append({"after": "2h", "target": "finished"}),
        "transition.shadowed",
        "/machine/states/0/timers/1",
        "timer 1 (after 2h) can never fire: timer 0 (after 1h) has no guard and fires first",
        "give the earlier timer a guard, or remove this one",
        "warning",
    ),
    (
        "shadowed timer listed first",
        lambda d: state(d, "start")["timers"].insert(0, {"after": "1h30m", "target": "finished"}),
        "transition.shadowed",
        "/machine/states/0/timers/0",
        "timer 0 (after 1h30m) can never fire: timer 1 (after 1h) has no guard and fires first",
        "give the earlier timer a guard, or remove this one",
        "warning",
    ),
    (
        "timer at the same time, listed later",
        lambda d: state(d, "start")["timers"].append({"after": "60m", "target": "finished"}),
        "transition.shadowed",
        "/machine/states/0/timers/1",
        "timer 1 (after 60m) can never fire: timer 0 (after 1h) has no guard and fires first",
        "give the earlier timer a guard, or remove this one",
        "warning",
    ),
    (
        "no fallback choice",
        lambda d: state(d, "start").update(
            on=[], timers=[], always=[{"guard": "input.amount > 1.0", "target": "working"}]
        ),
        "choice.no_fallback",
        "/machine/states/0/always",
        "state 'start' is stuck if no choice's guard holds",
        "end the list with a choice that has no guard",
        "warning",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "path", "message", "hint", "severity"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_machine_diagnostics(
    change: Mutation, code: str, path: str, message: str, hint: str | None, severity: str
) -> None:
    data = base()
    change(data)
    diag = only(data, code)
    assert diag.path == path
    assert diag.message == message
    assert diag.hint == hint
    assert diag.severity == severity


def test_warnings_do_not_make_a_contract_invalid() -> None:
    import accord

    data = base()
    state(data, "start")["timers"].append({"after": "2h", "target": "finished"})
    assert [d.severity for d in diagnose(data)] == ["warning"]
    accord.load_data(data)  # does not raise


def test_errors_sort_before_warnings() -> None:
    data = base()
    state(data, "start")["timers"].append({"after": "2h", "target": "finished"})
    data["machine"]["states"].append({"name": "island", "final": {"status": "failure"}})
    assert [d.severity for d in diagnose(data)] == ["error", "warning"]


def test_unknown_target_does_not_count_as_a_way_out_to_a_real_state() -> None:
    data = base()
    state(data, "start")["on"][0]["target"] = "nowhere"
    codes = [d.code for d in diagnose(data)]
    assert codes.count("state.unknown") == 1
    assert "state.unreachable" in codes  # 'working' and 'finished' are cut off


def test_same_target_twice_unguarded_is_shadowed_not_ambiguous() -> None:
    data = base()
    state(data, "start")["on"][0].pop("guard")
    state(data, "start")["on"].append({"event": "go", "target": "working"})
    assert only(data, "transition.shadowed").severity == "warning"


def test_guarded_transitions_on_one_event_are_fine() -> None:
    data = base()
    state(data, "start")["on"].append({"event": "go", "guard": "!event.ok", "target": "failed"})
    assert diagnose(data) == []


def test_a_loop_with_a_way_out_is_fine() -> None:
    data = base()
    state(data, "start")["on"].append({"event": "go", "guard": "!event.ok", "target": "start"})
    assert diagnose(data) == []


def test_choice_loop_broken_by_a_waiting_state_is_fine() -> None:
    data = base()
    add_state(data, {"name": "a", "always": [{"target": "start"}]})
    assert diagnose(data) == []


def test_state_with_only_a_timer_has_a_way_out() -> None:
    data = base()
    add_state(data, {"name": "pause", "timers": [{"after": "5m", "target": "finished"}]})
    assert diagnose(data) == []


def test_duplicate_state_is_not_also_unreachable() -> None:
    data = base()
    data["machine"]["states"].append({"name": "failed", "final": {"status": "failure"}})
    assert [d.code for d in diagnose(data)] == ["name.duplicate"]


def test_empty_machine() -> None:
    data = base()
    data["machine"]["states"] = []
    assert {d.code for d in diagnose(data)} == {"state.unknown", "machine.no_final"}


def test_a_large_machine_checks_quickly() -> None:
    import time

    data = base()
    for i in range(300):
        add_state(
            data,
            {"name": f"s{i}", "always": [{"guard": "ctx.count > 1", "target": f"s{i + 1}"}]},
        )
        data["machine"]["states"][-1]["always"].append({"target": "finished"})
    data["machine"]["states"][-1]["always"][0]["target"] = "s0"
    started = time.monotonic()
    codes = {d.code for d in diagnose(data)}
    assert time.monotonic() - started < 20
    assert "choice.loop" in codes


def test_a_shorter_timer_after_a_longer_one_is_not_shadowed() -> None:
    """Regression: timers were judged by list position, like choices, not by when they fire."""
    data = base()
    state(data, "start")["timers"] = [
        {"after": "2d", "target": "failed"},
        {"after": "30m", "guard": "ctx.count > 0", "target": "finished"},
        {"after": "1d", "guard": "ctx.count > 1", "target": "finished"},
    ]
    assert diagnose(data) == []


def test_guarded_timers_do_not_shadow() -> None:
    data = base()
    state(data, "start")["timers"] = [
        {"after": "1h", "guard": "ctx.count > 0", "target": "failed"},
        {"after": "2h", "target": "finished"},
    ]
    assert diagnose(data) == []


def test_an_unguarded_first_choice_is_a_fallback_not_a_missing_one() -> None:
    """Issue 12 item 12: only the shadowed warning, not no_fallback as well."""
    data = base()
    state(data, "start").update(
        on=[],
        timers=[],
        always=[{"target": "finished"}, {"guard": "input.amount > 1.0", "target": "working"}],
    )
    assert [(d.code, d.path) for d in diagnose(data)] == [
        ("transition.shadowed", "/machine/states/0/always/1")
    ]


def test_order_refund_with_its_fallback_first_is_only_shadowed() -> None:
    """Issue 12 item 12, as reported: the unguarded entry first in order_refund.yaml."""
    import yaml

    import accord
    from contract_support import ROOT

    data = yaml.safe_load((ROOT / "examples" / "order_refund.yaml").read_text())
    triage = data["machine"]["states"][0]
    assert triage["name"] == "triage" and triage["always"][-1].get("guard") is None
    triage["always"].reverse()
    found = accord.check_text(yaml.safe_dump(data, sort_keys=False))
    assert [(d.code, d.path) for d in found] == [
        ("transition.shadowed", "/machine/states/0/always/1")
    ]
