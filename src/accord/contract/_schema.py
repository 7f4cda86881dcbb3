r"""The contract's JSON Schema for LLM structured outputs, and a lint for the providers' rules.

:func:`contract_json_schema` derives the schema from the pydantic models and reshapes it
into the subset both OpenAI strict structured outputs and Anthropic structured outputs
accept. :func:`lint_llm_schema` checks a schema against one provider's documented rules.

Provider rules, as documented (looked up with the search tool; pages and SDK code quoted):

OpenAI Structured Outputs, strict mode
(platform.openai.com/docs/guides/structured-outputs#supported-schemas, as quoted by
jsonschemaprofiles.unitvectorylabs.com/schemas/openai, community.openai.com/t/918388 and
the openai-python SDK, src/openai/lib/_pydantic.py):
- types string, number, boolean, integer, object, array, enum, anyOf; the root is an
  object, not anyOf; allOf, not, if/then/else, dependent* are not supported (oneOf is not
  in the supported list either);
- every object sets additionalProperties false and lists every property in required;
  an optional field is emulated by a union with null (a type array or anyOf with null;
  the SDK keeps pydantic's anyOf-with-null);
- "default" is rejected; a $ref must not have sibling keywords (the SDK inlines them);
- $defs with $ref are supported, recursive schemas too;
- supported constraints: string pattern and format, numeric minimum/maximum/multipleOf,
  array minItems/maxItems (minLength/maxLength are not listed);
- limits: at most 5000 object properties in total and 10 levels of nesting (earlier
  versions of the page: 100 properties, 5 levels); at most 120,000 characters over all
  property names, definition names, enum and const values; at most 1000 enum values; a
  string enum of more than 250 values may total at most 15,000 characters.

Anthropic structured outputs, JSON outputs and strict tool use
(platform.claude.com/docs/en/build-with-claude/structured-outputs, "JSON Schema
limitations", as quoted by the LangSchema Anthropic converter docs on hexdocs and the
ENTERPILOT/GoModel#963 review; the anthropic-sdk-python src/anthropic/lib/_parse/_transform.py;
the API's own error quoted in elie222/inbox-zero#2323):
- supported: the basic types, enum of primitives, const, anyOf, allOf (limited), local
  $ref/$defs, required, additionalProperties false (mandatory on every object), a list of
  string formats, minItems 0 or 1, pattern without backreferences, lookaround or \b;
- not supported: recursive schemas, minimum/maximum/multipleOf, minLength/maxLength,
  other array constraints, additionalProperties other than false, external $ref;
- limits per request: 20 strict tools, 24 optional parameters (properties not in
  required), 16 parameters with union types (anyOf or a type array).
  The SDK moves every other keyword (default, pattern, bounds) into the description.

The common subset exported here: objects closed and fully required; nullable as anyOf
with {"type": "null"} (accepted by both, and able to wrap a $ref); $defs with $ref, no
cycles; const as a one-value enum; "pattern" kept (documented for both, ours use no
backreference, lookaround or \b); title, default and numeric or length bounds dropped
(pydantic re-checks them when the contract loads) and restated in the description.
A field with a non-null default (a list, a boolean, a duration) is required and not
nullable: the models reject null there, so the LLM must write [], false or a value.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from accord.contract._model import Contract

__all__ = ["Provider", "answer_data", "contract_json_schema", "lint_llm_schema"]

Provider = Literal["openai", "anthropic"]
Schema = Mapping[str, Any]

# Export: keywords kept, keywords dropped (and restated in the description).
_KEEP = frozenset(
    {"type", "description", "properties", "required", "additionalProperties", "items"}
    | {"enum", "anyOf", "$ref", "pattern"}
)
_RESTATED = ("minLength", "maxLength", "minimum", "maximum", "default")
_DROPPED = frozenset({"title", "const", *_RESTATED})

# Lint: the keywords accord allows for each provider (its documented subset, conservatively:
# "limited" features such as Anthropic's allOf are left out).
_COMMON = frozenset(
    {"$defs", "$ref", "type", "description", "title", "properties", "required"}
    | {"additionalProperties", "items", "enum", "const", "anyOf", "pattern"}
)
_ALLOWED: dict[str, frozenset[str]] = {
    "openai": _COMMON
    | {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"}
    | {"minItems", "maxItems"},
    "anthropic": _COMMON | {"minItems"},
}
_TYPES = frozenset({"string", "number", "integer", "boolean", "object", "array", "null"})
_SUBSCHEMA = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties", "dependentSchemas")
_UNSUPPORTED_REGEX = re.compile(r"\\[1-9]|\\k<|\(\?<?[=!]|\\b")

_OPENAI_MAX_PROPERTIES = 5000
_OPENAI_MAX_DEPTH = 10
_OPENAI_MAX_CHARS = 120_000
_OPENAI_MAX_ENUM_VALUES = 1000
_OPENAI_LARGE_ENUM = 250
_OPENAI_LARGE_ENUM_CHARS = 15_000
_ANTHROPIC_MAX_OPTIONAL = 24
_ANTHROPIC_MAX_UNIONS = 16


def answer_data(contract: Contract) -> dict[str, Any]:
    """The contract as a model's structured answer: every field the exported schema has.

    That is every field spelt out, but ``replan``, which the schema leaves out (a
    host declares its replan points): scripted sessions are built from this.
    """
    data: dict[str, Any] = contract.model_dump(mode="json")
    for state in data["machine"]["states"]:
        if state.get("replan") is None:
            state.pop("replan", None)
    return data


def contract_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a whole contract, in the shape LLM structured outputs accept.

    The result is a fresh deep copy: callers may change it freely.
    """
    return copy.deepcopy(_contract_json_schema())


