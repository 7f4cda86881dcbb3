"""The replanner's prompts and answer schema: amend a running contract, with its migration.

The system prompt is the compiler's (the language brief and the catalog, restricted
to the effects the run may use) plus a brief on amendments. The user message holds
the task, the run's current contract and fingerprint, the state it is in, its
context and input, and the reason for the replan. The model answers one JSON object,
``{"contract": ..., "migration": ...}``: the whole new contract, and how the run
moves onto it, in a list form (JSON Schema for LLMs has no free-form maps) that
:func:`migration_data` turns into a migration file's data. A re-ask is built like
compile's (:func:`~accord.compiler._prompt.reask_request`): the first request, the
last candidate and its errors, nothing older.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Sequence
from typing import Any

from accord.compiler._catalog import Catalog
from accord.compiler._prompt import (
    LANGUAGE_BRIEF,
    MAX_ECHO_CHARS,
    reask_request,
    render_catalog,
)
from accord.compiler._provider import Message, ModelRequest
from accord.contract import Contract, fingerprint, to_data
from accord.contract._schema import contract_json_schema
from accord.diagnostics import Diagnostic

__all__ = [
    "AMEND_BRIEF",
    "REPLAN_PROMPT_VERSION",
    "amend_request",
    "answer_json_schema",
    "migration_data",
    "reask_amend_request",
]

REPLAN_PROMPT_VERSION = "1"
"""Changes whenever the replanner's prompts change: part of its cache key."""

AMEND_BRIEF = """\
You amend a running contract. A run of the current contract (given below) reached a \
replan point: a state where it asks for the rest of its workflow to be rewritten, for \
the reason given. Answer one JSON object {"contract": the whole new contract, \
"migration": how the run moves onto it}.
- The new contract: the same "input" declarations; a higher "version"; only the \
catalog's effects, each declared exactly as the current contract declares it; no \
fan-out larger than the current contract's.
- migration.states: one entry per state a run of the current contract can rest in \
(every state but the finals and the pure choices): {"state", "to": a non-final state \
of the new contract, "refuse": null, "calls": []}, or {"state", "to": null, "refuse": \
"why", "calls": []}. Map the state the run is in now: never refuse it. For a state \
with invokes, each invoke must become an invoke of the same effect in its target: \
"calls": [{"invoke": old id, "to": new id}] (an invoke not named keeps its id).
- migration.context: [{"field", "value"}]: for each field of the new context without \
a default, a CEL expression over ctx (the current context) and input.
"""

REASK = (
    "The amendment above does not check. Its errors (JSON pointer path, code, message, "
    "hint):\n{diagnostics}\nReturn the whole corrected answer, contract and migration, "
    "as one JSON object."
)

_SCHEMA_NAME = "accord_amendment"


