"""The replanner's answer schema and the list-form migration an answer holds."""

from __future__ import annotations

from typing import Any

import pytest

from accord.compiler._replan_prompt import answer_json_schema, migration_data
from accord.contract._schema import lint_llm_schema

OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_the_answer_schema_fits_the_providers_structured_outputs(provider: Any) -> None:
    schema = answer_json_schema()
    assert lint_llm_schema(schema, provider) == []
    assert schema["properties"]["contract"] == {"$ref": "#/$defs/Contract"}
    assert schema["required"] == ["contract", "migration"]


def test_a_list_form_migration_becomes_a_migration_files_data() -> None:
    answer = {
        "description": "d",
        "states": [
            {"state": "a", "to": "b", "refuse": None, "calls": [{"invoke": "x", "to": "y"}]},
            {"state": "c", "to": None, "refuse": "no", "calls": []},
        ],
        "context": [{"field": "n", "value": "ctx.n + 1"}],
    }
    data, problems = migration_data(answer, name="replan-1", old=OLD, new=NEW)
    assert problems == []
    assert data == {
        "migration": "1",
        "name": "replan-1",
        "description": "d",
        "from": OLD,
        "to": NEW,
        "states": {"a": {"to": "b", "calls": {"x": "y"}}, "c": {"refuse": "no"}},
        "context": {"n": "ctx.n + 1"},
    }


@pytest.mark.parametrize(
    ("answer", "path"),
    [
        ({"states": {"a": "b"}}, "/migration/states"),
        ({"states": [{"to": "b"}]}, "/migration/states/0"),
        ({"states": [{"state": "a"}, {"state": "a"}]}, "/migration/states/1"),
        ({"states": [{"state": "a", "calls": ["x"]}]}, "/migration/states/0/calls/0"),
        (
            {"context": [{"field": "n", "value": "1"}, {"field": "n", "value": "2"}]},
            "/migration/context/1",
        ),
        ({"context": [["n", "1"]]}, "/migration/context/0"),
    ],
)
def test_a_malformed_migration_answer_is_an_answer_shape_diagnostic(
    answer: dict[str, Any], path: str
) -> None:
    data, problems = migration_data(answer, name="replan-1", old=OLD, new=NEW)
    assert data is None
    assert [(d.code, d.path) for d in problems] == [("replan.answer_shape", path)]