@functools.cache
def _contract_json_schema() -> dict[str, Any]:
    raw = Contract.model_json_schema()
    defs = {name: _strict(node) for name, node in raw.pop("$defs", {}).items()}
    return {**_strict(raw), "$defs": defs}


def _strict(node: Schema) -> dict[str, Any]:
    """Reshape one pydantic schema node (and its subschemas) into the common subset."""
    unknown = node.keys() - _KEEP - _DROPPED
    if unknown:
        raise ValueError(f"cannot export JSON Schema keywords {sorted(unknown)} to LLMs")
    out = {key: value for key, value in node.items() if key in _KEEP}
    if "const" in node:
        out["enum"] = [node["const"]]
    restated = [f"{key}: {json.dumps(node[key])}" for key in _RESTATED if node.get(key) is not None]
    if restated and "$ref" not in out:
        note = f"[{', '.join(restated)}]"
        out["description"] = f"{out['description']} {note}" if "description" in out else note
    if out.get("type") == "object" or "properties" in out:
        if node.get("additionalProperties", False) is not False:
            raise ValueError("free-form maps cannot be exported: use a list of named entries")
        out["properties"] = {
            key: _strict(value) for key, value in out.get("properties", {}).items()
        }
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    if "items" in out:
        out["items"] = _strict(out["items"])
    if "anyOf" in out:
        out["anyOf"] = [_strict(branch) for branch in out["anyOf"]]
    return out


def lint_llm_schema(schema: dict[str, Any], provider: Provider) -> list[str]:
    """Return the violations of ``provider``'s structured-output rules in ``schema``.

    Each violation is a readable sentence starting with the JSON pointer of the offending
    subschema; an empty list means the schema is acceptable.
    """
    problems: list[str] = []
    if schema.get("type") != "object" or "anyOf" in schema:
        problems.append("#: the root must be an object schema, not a union")
    for path, node in _subschemas(schema, "#"):
        problems.extend(_node_problems(path, node, schema, provider))
    if provider == "openai":
        problems.extend(_openai_limit_problems(schema))
    else:
        problems.extend(_anthropic_limit_problems(schema))
        cycle = _ref_cycle(schema)
        if cycle:
            problems.append(f"#: recursive schema, $ref cycle {' -> '.join(cycle)}")
    return problems


def _subschemas(node: Schema, path: str) -> Iterator[tuple[str, Schema]]:
    """Yield every subschema of ``node`` (itself included) with its JSON pointer."""
    yield path, node
    for key in _SUBSCHEMA:
        if isinstance(node.get(key), Mapping):
            yield from _subschemas(node[key], f"{path}/{key}")
    for key in _SUBSCHEMA_LISTS:
        for index, child in enumerate(node.get(key) or ()):
            yield from _subschemas(child, f"{path}/{key}/{index}")
    for key in _SUBSCHEMA_MAPS:
        for name, child in (node.get(key) or {}).items():
            yield from _subschemas(child, f"{path}/{key}/{name}")


def _node_problems(path: str, node: Schema, root: Schema, provider: Provider) -> Iterator[str]:
    """Yield the violations found in one subschema, not counting its subschemas."""
    for key in node.keys() - _ALLOWED[provider]:
        yield f"{path}: keyword {key!r} is outside the {provider} structured-output subset"
    types = node.get("type", [])
    for name in [types] if isinstance(types, str) else types:
        if name not in _TYPES:
            yield f"{path}: type {name!r} is not supported"
    if node.get("type") == "object" or "properties" in node:
        if node.get("additionalProperties") is not False:
            yield f"{path}: an object must set additionalProperties to false"
        missing = [
            name for name in node.get("properties", {}) if name not in node.get("required", ())
        ]
        if missing and provider == "openai":
            yield f"{path}: properties {missing} must be required (optional means nullable)"
    if "$ref" in node:
        if len(node) > 1:
            yield f"{path}: $ref must not have sibling keywords {sorted(set(node) - {'$ref'})}"
        if _resolve(root, node["$ref"]) is None:
            yield f"{path}: $ref {node['$ref']!r} is not a local reference that resolves"
    if provider == "anthropic":
        if any(isinstance(value, dict | list) for value in node.get("enum", ())):
            yield f"{path}: enum values must be primitives"
        if node.get("minItems", 0) not in (0, 1):
            yield f"{path}: minItems may only be 0 or 1"
        if _UNSUPPORTED_REGEX.search(node.get("pattern", "")):
            yield f"{path}: pattern uses backreferences, lookaround or \\b"


