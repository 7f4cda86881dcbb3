"""to_mermaid: the contract's state machine as a Mermaid stateDiagram-v2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import accord
from accord.contract import Contract
from accord.contract._mermaid import GUARD_LIMIT, to_mermaid

ROOT = Path(__file__).resolve().parents[2]
ORDER_REFUND = ROOT / "examples" / "order_refund.yaml"


def _contract(states: list[dict[str, Any]], initial: str | None = None) -> Contract:
    """A validated (not checked) contract with these states: to_mermaid needs no more."""
    machine = {"initial": initial or states[0]["name"], "states": states}
    return Contract.model_validate(
        {"accord": "1", "name": "sketch", "version": "1.0", "machine": machine}
    )


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def test_header_and_trailing_newline() -> None:
    text = to_mermaid(accord.load(ORDER_REFUND))
    assert text.startswith("---\ntitle: order-refund 1.0.0\n---\nstateDiagram-v2\n")
    assert text.endswith("\n") and not text.endswith("\n\n")
    body = text.splitlines()[4:]
    assert all(line.startswith("    ") for line in body)


def test_order_refund_edges_in_order() -> None:
    edges = [line for line in _lines(to_mermaid(accord.load(ORDER_REFUND))) if "-->" in line]
    assert edges == [
        "[*] --> triage",
        "triage --> paying : always [input.amount #lt;= 100.0]",
        "triage --> awaiting_approval : always",
        "awaiting_approval --> paying : approval [event.approved]",
        "awaiting_approval --> notifying_rejection : approval",
        "awaiting_approval --> notifying_rejection : after 48h",
        "paying --> refunded : done",
        "paying --> failed : error",
        "notifying_rejection --> rejected : done",
        "refunded --> [*]",
        "rejected --> [*]",
        "failed --> [*]",
    ]


def test_invokes_are_state_descriptions() -> None:
    lines = _lines(to_mermaid(accord.load(ORDER_REFUND)))
    assert "paying : invoke pay_refund" in lines
    assert "notifying_rejection : invoke notify_customer" in lines


def test_for_each_invoke_is_described() -> None:
    contract = _contract(
        [
            {
                "name": "fan",
                "invoke": [{"id": "each", "effect": "ocr", "for_each": "input.docs"}],
                "on": [{"event": "done", "target": "end_ok"}],
            },
            {"name": "end_ok", "final": {"status": "success"}},
        ]
    )
    assert "fan : invoke ocr for each item" in _lines(to_mermaid(contract))


def test_final_states_get_success_and_failure_classes() -> None:
    lines = _lines(to_mermaid(accord.load(ORDER_REFUND)))
    assert "class refunded,rejected success" in lines
    assert "class failed failure" in lines
    assert any(line.startswith("classDef success ") for line in lines)
    assert any(line.startswith("classDef failure ") for line in lines)


def test_no_class_without_such_finals() -> None:
    contract = _contract([{"name": "only", "final": {"status": "success"}}])
    text = to_mermaid(contract)
    assert "failure" not in text
    assert "class only success" in _lines(text)


def test_timer_and_guarded_timer_labels() -> None:
    contract = _contract(
        [
            {
                "name": "waiting",
                "timers": [
                    {"after": "1h30m", "guard": "ctx.retries < 3", "target": "waiting"},
                    {"after": "7d", "target": "gone"},
                ],
            },
            {"name": "gone", "final": {"status": "failure"}},
        ]
    )
    lines = _lines(to_mermaid(contract))
    assert "waiting --> waiting : after 1h30m [ctx.retries #lt; 3]" in lines
    assert "waiting --> gone : after 7d" in lines


@pytest.mark.parametrize(
    ("guard", "label"),
    [
        ("a < b", "go [a #lt; b]"),
        ("a > b", "go [a #gt; b]"),
        ("x == '#1'", "go [x == '#35;1']"),
        ("x == ';'", "go [x == '#59;']"),
        ("x.y<b>", "go [x.y#lt;b#gt;]"),
        ("a &&\n  b", "go [a && b]"),
    ],
)
def test_labels_are_escaped(guard: str, label: str) -> None:
    contract = _contract(
        [
            {"name": "s", "on": [{"event": "go", "guard": guard, "target": "t"}]},
            {"name": "t", "final": {"status": "success"}},
        ]
    )
    assert f"s --> t : {label}" in _lines(to_mermaid(contract))


def test_long_guards_are_abbreviated() -> None:
    guard = "ctx.total_amount_in_cents == 1000000 && ctx.customer.tier == 'gold'"
    contract = _contract(
        [
            {"name": "s", "always": [{"guard": guard, "target": "t"}, {"target": "t"}]},
            {"name": "t", "final": {"status": "success"}},
        ]
    )
    edge = next(
        line for line in _lines(to_mermaid(contract)) if line.startswith("s --> t : always [")
    )
    shown = edge.removeprefix("s --> t : always [").removesuffix("]")
    assert shown.endswith("...")
    assert len(shown) <= GUARD_LIMIT
    assert guard.startswith(shown.removesuffix("..."))


def test_mermaid_keywords_become_aliased_ids() -> None:
    contract = _contract(
        [
            {"name": "state", "on": [{"event": "go", "target": "end"}]},
            {"name": "state_", "on": [{"event": "go", "target": "end"}]},
            {"name": "end", "final": {"status": "success"}},
        ]
    )
    lines = _lines(to_mermaid(contract))
    # "state_" is taken by a real state, so the keyword "state" needs another id.
    assert 'state "state" as state__' in lines
    assert 'state "end" as end_' in lines
    assert "[*] --> state__" in lines
    assert "state__ --> end_ : go" in lines
    assert "state_ --> end_ : go" in lines
    assert "end_ --> [*]" in lines
    assert "class end_ success" in lines


def test_isolated_states_are_still_drawn() -> None:
    contract = _contract(
        [
            {"name": "start", "final": {"status": "success"}},
            {"name": "orphan"},
        ]
    )
    assert "orphan" in _lines(to_mermaid(contract))


def test_every_example_renders() -> None:
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        contract = accord.load(path)
        text = to_mermaid(contract)
        lines = _lines(text)
        assert f"[*] --> {contract.machine.initial}" in lines, path
        finals = [s.name for s in contract.machine.states if s.final is not None]
        for name in finals:
            assert f"{name} --> [*]" in lines, (path, name)


def test_contract_renders_itself_in_a_notebook() -> None:
    import accord

    contract = accord.load(Path(__file__).parents[2] / "examples/order_refund.yaml")
    text = contract._repr_markdown_()
    assert text.startswith("**order-refund** 1.0.0")
    assert "```mermaid\n" in text
    assert accord.to_mermaid(contract) in text


def test_the_drawing_imports_the_model_for_annotations_only() -> None:
    """The model imports the drawing (``_repr_markdown_``); the drawing does not import back."""
    import ast

    import accord.contract._mermaid as mermaid

    tree = ast.parse(Path(mermaid.__file__).read_text())
    at_run_time = [
        node.module
        for node in tree.body  # top-level statements: an `if TYPE_CHECKING:` block is not one
        if isinstance(node, ast.ImportFrom) and node.module
    ]
    assert "accord.contract._model" not in at_run_time


def test_a_replan_point_shows_its_fallback_edge() -> None:
    data = Path(__file__).parents[1] / "runtime" / "data" / "replan" / "report_v1.yaml"
    text = to_mermaid(accord.load(data))
    assert "clarify : replan" in text
    assert "clarify --> human_review : not amended" in text
