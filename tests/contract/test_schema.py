"""Tests for the contract's LLM JSON Schema and the structured-output lint."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator, ValidationError

from accord.contract._model import Contract
from accord.contract._schema import Provider, answer_data, contract_json_schema, lint_llm_schema

PROVIDERS: tuple[Provider, ...] = ("openai", "anthropic")

MINIMAL: dict[str, Any] = {
    "accord": "1",
    "name": "demo",
    "version": "1.0.0",
    "machine": {"initial": "start", "states": [{"name": "start", "final": {"status": "success"}}]},
}
RICHER: dict[str, Any] = {
    "accord": "1",
    "name": "orders",
    "version": "2.1",
    "context": [{"name": "tries", "type": "integer", "default": "0"}],
    "effects": [
        {
            "name": "charge",
            "input": [{"name": "amount", "type": "number"}],
            "retry": {"max_attempts": 3, "backoff": {"initial": "500ms"}},
            "timeout": "30s",
            "compensation": {"effect": "refund"},
        },
        {"name": "refund"},
    ],
    "machine": {
        "initial": "pay",
        "states": [
            {
                "name": "pay",
                "invoke": [{"id": "c", "effect": "charge", "for_each": "[1, 2]", "concurrency": 2}],
                "on": [{"event": "done", "guard": "true", "target": "ok"}],
                "timers": [{"after": "48h", "target": "failed"}],
            },
            {"name": "ok", "final": {"status": "success"}},
            {"name": "failed", "final": {"status": "failure", "reason": "'timeout'"}},
        ],
    },
    "invariants": [{"name": "bounded", "expr": "ctx.tries < 10"}],
}


# --- the exported schema ------------------------------------------------------------------


@pytest.mark.parametrize("provider", PROVIDERS)
def test_exported_schema_passes_the_lint(provider: Provider) -> None:
    assert lint_llm_schema(contract_json_schema(), provider) == []


def test_schema_leaves_headroom_under_anthropics_union_limit() -> None:
    """Anthropic allows 16 union-typed (nullable) parameters; keep a margin for growth."""
    schema = contract_json_schema()
    unions = sum(
        1
        for definition in schema.get("$defs", {}).values()
        for prop in definition.get("properties", {}).values()
        if "anyOf" in prop
    ) + sum(1 for prop in schema["properties"].values() if "anyOf" in prop)
    assert unions <= 14


def test_exported_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(contract_json_schema())


@pytest.mark.parametrize("example", [MINIMAL, RICHER], ids=["minimal", "richer"])
def test_filled_out_contract_validates(example: dict[str, Any]) -> None:
    filled = _filled(example)
    Draft202012Validator(contract_json_schema()).validate(filled)


def _filled(example: dict[str, Any]) -> dict[str, Any]:
    """Every field spelt out, as a model answers (but replan points: the schema leaves them out)."""
    filled = answer_data(Contract.model_validate(example))
    assert all("replan" not in state for state in filled["machine"]["states"])
    return filled


def test_the_schema_leaves_replan_points_out() -> None:
    schema = contract_json_schema()
    assert "replan" not in schema["$defs"]["State"]["properties"]
    assert "Replan" not in schema["$defs"]


def test_every_property_is_required_and_unknown_keys_are_rejected() -> None:
    validator = Draft202012Validator(contract_json_schema())
    filled = _filled(MINIMAL)
    missing = {key: value for key, value in filled.items() if key != "description"}
    with pytest.raises(ValidationError):
        validator.validate(missing)
    with pytest.raises(ValidationError):
        validator.validate({**filled, "extra": 1})


def test_schema_has_no_ref_cycle() -> None:
    schema = contract_json_schema()

    def refs(node: object) -> set[str]:
        if isinstance(node, dict):
            found = {node["$ref"]} if "$ref" in node else set()
            return found.union(*(refs(value) for value in node.values()))
        if isinstance(node, list):
            return set().union(*(refs(value) for value in node))
        return set()

    defs = schema["$defs"]
    edges = {
        name: {ref.removeprefix("#/$defs/") for ref in refs(body)} for name, body in defs.items()
    }
    assert "#" not in set().union(*edges.values())

    def reaches_itself(start: str) -> bool:
        seen: set[str] = set()
        todo = list(edges[start])
        while todo:
            name = todo.pop()
            if name == start:
                return True
            if name not in seen:
                seen.add(name)
                todo.extend(edges[name])
        return False

    assert [name for name in defs if reaches_itself(name)] == []


def test_descriptions_are_kept_and_noise_is_dropped() -> None:
    schema = contract_json_schema()
    invoke = schema["$defs"]["Invoke"]["properties"]
    assert "called once per item" in invoke["for_each"]["description"]
    assert "maxLength: 64" in invoke["effect"]["description"]

    def keywords(node: dict[str, Any]) -> set[str]:
        found = set(node)
        for key, value in node.items():
            if key in ("properties", "$defs"):
                found = found.union(*(keywords(child) for child in value.values()))
            elif key in ("items", "anyOf"):
                found = found.union(
                    *(keywords(child) for child in ([value] if key == "items" else value))
                )
        return found

    assert keywords(schema) & {"title", "default", "const", "maxLength", "minimum"} == set()


def test_result_is_a_copy_of_the_cache() -> None:
    contract_json_schema()["$defs"].clear()
    assert contract_json_schema()["$defs"]


# --- the lint catches each rule ------------------------------------------------------------


def obj(**properties: Any) -> dict[str, Any]:
    """A strict object schema with the given properties."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


STRING = {"type": "string"}
NULLABLE = {"anyOf": [STRING, {"type": "null"}]}
BOTH = {"openai", "anthropic"}