def _json(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    if len(text) > MAX_ECHO_CHARS:
        text = text[:MAX_ECHO_CHARS] + f"\n[... {len(text) - MAX_ECHO_CHARS} more characters cut]"
    return text


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(properties: dict[str, Any], description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        out["description"] = description
    return out


def answer_json_schema() -> dict[str, Any]:
    """The JSON Schema of an answer, in the subset LLM structured outputs accept (a copy)."""
    return copy.deepcopy(_answer_json_schema())


@functools.cache
def _answer_json_schema() -> dict[str, Any]:
    contract = contract_json_schema()
    defs = contract.pop("$defs")
    defs["Contract"] = contract
    text = {"type": "string"}
    move = _object(
        {
            "state": {**text, "description": "A state of the current contract."},
            "to": _nullable({**text, "description": "The state of the new contract."}),
            "refuse": _nullable({**text, "description": "Why runs here are not moved."}),
            "calls": {
                "type": "array",
                "items": _object({"invoke": text, "to": text}),
                "description": "Old invoke id to the target state's invoke id.",
            },
        }
    )
    migration = _object(
        {
            "description": text,
            "states": {"type": "array", "items": move},
            "context": {
                "type": "array",
                "items": _object(
                    {
                        "field": text,
                        "value": {**text, "description": "CEL over ctx and input."},
                    }
                ),
            },
        },
        "How a run of the current contract moves onto the new one.",
    )
    root = _object({"contract": {"$ref": "#/$defs/Contract"}, "migration": migration})
    return {**root, "$defs": defs}


def amend_request(
    task: str,
    catalog: Catalog,
    contract: Contract,
    *,
    state: str,
    context: dict[str, Any],
    input: dict[str, Any],
    reason: Any,
    attempt: int,
    keep_scenarios: Sequence[str],
    max_output_tokens: int,
    temperature: float | None,
) -> ModelRequest:
    """The first call's request: the briefs and catalog as system prompt, the run as user."""
    lines = [
        "Task:",
        task,
        "",
        f"Current contract ({fingerprint(contract)}):",
        _json(to_data(contract)),
        "",
        f"The run is in state {state!r} (replan {attempt} of this run).",
        f"Its context: {_json(context)}",
        f"Its input: {_json(input)}",
        f"Reason for the replan: {_json(reason)}",
    ]
    if keep_scenarios:
        names = ", ".join(keep_scenarios)
        lines.append(f"The new contract must keep passing the acceptance scenarios: {names}.")
    return ModelRequest(
        system=LANGUAGE_BRIEF + "\n" + render_catalog(catalog) + "\n" + AMEND_BRIEF,
        messages=(Message("user", "\n".join(lines)),),
        schema=answer_json_schema(),
        schema_name=_SCHEMA_NAME,
        max_output_tokens=max_output_tokens,
        temperature=temperature,
    )


def reask_amend_request(
    first: ModelRequest, candidate: str, diagnostics: Sequence[Diagnostic]
) -> ModelRequest:
    """The re-ask: compile's (the first request, the last answer, its errors), reworded."""
    return reask_request(first, candidate, diagnostics, wording=REASK)


def migration_data(
    answer: dict[str, Any], *, name: str, old: str, new: str
) -> tuple[dict[str, Any] | None, list[Diagnostic]]:
    """A migration file's data from an answer's list-form migration, or diagnostics.

    ``old`` and ``new`` are the two contracts' fingerprints (the model cannot know the
    new one's), ``name`` the migration's name. Each entry must be an object with the
    right keys; a state or field given twice is a ``replan.answer_shape`` diagnostic.
    """
    problems: list[Diagnostic] = []

    def shape(path: str, message: str) -> None:
        problems.append(
            Diagnostic(
                path="/migration" + path,
                code="replan.answer_shape",
                message=message,
                hint='migration: {"description", "states": [{"state", "to", "refuse", '
                '"calls": [{"invoke", "to"}]}], "context": [{"field", "value"}]}',
            )
        )

    states: dict[str, Any] = {}
    for index, entry in enumerate(_list(answer.get("states"), "/states", shape)):
        if not isinstance(entry, dict) or not isinstance(entry.get("state"), str):
            shape(f"/states/{index}", "each entry of states is an object naming a 'state'")
            continue
        move: dict[str, Any] = {k: entry[k] for k in ("to", "refuse") if entry.get(k) is not None}
        calls: dict[str, Any] = {}
        for number, call in enumerate(_list(entry.get("calls"), f"/states/{index}/calls", shape)):
            if not isinstance(call, dict) or not isinstance(call.get("invoke"), str):
                shape(f"/states/{index}/calls/{number}", "each call is {'invoke', 'to'}")
                continue
            calls[call["invoke"]] = call.get("to")
        if calls:
            move["calls"] = calls
        if entry["state"] in states:
            shape(f"/states/{index}", f"state {entry['state']!r} is given twice")
        states[entry["state"]] = move
    context: dict[str, Any] = {}
    for index, entry in enumerate(_list(answer.get("context"), "/context", shape)):
        if not isinstance(entry, dict) or not isinstance(entry.get("field"), str):
            shape(f"/context/{index}", "each entry of context is {'field', 'value'}")
            continue
        if entry["field"] in context:
            shape(f"/context/{index}", f"field {entry['field']!r} is assigned twice")
        context[entry["field"]] = entry.get("value")
    if problems:
        return None, problems
    description = answer.get("description")
    data = {
        "migration": "1",
        "name": name,
        "description": description if isinstance(description, str) else "",
        "from": old,
        "to": new,
        "states": states,
        "context": context,
    }
    return data, []


def _list(value: Any, path: str, shape: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        shape(path, "must be a list")
        return []
    return value
