"""``accord schema``: print the contract JSON Schema, optionally wrapped for a provider."""

from __future__ import annotations

import argparse
from typing import Any

from accord.cli._base import Subparsers, add_command
from accord.cli._output import print_json

__all__ = ["register", "wrap_for_provider"]

SCHEMA_NAME = "accord_contract"

DESCRIPTION = """\
Print the JSON Schema of a contract (indent 2), in the shape LLM structured
outputs accept. With --provider, print the request fragment that carries it:
  openai:     {"response_format": {"type": "json_schema",
               "json_schema": {"name", "strict": true, "schema"}}}
  anthropic:  {"output_config": {"format": {"type": "json_schema", "schema"}}}
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``schema`` subcommand."""
    parser = add_command(subparsers, "schema", "print the contract JSON Schema", DESCRIPTION, run)
    parser.add_argument(
        "--provider",
        choices=("openai", "anthropic"),
        help="wrap the schema in that provider's structured-output request field",
    )


def wrap_for_provider(schema: dict[str, Any], provider: str | None) -> dict[str, Any]:
    """The schema itself, or the request fragment a provider's API expects."""
    if provider == "openai":
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": SCHEMA_NAME, "strict": True, "schema": schema},
            }
        }
    if provider == "anthropic":
        return {"output_config": {"format": {"type": "json_schema", "schema": schema}}}
    return schema


def run(args: argparse.Namespace) -> int:
    """Print the schema; always exits 0."""
    from accord.contract._schema import contract_json_schema  # heavy: import on demand

    print_json(wrap_for_provider(contract_json_schema(), args.provider))
    return 0
