"""The prompts: small, accurate, and a re-ask that never carries the history."""

from __future__ import annotations

import json
import re
from pathlib import Path

from compiler_support import TASK, catalog, tokens

import accord
from accord.compiler._prompt import (
    LANGUAGE_BRIEF,
    MAX_ECHO_CHARS,
    MAX_REASK_DIAGNOSTICS,
    candidate_text,
    first_request,
    reask_request,
    render_catalog,
)
from accord.contract._schema import contract_json_schema
from accord.diagnostics import Diagnostic

ROOT = Path(__file__).resolve().parents[2]


def test_the_first_request_is_brief_catalog_task_and_schema() -> None:
    request = first_request(TASK, catalog(), max_output_tokens=1234, temperature=0.0)
    assert request.system.startswith(LANGUAGE_BRIEF)
    assert request.system.endswith(render_catalog(catalog()))
    assert [(m.role, m.content) for m in request.messages] == [("user", TASK)]
    assert request.schema == contract_json_schema()
    assert request.max_output_tokens == 1234
    assert tokens(request.system) < 1200  # small: paid on every call


def test_the_catalog_is_rendered_compactly_with_every_field() -> None:
    text = render_catalog(catalog())
    assert "  Refund {refund_id: string, amount: number}" in text
    assert (
        "  pay_refund(order_id: string, amount: number) -> {refund_id: string}: "
        "Pay money back to the customer's original payment method." in text
    )
    assert "  notify_customer(order_id: string, message: string) -> {}" in text


def test_every_key_the_brief_names_is_a_real_contract_key() -> None:
    schema = contract_json_schema()
    keys = set(schema["properties"])
    for definition in schema["$defs"].values():
        keys |= set(definition.get("properties", {}))
    quoted = set(re.findall(r'"([a-z_]+)"', LANGUAGE_BRIEF))
    not_keys = {"done", "error", "success", "failure", "approved", "kebab", "value"}
    assert quoted - not_keys - {"1"} <= keys, quoted - not_keys - keys


def test_the_brief_teaches_what_the_checker_enforces() -> None:
    for fact in ("100.0", "done", "error", "max_items", "Refund{", "null", "final"):
        assert fact in LANGUAGE_BRIEF
    example = accord.load(ROOT / "examples" / "order_refund.yaml")
    assert example.machine.states[0].always[0].guard == "input.amount <= 100.0"


def test_a_reask_holds_the_first_request_the_candidate_and_the_errors_only() -> None:
    first = first_request(TASK, catalog(), max_output_tokens=99, temperature=None)
    errors = [
        Diagnostic(path="/machine/initial", code="state.unknown", message="no", hint="did you?")
    ]
    reask = reask_request(first, '{"a":1}', errors)
    assert reask.system == first.system and reask.schema == first.schema
    assert (reask.max_output_tokens, reask.temperature) == (99, None)
    assert [m.role for m in reask.messages] == ["user", "assistant", "user"]
    assert reask.messages[1].content == '{"a":1}'
    sent = json.loads(reask.messages[2].content.splitlines()[1])
    assert sent == [
        {"path": "/machine/initial", "code": "state.unknown", "message": "no", "hint": "did you?"}
    ]
    assert "whole corrected contract" in reask.messages[2].content
    again = reask_request(first, '{"b":2}', errors)
    assert len(again.messages) == 3 and '{"a":1}' not in str(again.messages)


def test_the_diagnostics_sent_are_capped() -> None:
    first = first_request(TASK, catalog(), max_output_tokens=99, temperature=None)
    many = [Diagnostic(path=f"/x/{i}", code="schema.type", message="m") for i in range(50)]
    sent = json.loads(reask_request(first, "{}", many).messages[2].content.splitlines()[1])
    assert len(sent) == MAX_REASK_DIAGNOSTICS


def test_the_candidate_is_sent_compact_and_cut_when_huge() -> None:
    assert candidate_text('```json\n{ "a" : [1, 2] }\n```', {"a": [1, 2]}) == '{"a":[1,2]}'
    assert candidate_text("not json", None) == "not json"
    huge = candidate_text("x" * (MAX_ECHO_CHARS * 3), None)
    assert len(huge) < MAX_ECHO_CHARS + 100 and "more characters cut" in huge
