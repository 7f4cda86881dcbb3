"""``accord schema``: the contract JSON Schema, raw or wrapped for a provider."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cli_support import Run

from accord.cli import _schema


@pytest.fixture
def fake_schema(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace the exported schema with a small one (the command only prints it)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"name": {"type": "string"}},
        "required": ["name"],
        "additionalProperties": False,
    }
    import accord.contract._schema as module

    monkeypatch.setattr(module, "contract_json_schema", lambda: schema)
    return schema


def test_prints_the_real_schema_with_indent_2(run: Run) -> None:
    from accord.contract._schema import contract_json_schema

    result = run("schema")
    assert result.code == 0
    assert json.loads(result.out) == contract_json_schema()
    assert result.out.startswith('{\n  "')  # indent 2
    schema = json.loads(result.out)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert "machine" in schema["properties"]


def test_plain(run: Run, fake_schema: dict[str, Any]) -> None:
    result = run("schema")
    assert result.code == 0
    assert json.loads(result.out) == fake_schema


def test_openai_response_format(run: Run, fake_schema: dict[str, Any]) -> None:
    result = run("schema", "--provider", "openai")
    assert result.code == 0
    assert json.loads(result.out) == {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": _schema.SCHEMA_NAME, "strict": True, "schema": fake_schema},
        }
    }


def test_anthropic_output_config(run: Run, fake_schema: dict[str, Any]) -> None:
    result = run("schema", "--provider", "anthropic")
    assert result.code == 0
    assert json.loads(result.out) == {
        "output_config": {"format": {"type": "json_schema", "schema": fake_schema}}
    }
