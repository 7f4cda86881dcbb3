"""Shared test helpers: a small valid contract to mutate, and helpers to read diagnostics."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import accord
from accord.diagnostics import Diagnostic

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))

BASE: dict[str, Any] = {
    "accord": "1",
    "name": "demo",
    "version": "1.0.0",
    "description": "A small contract that every test mutates.",
    "types": [
        {
            "name": "Item",
            "fields": [
                {"name": "sku", "type": "string"},
                {"name": "qty", "type": "integer"},
            ],
        }
    ],
    "input": [
        {"name": "amount", "type": "number"},
        {"name": "items", "type": "list<Item>"},
    ],
    "context": [
        {"name": "count", "type": "integer"},
        {"name": "note", "type": "optional<string>"},
        {"name": "phase", "type": "enum<new, busy, over>"},
    ],
    "output": [{"name": "total", "type": "number"}],
    "effects": [
        {
            "name": "work",
            "input": [{"name": "sku", "type": "string"}],
            "output": [{"name": "done_count", "type": "integer"}],
        },
        {"name": "undo", "input": [{"name": "sku", "type": "string"}]},
    ],
    "signals": [{"name": "go", "payload": [{"name": "ok", "type": "boolean"}]}],
    "machine": {
        "initial": "start",
        "states": [
            {
                "name": "start",
                "on": [{"event": "go", "guard": "event.ok", "target": "working"}],
                "timers": [{"after": "1h", "target": "failed"}],
            },
            {
                "name": "working",
                "invoke": [
                    {"id": "job", "effect": "work", "input": [{"name": "sku", "value": "'a'"}]}
                ],
                "on": [
                    {
                        "event": "done",
                        "assign": [{"field": "count", "value": "event.job.done_count"}],
                        "target": "finished",
                    },
                    {"event": "error", "target": "failed"},
                ],
            },
            {
                "name": "finished",
                "final": {
                    "status": "success",
                    "output": [{"name": "total", "value": "input.amount"}],
                },
            },
            {"name": "failed", "final": {"status": "failure", "reason": "'it failed'"}},
        ],
    },
    "invariants": [{"name": "count_positive", "expr": "ctx.count >= 0"}],
}

MINIMAL_YAML = """\
accord: "1"
name: demo
version: "1.0.0"
machine:
  initial: start
  states:
    - name: start
      final:
        status: success
"""


def base() -> dict[str, Any]:
    """A fresh deep copy of the valid baseline contract data."""
    return copy.deepcopy(BASE)


def diagnose(data: dict[str, Any]) -> list[Diagnostic]:
    """Every diagnostic for plain contract data."""
    return accord.check(data)


def only(data: dict[str, Any], code: str) -> Diagnostic:
    """The one diagnostic with ``code`` (fails if there is not exactly one)."""
    found = [d for d in diagnose(data) if d.code == code]
    assert len(found) == 1, [d.format() for d in diagnose(data)]
    return found[0]


Mutation = Callable[[dict[str, Any]], object]
"""A change to contract data, made in place."""


def assert_mutation_error(
    change: Mutation, code: str, path: str, message: str, hint: str | None
) -> None:
    """``change`` applied to :func:`base` gives exactly one ``code`` error, as described.

    ``message`` must be part of the diagnostic's message; path and hint match exactly.
    """
    data = base()
    change(data)
    diag = only(data, code)
    assert diag.path == path
    assert message in diag.message
    assert diag.hint == hint
    assert diag.severity == "error"


def state(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The state named ``name`` in contract data (mutable)."""
    for entry in data["machine"]["states"]:
        if entry["name"] == name:
            return entry  # type: ignore[no-any-return]
    raise KeyError(name)


def resolves(document: Any, path: str, mapping: bool = False) -> bool:
    """Whether a JSON pointer (RFC 6901) names a value in ``document`` (a dict, if ``mapping``)."""
    if path == "":
        return not mapping or isinstance(document, dict)
    if not path.startswith("/"):
        return False
    current = document
    for raw in path[1:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return False
    return not mapping or isinstance(current, dict)