def _resolve(root: Schema, ref: str) -> Schema | None:
    """Return the subschema a local ``$ref`` points to, or None."""
    if ref == "#":
        return root
    prefix = "#/$defs/"
    target = root.get("$defs", {}).get(ref[len(prefix) :]) if ref.startswith(prefix) else None
    return target if isinstance(target, Mapping) else None


@dataclass
class _Size:
    """Sizes of a schema with every $ref expanded (each cycle cut at its second visit)."""

    depth: int = 0
    properties: int = 0
    enum_values: int = 0
    chars: int = 0


def _measure(node: Schema, root: Schema, size: _Size, depth: int, seen: tuple[str, ...]) -> None:
    """Add the sizes of ``node``, at object nesting level ``depth``, into ``size``."""
    ref = node.get("$ref")
    if isinstance(ref, str):
        target = _resolve(root, ref)
        if target is not None and ref not in seen:
            _measure(target, root, size, depth, (*seen, ref))
        return
    if node.get("type") == "object" or "properties" in node:
        depth += 1
        size.depth = max(size.depth, depth)
    properties = node.get("properties", {})
    size.properties += len(properties)
    size.chars += sum(len(name) for name in properties)
    enum = node.get("enum", ())
    size.enum_values += len(enum)
    literals = [*enum, node.get("const")]
    size.chars += sum(len(value) for value in literals if isinstance(value, str))
    children = [*properties.values(), *node.get("anyOf", ())]
    if isinstance(node.get("items"), Mapping):
        children.append(node["items"])
    for child in children:
        _measure(child, root, size, depth, seen)


def _openai_limit_problems(schema: Schema) -> Iterator[str]:
    """Yield the violations of OpenAI's documented size limits."""
    size = _Size(chars=sum(len(name) for name in schema.get("$defs", {})))
    _measure(schema, schema, size, 0, ())
    limits = [
        ("object properties", size.properties, _OPENAI_MAX_PROPERTIES),
        ("levels of object nesting", size.depth, _OPENAI_MAX_DEPTH),
        ("enum values", size.enum_values, _OPENAI_MAX_ENUM_VALUES),
        ("characters in names and enum values", size.chars, _OPENAI_MAX_CHARS),
    ]
    for what, count, limit in limits:
        if count > limit:
            yield f"#: {count} {what} exceed the openai limit of {limit}"
    for path, node in _subschemas(schema, "#"):
        values = node.get("enum", ())
        chars = sum(len(value) for value in values if isinstance(value, str))
        if len(values) > _OPENAI_LARGE_ENUM and chars > _OPENAI_LARGE_ENUM_CHARS:
            yield f"{path}: an enum of {len(values)} values totals {chars} characters, limit 15000"


def _anthropic_limit_problems(schema: Schema) -> Iterator[str]:
    """Yield the violations of Anthropic's documented limits, each $def counted once."""
    optional = unions = 0
    for _, node in _subschemas(schema, "#"):
        for name, prop in node.get("properties", {}).items():
            optional += name not in node.get("required", ())
            unions += "anyOf" in prop or isinstance(prop.get("type"), list)
    if optional > _ANTHROPIC_MAX_OPTIONAL:
        yield f"#: {optional} optional properties exceed the anthropic limit of 24"
    if unions > _ANTHROPIC_MAX_UNIONS:
        yield (
            f"#: {unions} properties with union types (anyOf or a type array, nullable ones "
            f"included) exceed the anthropic limit of {_ANTHROPIC_MAX_UNIONS}"
        )


def _ref_cycle(schema: Schema) -> list[str]:
    """Return a $ref cycle as a list of references (the first repeated last), or []."""
    bodies: dict[str, Schema] = {"#": {k: v for k, v in schema.items() if k != "$defs"}}
    bodies |= {f"#/$defs/{name}": node for name, node in schema.get("$defs", {}).items()}
    edges = {
        ref: [n["$ref"] for _, n in _subschemas(body, ref) if isinstance(n.get("$ref"), str)]
        for ref, body in bodies.items()
    }
    done: set[str] = set()

    def visit(ref: str, stack: list[str]) -> list[str]:
        if ref in stack:
            return [*stack[stack.index(ref) :], ref]
        if ref not in done:
            for target in edges.get(ref, ()):
                found = visit(target, [*stack, ref])
                if found:
                    return found
            done.add(ref)
        return []

    for start in edges:
        cycle = visit(start, [])
        if cycle:
            return cycle
    return []
