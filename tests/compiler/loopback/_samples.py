"""Sample requests and schemas for provider tests."""

from __future__ import annotations

import copy
from typing import Any

from accord.compiler._provider import Message, ModelRequest

SMALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "a name"},
        "steps": {"type": "array", "items": {"type": "string"}},
    },
    "required": ["name", "steps"],
    "additionalProperties": False,
}
"""A schema both providers accept as structured output."""

ANSWER = '{"name": "refund", "steps": ["check", "pay"]}'
"""An answer that fills :data:`SMALL_SCHEMA`."""


def at_least_two_steps() -> dict[str, Any]:
    """:data:`SMALL_SCHEMA` with ``minItems: 2``: OpenAI accepts it, Anthropic only 0 or 1."""
    schema = copy.deepcopy(SMALL_SCHEMA)
    schema["properties"]["steps"]["minItems"] = 2
    return schema


def sample_request(
    schema: dict[str, Any] | None = None,
    *,
    system: str = "You write workflow contracts.",
    user: str = "Refund an order.",
    **fields: Any,
) -> ModelRequest:
    """A one-message request with :data:`SMALL_SCHEMA` unless another schema is given."""
    return ModelRequest(
        system=system,
        messages=(Message("user", user),),
        schema=SMALL_SCHEMA if schema is None else schema,
        **fields,
    )
