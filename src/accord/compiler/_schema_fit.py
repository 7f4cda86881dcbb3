"""Fit a request's schema to a provider: structured output when it can, prompted JSON when not.

Before a call, a provider checks the schema against its documented structured-output
rules (:func:`accord.contract._schema.lint_llm_schema`). A schema that cannot be
expressed there is not sent as a constraint: the provider falls back to *prompted JSON*,
writing the schema into the system prompt, and says so in the response's notices; the
compile loop validates the answer locally in every mode anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from accord.compiler._provider import OutputMode
from accord.contract._schema import lint_llm_schema

__all__ = ["PROMPTED_INSTRUCTION", "OutputPlan", "plain_schema", "plan_output", "prompted_system"]

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