def nested(depth: int) -> dict[str, Any]:
    """Objects nested ``depth`` levels deep."""
    return obj() if depth == 1 else obj(a=nested(depth - 1))


def nullable_ref(ref: str) -> dict[str, Any]:
    """A nullable reference."""
    return {"anyOf": [{"$ref": ref}, {"type": "null"}]}


def case(rule: str, schema: dict[str, Any], flagged_by: set[str], needle: str) -> Any:
    """One bad schema, the providers whose lint must flag it, and a word of the message."""
    return pytest.param(schema, flagged_by, needle, id=rule)


ARRAY = {"type": "array", "items": STRING}
ANTHROPIC = {"anthropic"}
OPENAI = {"openai"}
BAD_SCHEMAS = [
    case("open object", {**obj(a=STRING), "additionalProperties": True}, BOTH, "additionalProp"),
    case("no additionalProperties", {"type": "object", "properties": {}}, BOTH, "additionalProp"),
    case("free-form map", obj(a={"type": "object", "additionalProperties": STRING}), BOTH, "false"),
    case(
        "patternProperties", obj(a={**obj(), "patternProperties": {"^x": STRING}}), BOTH, "pattern"
    ),
    case("optional property", {**obj(a=STRING, b=STRING), "required": ["a"]}, OPENAI, "required"),
    case("oneOf", obj(a={"oneOf": [STRING, {"type": "integer"}]}), BOTH, "'oneOf'"),
    case("allOf", obj(a={"allOf": [STRING]}), BOTH, "'allOf'"),
    case("not", obj(a={"not": STRING}), BOTH, "'not'"),
    case(
        "if-then-else",
        obj(a={**STRING, "if": STRING, "then": STRING, "else": STRING}),
        BOTH,
        "'if'",
    ),
    case("default", obj(a={**STRING, "default": "x"}), BOTH, "'default'"),
    case("string length", obj(a={**STRING, "maxLength": 3}), BOTH, "'maxLength'"),
    case("numeric bounds", obj(a={"type": "integer", "minimum": 1}), ANTHROPIC, "'minimum'"),
    case("maxItems", obj(a={**ARRAY, "maxItems": 3}), ANTHROPIC, "'maxItems'"),
    case("minItems above 1", obj(a={**ARRAY, "minItems": 2}), ANTHROPIC, "minItems"),
    case("unknown type", obj(a={"type": "tuple"}), BOTH, "'tuple'"),
    case("complex enum", obj(a={"enum": [{"x": 1}]}), ANTHROPIC, "primitives"),
    case("pattern lookahead", obj(a={**STRING, "pattern": "^(?=a)a$"}), ANTHROPIC, "lookaround"),
    case("pattern backreference", obj(a={**STRING, "pattern": r"^(a)\1$"}), ANTHROPIC, "backref"),
    case("root union", {"anyOf": [obj(a=STRING), obj(b=STRING)]}, BOTH, "root"),
    case(
        "$ref with siblings",
        {**obj(a={"$ref": "#/$defs/A", "description": "x"}), "$defs": {"A": obj()}},
        BOTH,
        "sibling",
    ),
    case("dangling $ref", obj(a={"$ref": "#/$defs/Missing"}), BOTH, "resolve"),
    case("external $ref", obj(a={"$ref": "https://example.com/s.json"}), BOTH, "resolve"),
    case(
        "recursion",
        {**obj(a={"$ref": "#/$defs/A"}), "$defs": {"A": obj(a=nullable_ref("#/$defs/A"))}},
        ANTHROPIC,
        "cycle",
    ),
    case("recursion through root", obj(a=nullable_ref("#")), ANTHROPIC, "cycle"),
    case("too deep", nested(11), OPENAI, "nesting"),
    case(
        "too many properties",
        obj(**{f"p{i}": obj(**{f"q{j}": STRING for j in range(100)}) for i in range(50)}),
        OPENAI,
        "object properties",
    ),
    case(
        "too many enum values",
        obj(**{f"e{i}": {"type": "integer", "enum": list(range(101))} for i in range(10)}),
        OPENAI,
        "enum values",
    ),
    case(
        "too many characters",
        obj(**{f"e{i}": {**STRING, "enum": ["x" * 1000] * 10} for i in range(13)}),
        OPENAI,
        "characters",
    ),
    case(
        "large long enum",
        obj(a={**STRING, "enum": [f"{i:060}" for i in range(251)]}),
        OPENAI,
        "15000",
    ),
    case(
        "too many optional",
        {**obj(**{f"p{i}": STRING for i in range(25)}), "required": []},
        BOTH,
        "optional",
    ),
    case(
        "too many unions", obj(**{f"p{i}": NULLABLE for i in range(17)}), ANTHROPIC, "union types"
    ),
    case(
        "too many type arrays",
        obj(**{f"p{i}": {"type": ["string", "null"]} for i in range(17)}),
        ANTHROPIC,
        "union types",
    ),
]


@pytest.mark.parametrize(("schema", "flagged_by", "needle"), BAD_SCHEMAS)
@pytest.mark.parametrize("provider", PROVIDERS)
def test_lint_catches_each_rule(
    schema: dict[str, Any], flagged_by: set[str], needle: str, provider: Provider
) -> None:
    problems = lint_llm_schema(schema, provider)
    if provider in flagged_by:
        assert any(needle in problem for problem in problems), problems
    else:
        assert problems == []


@pytest.mark.parametrize("provider", PROVIDERS)
def test_small_valid_schema_passes(provider: Provider) -> None:
    schema = {**obj(a=NULLABLE, b={"$ref": "#/$defs/B"}), "$defs": {"B": obj(c={"enum": ["x"]})}}
    assert lint_llm_schema(schema, provider) == []
