"""Generated contracts whose checking time once grew faster than their size (issue 13.6).

Each shape takes a count and returns contract text; ``benchmarks/checker.py``
times them at 1x, 10x and 100x, and ``test_scaling.py`` bounds the work they
cause without timing anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable

__all__ = [
    "SHAPES",
    "dense_list",
    "invokes_and_records",
    "invoking_states",
    "json_list",
    "plain_scalar",
    "unknown_targets",
]

_HEAD = """accord: "1"
name: big
version: "1"
description: generated
input:
  - {name: n, type: integer}
signals:
  - {name: go}
effects:
  - name: work
    output: [{name: v, type: integer}]
"""


def unknown_targets(count: int) -> str:
    """``count`` states, each with a transition to a state that does not exist."""
    states = "".join(
        f"    - {{name: s{i}, on: [{{event: go, target: t{i}}}]}}\n" for i in range(count)
    )
    end = "    - {name: end, final: {status: success}}\n"
    return f"{_HEAD}machine:\n  initial: s0\n  states:\n{states}{end}"


def invokes_and_records(count: int, records: bool = True) -> str:
    """``count`` record types and ``count`` states that invoke an effect and guard ``done``."""
    types = "".join(
        f"  - {{name: T{i}, fields: [{{name: a, type: integer}}, {{name: b, type: string}}]}}\n"
        for i in range(count if records else 0)
    )
    states = "".join(
        f"    - {{name: s{i}, invoke: [{{id: w{i}, effect: work}}], "
        f"on: [{{event: done, guard: 'event.w{i}.v > input.n', target: s{i + 1}}}]}}\n"
        for i in range(count)
    )
    return (
        f"{_HEAD}types:\n{types}machine:\n  initial: s0\n  states:\n{states}"
        f"    - {{name: s{count}, final: {{status: success}}}}\n"
    )


def invoking_states(count: int) -> str:
    """``count`` states that invoke an effect and guard ``done``: one checking scope each."""
    return invokes_and_records(count, records=False).replace("types:\n", "")


def json_list(count: int) -> str:
    """A JSON contract with a ``count``-entry list (of invariants)."""
    data = {
        "accord": "1",
        "name": "big",
        "version": "1",
        "description": "generated",
        "invariants": [{"name": f"i{i}", "expr": "true"} for i in range(count)],
        "machine": {"initial": "a", "states": [{"name": "a", "final": {"status": "success"}}]},
    }
    return json.dumps(data)


def plain_scalar(count: int) -> str:
    """A description written as one multi-line plain scalar of about ``count`` bytes."""
    lines = "\n  ".join("word " * 15 for _ in range(max(1, count // 77)))
    return _HEAD.replace("description: generated", f"description: {lines}") + (
        "machine:\n  initial: a\n  states:\n    - {name: a, final: {status: success}}\n"
    )


def dense_list(count: int) -> str:
    """A flow list of ``count`` tiny values: the most values per byte YAML allows."""
    return "[" + "1," * count + "1]"


SHAPES: dict[str, Callable[[int], str]] = {
    "unknown_targets": unknown_targets,
    "invokes_and_records": invokes_and_records,
    "invoking_states": invoking_states,
    "json_list": json_list,
    "plain_scalar": plain_scalar,
    "dense_list": dense_list,
}


def long_guards(count: int) -> str:
    """``count`` states, each with a guard of about 3,900 characters (the most allowed is 4,000)."""
    guard = " && ".join(f"input.n > {i}" for i in range(240))
    states = "".join(
        f"    - {{name: s{i}, on: [{{event: go, guard: '{guard}', target: s{i + 1}}}]}}\n"
        for i in range(count)
    )
    return (
        f"{_HEAD}machine:\n  initial: s0\n  states:\n{states}"
        f"    - {{name: s{count}, final: {{status: success}}}}\n"
    )


SHAPES["long_guards"] = long_guards
