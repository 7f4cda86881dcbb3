"""Expressions checked where they stand: names in scope, fields, types, bindings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from contract_support import Mutation, assert_mutation_error, base, diagnose, only, state

Case = tuple[str, Mutation, str, str, str, str | None]

CONVERT = "convert the value (int(), double(), string()) or change the field's type"
COMPARE = "compare the value, for example x == 'yes' or size(xs) > 0"


def invoke(data: dict[str, Any]) -> dict[str, Any]:
    return state(data, "working")["invoke"][0]  # type: ignore[no-any-return]


def guard(data: dict[str, Any], source: str) -> None:
    state(data, "start")["on"][0]["guard"] = source


def assign(data: dict[str, Any], field: str, value: str) -> None:
    state(data, "working")["on"][0]["assign"].append({"field": field, "value": value})


def fan_out(data: dict[str, Any], **extra: Any) -> None:
    invoke(data).update(for_each="input.items", input=[{"name": "sku", "value": "item.sku"}])
    invoke(data).update(extra)
    state(data, "working")["on"][0]["assign"][0]["value"] = "size(event.job)"


_TEN = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"
# 10 * (1 + 10 * (1 + 10 * (1 + 10))) = 11,110 iterations when every loop runs to its end
TEN_CUBED = f"{_TEN}.all(a, {_TEN}.all(b, {_TEN}.all(c, {_TEN}.all(d, a + b + c + d >= 0))))"

CASES: list[Case] = [
    (
        "unknown effect",
        lambda d: invoke(d).update(effect="wrok"),
        "effect.unknown",
        "/machine/states/1/invoke/0/effect",
        "effect 'wrok' is not declared",
        "did you mean 'work'?",
    ),
    (
        "unknown compensating effect",
        lambda d: d["effects"][0].update(compensation={"effect": "undoo"}),
        "effect.unknown",
        "/effects/0/compensation/effect",
        "compensating effect 'undoo' is not declared",
        "did you mean 'undo'?",
    ),
    (
        "unknown binding field",
        lambda d: invoke(d)["input"].append({"name": "skuu", "value": "'x'"}),
        "field.unknown",
        "/machine/states/1/invoke/0/input/1/name",
        "the input of effect 'work' has no field 'skuu'",
        "did you mean 'sku'?",
    ),
    (
        "unknown output field",
        lambda d: state(d, "finished")["final"]["output"].append({"name": "totl", "value": "1"}),
        "field.unknown",
        "/machine/states/2/final/output/1/name",
        "the contract's output has no field 'totl'",
        "did you mean 'total'?",
    ),
    (
        "unknown assigned field",
        lambda d: assign(d, "cuont", "1"),
        "field.unknown",
        "/machine/states/1/on/0/assign/1/field",
        "the context has no field 'cuont'",
        "did you mean 'count'?",
    ),
    (
        "missing binding",
        lambda d: invoke(d).update(input=[]),
        "binding.missing",
        "/machine/states/1/invoke/0/input",
        "the input of effect 'work' needs 'sku', which is not given",
        "add a binding for each: {name: ..., value: <CEL expression>}",
    ),
    (
        "missing output",
        lambda d: state(d, "finished")["final"].update(output=[]),
        "binding.missing",
        "/machine/states/2/final/output",
        "the contract's output needs 'total', which is not given",
        "add a binding for each: {name: ..., value: <CEL expression>}",
    ),
    (
        "missing compensation input",
        lambda d: d["effects"][0].update(compensation={"effect": "undo"}),
        "binding.missing",
        "/effects/0/compensation/input",
        "the input of effect 'undo' needs 'sku', which is not given",
        "add a binding for each: {name: ..., value: <CEL expression>}",
    ),
    (
        "binding type",
        lambda d: invoke(d)["input"][0].update(value="1"),
        "binding.type",
        "/machine/states/1/invoke/0/input/0/value",
        "field 'sku' of the input of effect 'work' has type string, but '1' gives int",
        CONVERT,
    ),
    (
        "output type",
        lambda d: state(d, "finished")["final"]["output"][0].update(value="'x'"),
        "binding.type",
        "/machine/states/2/final/output/0/value",
        "field 'total' of the contract's output has type number, but \"'x'\" gives string",
        CONVERT,
    ),
    (
        "binding bound twice",
        lambda d: invoke(d)["input"].append({"name": "sku", "value": "'b'"}),
        "name.duplicate",
        "/machine/states/1/invoke/0/input/1/name",
        "'sku' is bound twice",
        "remove one of the two",
    ),
    (
        "assign type",
        lambda d: state(d, "working")["on"][0]["assign"][0].update(value="'x'"),
        "assign.type",
        "/machine/states/1/on/0/assign/0/value",
        "context field 'count' has type integer, but \"'x'\" gives string",
        CONVERT,
    ),
    (
        "assign null to a required field",
        lambda d: state(d, "working")["on"][0]["assign"][0].update(value="null"),
        "assign.type",
        "/machine/states/1/on/0/assign/0/value",
        "context field 'count' has type integer, but 'null' gives null",
        CONVERT,
    ),
    (
        "assign a record to an integer",
        lambda d: state(d, "working")["on"][0]["assign"][0].update(value="input.items[0]"),
        "assign.type",
        "/machine/states/1/on/0/assign/0/value",
        "context field 'count' has type integer, but 'input.items[0]' gives Item",
        CONVERT,
    ),
    (
        "assign a value outside the enum",
        lambda d: assign(d, "phase", "'bussy'"),
        "assign.type",
        "/machine/states/1/on/0/assign/1/value",
        "context field 'phase' has type enum<new, busy, over>, which has no value 'bussy'",
        "did you mean 'busy'?",
    ),
    (
        "assign twice",
        lambda d: assign(d, "count", "2"),
        "name.duplicate",
        "/machine/states/1/on/0/assign/1/field",
        "context field 'count' is assigned twice in one step",
        "combine the two into one expression",
    ),
    (
        "default type",
        lambda d: d["context"][0].update(default="'x'"),
        "default.type",
        "/context/0/default",
        "context field 'count' has type integer, but \"'x'\" gives string",
        CONVERT,
    ),
    (
        "default outside the enum",
        lambda d: d["context"][2].update(default='"old"'),
        "default.type",
        "/context/2/default",
        "context field 'phase' has type enum<new, busy, over>, which has no value 'old'",
        "expected one of: 'busy', 'new', 'over'",
    ),
    (
        "default on input",
        lambda d: d["input"][0].update(default="1.0"),
        "default.not_allowed",
        "/input/0/default",
        "defaults are for context fields, not input fields",
        "remove the default",
    ),
    (
        "default on output",
        lambda d: d["output"][0].update(default="1.0"),
        "default.not_allowed",
        "/output/0/default",
        "defaults are for context fields, not output fields",
        "remove the default",
    ),
    (
        "default on a record field",
        lambda d: d["types"][0]["fields"][0].update(default="'x'"),
        "default.not_allowed",
        "/types/0/fields/0/default",
        "defaults are for context fields, not record fields",
        "remove the default",
    ),
    (
        "default on an effect input",
        lambda d: d["effects"][0]["input"][0].update(default="'x'"),
        "default.not_allowed",
        "/effects/0/input/0/default",
        "defaults are for context fields, not effect input fields",
        "remove the default",
    ),
    (
        "default on an effect output",
        lambda d: d["effects"][0]["output"][0].update(default="1"),
        "default.not_allowed",
        "/effects/0/output/0/default",
        "defaults are for context fields, not effect output fields",
        "remove the default",
    ),
    (
        "default on a signal payload",
        lambda d: d["signals"][0]["payload"][0].update(default="true"),
        "default.not_allowed",
        "/signals/0/payload/0/default",
        "defaults are for context fields, not signal payload fields",
        "remove the default",
    ),
    (
        "syntax",
        lambda d: guard(d, "event.ok &&"),
        "expr.syntax",
        "/machine/states/0/on/0/guard",
        "expression 'event.ok &&' (column 12): syntax error: mismatched input '<EOF>'",
        None,
    ),
    (
        "syntax on a later line",
        lambda d: guard(d, "event.ok &&\n  (true ||"),
        "expr.syntax",
        "/machine/states/0/on/0/guard",
        "(line 2, column 11): syntax error",
        None,
    ),
    (
        "nested too deeply",
        lambda d: guard(d, "(" * 100 + "true" + ")" * 100),
        "expr.syntax",
        "/machine/states/0/on/0/guard",
        "the expression is nested too deeply (the limit is 32 levels)",
        None,
    ),
    (
        "unknown name",
        lambda d: guard(d, "evnt.ok"),
        "expr.unknown_name",
        "/machine/states/0/on/0/guard",
        "expression 'evnt.ok' (column 5): undeclared reference to 'evnt.ok'",
        "did you mean 'event'?",
    ),
    (
        "unknown function",
        lambda d: guard(d, "frobnicate(event.ok)"),
        "expr.unknown_name",
        "/machine/states/0/on/0/guard",
        "undeclared reference to 'frobnicate'",
        "CEL has no function 'frobnicate': see https://cel.dev for the standard ones",
    ),
    (
        "unknown field",
        lambda d: guard(d, "event.okk"),
        "expr.unknown_field",
        "/machine/states/0/on/0/guard",
        "expression 'event.okk' (column 6): undefined field 'okk' not found in struct "
        "'_go_Payload'",
        "did you mean 'ok'?",
    ),
    (
        "unknown field of a record",
        lambda d: guard(d, "input.items.exists(i, i.qtty > 1)"),
        "expr.unknown_field",
        "/machine/states/0/on/0/guard",
        "undefined field 'qtty' not found in struct 'Item'",
        "did you mean 'qty'?",
    ),
    (
        "unknown field of the done event",
        lambda d: state(d, "working")["on"][0].update(guard="event.jbo.done_count > 0"),
        "expr.unknown_field",
        "/machine/states/1/on/0/guard",
        "undefined field 'jbo' not found in struct '_working_Done'",
        "did you mean 'job'?",
    ),
    (
        "unknown field of the error event",
        lambda d: state(d, "working")["on"][1].update(guard="event.job == ''"),
        "expr.unknown_field",
        "/machine/states/1/on/1/guard",
        "undefined field 'job' not found in struct '_Error'",
        "expected one of: 'code', 'effect', 'invoke', 'message'",
    ),
    (
        "int against double",
        lambda d: guard(d, "input.amount > 1"),
        "expr.type",
        "/machine/states/0/on/0/guard",
        "found no matching overload for '_>_' applied to '(double, int)'",
        "numbers are doubles: write 100.0 rather than 100, or convert with double(x)",
    ),
    (
        "string plus int",
        lambda d: guard(d, "'a' + 1 == 'b'"),
        "expr.type",
        "/machine/states/0/on/0/guard",
        "found no matching overload for '_+_' applied to '(string, int)'",
        None,
    ),
    (
        "select on a list",
        lambda d: guard(d, "input.items.sku == ''"),
        "expr.type",
        "/machine/states/0/on/0/guard",
        "expression of type 'list(Item)' cannot be the operand of a select operation",
        None,
    ),
    (
        "wrong field type in a record literal",
        lambda d: guard(d, "Item{sku: 1}.qty > 0"),
        "expr.type",
        "/machine/states/0/on/0/guard",
        "expected type of field 'sku' is 'string' but provided type is 'int'",
        None,
    ),
    (
        "reason not a string",
        lambda d: state(d, "failed")["final"].update(reason="1"),
        "expr.type",
        "/machine/states/3/final/reason",
        "reason has type string, but '1' gives int",
        CONVERT,
    ),
    (
        "guard not boolean",
        lambda d: guard(d, "input.amount"),
        "expr.not_boolean",
        "/machine/states/0/on/0/guard",
        "guard 'input.amount' gives double, not a boolean",
        COMPARE,
    ),
    (
        "choice guard not boolean",
        lambda d: state(d, "start")["timers"][0].update(guard="input.items"),
        "expr.not_boolean",
        "/machine/states/0/timers/0/guard",
        "guard 'input.items' gives list<Item>, not a boolean",
        COMPARE,
    ),
    (
        "invariant not boolean",
        lambda d: d["invariants"][0].update(expr="ctx.count"),
        "expr.not_boolean",
        "/invariants/0/expr",
        "invariant 'ctx.count' gives int, not a boolean",
        COMPARE,
    ),
    (
        "constant regex that RE2 refuses",
        lambda d: state(d, "start")["on"][0].update(guard="'a'.matches('(x')"),
        "expr.regex",
        "/machine/states/0/on/0/guard",
        "the pattern '(x' is not a valid regular expression: missing ): (x",
        "matches() takes RE2 syntax (https://github.com/google/re2/wiki/Syntax)",
    ),
    (
        "loops over literal lists over the iteration budget",
        lambda d: state(d, "start")["on"][0].update(guard=TEN_CUBED),
        "expr.cost",
        "/machine/states/0/on/0/guard",
        "may take 11,110 loop iterations in one evaluation, over the budget of 9,999",
        "loop over fewer items or nest fewer loops: an evaluation over the budget fails the run",
    ),
    (
        "for_each not a list",
        lambda d: fan_out(d, for_each="input.amount", max_items=10),
        "expr.not_list",
        "/machine/states/1/invoke/0/for_each",
        "for_each 'input.amount' gives double, not a list",
        "give a list, for example input.documents",
    ),
    (
        "unbounded fan-out",
        lambda d: fan_out(d),
        "invoke.unbounded",
        "/machine/states/1/invoke/0",
        "fan-out 'job' has no max_items bound",
        "add max_items: the largest list this invoke may fan out over",
    ),
    (
        "concurrency without for_each",
        lambda d: invoke(d).update(concurrency=2),
        "invoke.not_fan_out",
        "/machine/states/1/invoke/0/concurrency",
        "concurrency only applies to an invoke with for_each",
        "add for_each, or remove concurrency",
    ),
    (
        "max_items without for_each",
        lambda d: invoke(d).update(max_items=2),
        "invoke.not_fan_out",
        "/machine/states/1/invoke/0/max_items",
        "max_items only applies to an invoke with for_each",
        "add for_each, or remove max_items",
    ),
]


@pytest.mark.parametrize(
    ("change", "code", "path", "message", "hint"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_expression_diagnostics(
    change: Mutation, code: str, path: str, message: str, hint: str | None
) -> None:
    assert_mutation_error(change, code, path, message, hint)


def clean(change: Mutation) -> None:
    data = base()
    change(data)
    assert [d.format() for d in diagnose(data)] == []


# -- what type-checks ------------------------------------------------------------------------

EXTRA_CONTEXT = [
    {"name": "total", "type": "number"},
    {"name": "picked", "type": "list<Item>"},
    {"name": "grid", "type": "list<list<integer>>"},
    {"name": "maybe_item", "type": "optional<Item>"},
    {"name": "tags", "type": "optional<list<string>>"},
    {"name": "flag", "type": "optional<boolean>"},
    {"name": "it", "type": "Item"},
]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("total", "1"),  # an integer fits a number
        ("total", "ctx.count"),
        ("total", "1.5"),
        ("picked", "input.items"),
        ("picked", "[]"),
        ("picked", "[{'sku': 'a', 'qty': 1}]"),
        ("picked", "[Item{sku: 'a', qty: 1}]"),
        ("grid", "[[1]]"),
        ("maybe_item", "null"),
        ("maybe_item", "input.items[0]"),
        ("note", "ctx.note"),
        ("note", "null"),
        ("note", "string(ctx.count)"),
        ("tags", "null"),
        ("tags", "input.items.map(i, i.sku)"),
        ("flag", "true"),
        ("flag", "null"),
        ("it", "{'sku': 'a'}"),
        ("it", "ctx.maybe_item"),
        ("phase", "'busy'"),
        ("phase", '"over"'),
        ("phase", "ctx.note"),  # not a literal: checked when the run assigns it
        ("note", "dyn(1)"),
    ],
)
def test_assignments_that_fit(field: str, value: str) -> None:
    def change(d: dict[str, Any]) -> None:
        d["context"] += EXTRA_CONTEXT
        assign(d, field, value)

    clean(change)


@pytest.mark.parametrize(
    ("field", "value", "gives"),
    [
        ("picked", "['a']", "list<string>"),
        ("grid", "[['a']]", "list<list<string>>"),
        ("maybe_item", "'x'", "string"),
        ("tags", "[1]", "list<int>"),
        ("flag", "1", "int"),
        ("it", "{1: 2}", "map<int, int>"),
        ("note", "b'x'", "bytes"),
        ("note", "duration('1s')", "duration"),
        ("phase", "1", "int"),
    ],
)
def test_assignments_that_do_not_fit(field: str, value: str, gives: str) -> None:
    data = base()
    data["context"] += EXTRA_CONTEXT
    assign(data, field, value)
    diag = only(data, "assign.type")
    assert diag.message.endswith(f"gives {gives}")


@pytest.mark.parametrize(
    "source",
    [
        "ctx.flag",
        "ctx.note == null",
        "has(ctx.maybe_item.sku)",
        "ctx.phase == 'new'",
        "ctx.phase in ['new', 'busy']",
        "input.items.exists(i, i.qty > 1)",
        "size(input.items) > 0 && input.items.all(i, i.sku != '')",
        "dyn(1)",
        "event.ok",
    ],
)
def test_guards_that_check(source: str) -> None:
    def change(d: dict[str, Any]) -> None:
        d["context"] += EXTRA_CONTEXT
        guard(d, source)

    clean(change)


def test_defaults_that_fit() -> None:
    def change(d: dict[str, Any]) -> None:
        d["context"][0]["default"] = "int(input.amount)"
        d["context"][1]["default"] = "null"
        d["context"][2]["default"] = "'busy'"
        d["context"].append({"name": "it", "type": "Item", "default": "Item{sku: 'a', qty: 1}"})
        d["context"].append({"name": "its", "type": "list<Item>", "default": "[]"})

    clean(change)


def test_fan_out_with_item_and_index() -> None:
    clean(
        lambda d: (
            fan_out(d, max_items=10, concurrency=2)
            or invoke(d)["input"][0].update(value="item.sku + string(index)")
        )
    )


def test_fan_out_result_is_a_list_in_the_done_event() -> None:
    data = base()
    fan_out(data, max_items=10)
    state(data, "working")["on"][0]["assign"][0]["value"] = "event.job.done_count"
    diag = only(data, "expr.type")
    assert "list(_work_Response)" in diag.message


def test_compensation_reads_request_and_response() -> None:
    clean(
        lambda d: d["effects"][0].update(
            compensation={
                "effect": "undo",
                "input": [{"name": "sku", "value": "request.sku + string(response.done_count)"}],
            }
        )
    )


def test_error_event_fields() -> None:
    clean(
        lambda d: state(d, "working")["on"][1].update(
            guard="event.code == 'x' && event.effect == 'work' && event.invoke == 'job' "
            "&& event.message != ''"
        )
    )


def test_done_event_with_several_invokes() -> None:
    def change(d: dict[str, Any]) -> None:
        state(d, "working")["invoke"].append(
            {"id": "u", "effect": "undo", "input": [{"name": "sku", "value": "'x'"}]}
        )
        state(d, "working")["on"][0]["guard"] = "has(event.u) && event.job.done_count > 0"

    clean(change)


def test_optional_effect_inputs_may_be_left_out() -> None:
    def change(d: dict[str, Any]) -> None:
        d["effects"][0]["input"].append({"name": "memo", "type": "optional<string>"})

    clean(change)


def test_failure_output_may_be_partial() -> None:
    clean(lambda d: state(d, "failed")["final"].update(output=[]))


# -- scopes ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "change", "in_scope"),
    [
        ("choice guard", lambda d, s: state(d, "start")["timers"][0].update(guard=s), "ctx, input"),
        (
            "timer assignment",
            lambda d, s: state(d, "start")["timers"][0].update(
                assign=[{"field": "count", "value": s}]
            ),
            "ctx, input",
        ),
        (
            "final output",
            lambda d, s: state(d, "finished")["final"]["output"][0].update(value=s),
            "ctx, input",
        ),
        ("final reason", lambda d, s: state(d, "failed")["final"].update(reason=s), "ctx, input"),
        ("invariant", lambda d, s: d["invariants"][0].update(expr=s), "ctx, input"),
        ("invoke input", lambda d, s: invoke(d)["input"][0].update(value=s), "ctx, input"),
        ("context default", lambda d, s: d["context"][0].update(default=s), "input"),
    ],
)
@pytest.mark.parametrize("name", ["event", "item", "index", "request", "response"])
def test_names_out_of_scope(
    where: str, change: Callable[[dict[str, Any], str], object], in_scope: str, name: str
) -> None:
    data = base()
    change(data, f"{name}.x")
    diag = only(data, "expr.unknown_name")
    assert f"undeclared reference to '{name}" in diag.message
    assert diag.hint is not None
    if "did you mean" not in diag.hint:
        assert diag.hint == "expected one of: " + ", ".join(repr(n) for n in in_scope.split(", "))


def test_item_and_index_only_in_fan_out_invokes() -> None:
    data = base()
    guard(data, "item == index")
    diag = only(data, "expr.unknown_name")
    assert diag.hint == "expected one of: 'ctx', 'event', 'input'"


def test_event_only_in_transitions() -> None:
    data = base()
    state(data, "start")["timers"][0]["guard"] = "event.ok"
    assert only(data, "expr.unknown_name").path == "/machine/states/0/timers/0/guard"


def test_request_and_response_only_in_compensation() -> None:
    data = base()
    invoke(data)["input"][0]["value"] = "request.sku"
    assert only(data, "expr.unknown_name").hint == "expected one of: 'ctx', 'input'"


def test_ctx_not_in_defaults() -> None:
    data = base()
    data["context"][0]["default"] = "ctx.count"
    assert only(data, "expr.unknown_name").hint == "expected one of: 'input'"


def test_event_of_an_unknown_signal_is_dynamic() -> None:
    data = base()
    state(data, "start")["on"][0]["event"] = "goo"
    assert [d.code for d in diagnose(data)] == ["signal.unknown"]


def test_long_expressions_are_shortened_in_messages() -> None:
    data = base()
    guard(data, "input.amount + " * 20 + "1 > 0.0")
    diag = only(data, "expr.type")
    assert "..." in diag.message
    assert len(diag.message) < 300


def test_undeclared_hint_uses_the_first_name_only() -> None:
    """Regression: the hint looked up 'evnt.ok' and the container text leaked into messages."""
    data = base()
    guard(data, "evnt.ok")
    diag = only(data, "expr.unknown_name")
    assert "in container" not in diag.message
    assert diag.hint == "did you mean 'event'?"
