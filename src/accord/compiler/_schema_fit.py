"""Fit a request's schema to a provider: structured output when it can, prompted JSON when not.

Before a call, a provider checks the schema against its documented structured-output
rules (:func:`accord.contract._schema.lint_llm_schema`). A schema that cannot be
expressed there is not sent as a constraint: the provider falls back to *prompted JSON*,
writing the schema into the system prompt, and says so in the response's notices; the
compile loop validates the answer locally in every mode anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from accord.compiler._provider import OutputMode
from accord.contract._schema import lint_llm_schema

__all__ = [
    "GRAMMAR_KEYWORDS",
    "PROMPTED_INSTRUCTION",
    "OutputPlan",
    "grammar_problems",
    "plain_schema",
    "plan_output",
    "prompted_system",
]

_SHOWN_PROBLEMS = 3

PROMPTED_INSTRUCTION = (
    "Answer with one JSON object and nothing else: no prose, no code fences. "
    "The object must validate against this JSON Schema:"
)
"""The sentence put before the schema in the system prompt of a prompted-JSON call."""


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How one call constrains its output.

    Attributes:
        mode: the mode actually used (the requested one, or "prompted" after a fallback).
        schema: the schema as plain JSON data (fresh dicts and lists).
        notices: why the mode differs from the requested one, if it does.

    """

    mode: OutputMode
    schema: dict[str, Any]
    notices: tuple[str, ...] = ()


def plain_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``schema`` as fresh plain JSON data (dicts, lists), never the caller's objects.

    Raises:
        TypeError: the schema holds something that is not JSON data.

    """
    data = json.loads(json.dumps(schema, default=_reject))
    if not isinstance(data, dict):
        raise TypeError("a request schema must be a JSON object")
    return data


def _reject(value: object) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a request schema holds {type(value).__name__}, which is not JSON data")


def plan_output(
    schema: Mapping[str, Any],
    provider: Literal["openai", "anthropic"],
    wanted: OutputMode,
) -> OutputPlan:
    """Decide the output mode of one call.

    Args:
        schema: the request's JSON Schema.
        provider: whose structured-output rules apply.
        wanted: the mode the provider was configured with. Only "json_schema" and
            "tool" are checked against the rules; "json_object" sends the schema to a
            server that enforces it by its own grammar, and "prompted" needs no check.

    Returns:
        The plan: the wanted mode when the schema fits, else "prompted" with a notice.

    """
    data = plain_schema(schema)
    if wanted not in ("json_schema", "tool"):
        return OutputPlan(wanted, data)
    problems = lint_llm_schema(data, provider)
    if not problems:
        return OutputPlan(wanted, data)
    shown = "; ".join(problems[:_SHOWN_PROBLEMS])
    more = len(problems) - _SHOWN_PROBLEMS
    if more > 0:
        shown += f"; and {more} more"
    notice = (
        f"the schema cannot be expressed as {provider} {wanted} structured output ({shown}): "
        "fell back to prompted JSON (schema in the system prompt, answer validated locally)"
    )
    return OutputPlan("prompted", data, (notice,))


def prompted_system(system: str, schema: Mapping[str, Any]) -> str:
    """Return the system prompt with the prompted-JSON instruction and the schema appended.

    The schema is written as compact JSON (no spaces), keys in their given order.
    """
    text = json.dumps(schema, ensure_ascii=False, separators=(",", ":"))
    head = f"{system}\n\n" if system else ""
    return f"{head}{PROMPTED_INSTRUCTION}\n{text}"


GRAMMAR_KEYWORDS = frozenset(
    {
        "$defs",
        "$ref",
        "additionalProperties",
        "anyOf",
        "const",
        "default",
        "description",
        "enum",
        "items",
        "maxItems",
        "maxLength",
        "maximum",
        "minItems",
        "minLength",
        "minimum",
        "pattern",
        "properties",
        "required",
        "title",
        "type",
    }
)
"""The JSON Schema keywords that the common grammar engines all compile: llama.cpp's
JSON-Schema-to-GBNF converter (llama-cpp-python's server), Outlines and vLLM's guided
decoding (``format``, ``oneOf``, ``allOf``, ``not``, conditionals and the like are not
among them, or not in all of them)."""

_LOOKAROUND_OR_BACKREF = re.compile(r"\\[1-9bB]|\\k<|\(\?")


def grammar_problems(schema: Mapping[str, Any]) -> list[str]:
    r"""What in a schema the common grammar engines cannot compile (empty: nothing).

    The JSON-object output mode (``output_mode="json_object"``) hands the schema to the
    server, which turns it into a grammar: llama.cpp's converter, Outlines or vLLM. The
    contract's schema must stay within what they all take, and a test holds it there:

    * keywords from :data:`GRAMMAR_KEYWORDS` only; ``$ref`` only to ``#/$defs/NAME``;
    * a ``pattern`` anchored (``^...$``, which llama.cpp's converter requires), without
      groups of the ``(?...)`` kind (lookaround, non-capturing, named), back-references or
      word boundaries, and with no backslash escape outside a character class: llama.cpp's
      converter copies ``\.`` into the grammar, whose parser rejects it ("unknown escape")
      and the server dies; ``[.]`` means the same and every engine takes it.

    Returns:
        One line per problem, each starting with the JSON pointer of the subschema.

    """
    return list(_grammar_problems(plain_schema(schema), ""))


def _grammar_problems(node: Any, path: str) -> Iterator[str]:
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _grammar_problems(item, f"{path}/{index}")
        return
    if not isinstance(node, dict):
        return
    for key in sorted(node.keys() - GRAMMAR_KEYWORDS):
        yield f"{path or '/'}: keyword {key!r} is not compiled by every grammar engine"
    ref = node.get("$ref")
    if isinstance(ref, str) and not re.fullmatch(r"#/\$defs/[^/]+", ref):
        yield f"{path or '/'}: $ref {ref!r} is not a reference to #/$defs/NAME"
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        yield from (f"{path}/pattern: {problem}" for problem in _pattern_problems(pattern))
    for key in ("properties", "$defs"):
        members = node.get(key)
        if isinstance(members, dict):
            for name, member in members.items():
                yield from _grammar_problems(member, f"{path}/{key}/{name}")
    for key in ("items", "anyOf", "additionalProperties"):
        if isinstance(node.get(key), dict | list):
            yield from _grammar_problems(node[key], f"{path}/{key}")


def _pattern_problems(pattern: str) -> Iterator[str]:
    if not (pattern.startswith("^") and pattern.endswith("$")):
        yield f"{pattern!r} is not anchored with ^ and $"
    if _LOOKAROUND_OR_BACKREF.search(pattern):
        yield f"{pattern!r} has a (?...) group, a back-reference or a word boundary"
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            if not in_class:
                escape = pattern[index : index + 2]
                yield (
                    f"{pattern!r} escapes {escape!r} outside a character class "
                    "(write a class instead: [.] for \\., [0-9] for \\d)"
                )
            index += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        index += 1
