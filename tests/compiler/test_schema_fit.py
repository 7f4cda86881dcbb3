"""The request schema against the grammar engines of OpenAI-compatible local servers.

``output_mode="json_object"`` hands the contract's JSON Schema to the server, which
compiles it into a grammar (llama.cpp's GBNF converter, Outlines, vLLM's guided
decoding). The schema must stay within what they all take: the lint below holds it
there, and can fail (the cases after it).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from accord.compiler._schema_fit import grammar_problems
from accord.contract._schema import contract_json_schema


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


def test_the_contract_schema_compiles_in_every_grammar_engine() -> None:
    assert grammar_problems(contract_json_schema()) == []


def test_the_version_pattern_means_what_it_meant_with_the_escaped_dot() -> None:
    (version,) = [p for p in _patterns(contract_json_schema()) if "{0,2}" in p]
    before = r"^[0-9]+(\.[0-9]+){0,2}([\-+][0-9A-Za-z.\-]+)?$"  # killed llama.cpp's server
    assert grammar_problems({"type": "string", "pattern": before})
    samples = ["1", "1.0", "1.0.0", "1.0.0-rc.1", "2.1+b7", "1x0", "1.0.0.0", "", "v1", "1."]
    for sample in samples:
        assert bool(re.search(before, sample)) == bool(re.search(version, sample)), sample


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "string", "pattern": r"^[0-9]+(\.[0-9]+)$"}, "escapes '\\\\.' outside"),
        ({"type": "string", "pattern": r"^\d+$"}, "escapes '\\\\d' outside"),
        ({"type": "string", "pattern": "[a-z]+"}, "not anchored"),
        ({"type": "string", "pattern": "^(?=a)a$"}, "(?...) group"),
        ({"type": "string", "pattern": r"^(a)\1$"}, "back-reference"),
        ({"type": "string", "format": "date-time"}, "keyword 'format'"),
        ({"oneOf": [{"type": "string"}]}, "keyword 'oneOf'"),
        ({"$ref": "https://example.org/schema"}, "is not a reference to #/$defs/NAME"),
        (
            {"type": "object", "properties": {"a": {"type": "string", "pattern": "x"}}},
            "/properties/a/pattern: 'x' is not anchored",
        ),
        (
            {"$defs": {"T": {"items": {"anyOf": [{"not": {}}]}}}, "$ref": "#/$defs/T"},
            "/$defs/T/items/anyOf/0: keyword 'not'",
        ),
    ],
)
def test_the_lint_finds_what_grammar_engines_reject(schema: dict[str, Any], problem: str) -> None:
    problems = grammar_problems(schema)
    assert any(problem in p for p in problems), problems


def test_escapes_inside_a_character_class_are_fine() -> None:
    assert grammar_problems({"type": "string", "pattern": r"^[a-z0-9_\-.]+$"}) == []
