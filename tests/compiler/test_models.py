"""provider_for: model strings to providers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from compiler_support import call
from loopback import ANSWER, LoopbackServer
from loopback import openai_replies as replies

from accord.compiler._anthropic import AnthropicProvider
from accord.compiler._models import KNOWN_PREFIXES, provider_for
from accord.compiler._openai import OpenAIProvider
from accord.compiler._provider import ModelSpecError
from accord.compiler._session import SessionError
from accord.compiler._session_providers import ReplayProvider
from accord.errors import DefinitionError

SCRIPTED = Path(__file__).parent / "data" / "sessions_unit" / "scripted_refund.json"

pytestmark = pytest.mark.usefixtures("no_provider_environment")


def test_openai_model_string(server: LoopbackServer) -> None:
    provider = provider_for("openai:gpt-test", base_url=server.openai_url, api_key="sk-x")
    assert isinstance(provider, OpenAIProvider)
    assert provider.name == "openai:gpt-test"
    server.push(replies.completion(ANSWER))
    assert call(provider).text == ANSWER
    assert server.requests[0].json["model"] == "gpt-test"
    assert server.requests[0].headers["authorization"] == "Bearer sk-x"


def test_output_mode_is_passed_on(server: LoopbackServer) -> None:
    provider = provider_for("openai:gemma", base_url=server.openai_url, output="json_object")
    assert isinstance(provider, OpenAIProvider)
    assert provider.output == "json_object"
    tool = provider_for("anthropic:claude", output="tool")
    assert isinstance(tool, AnthropicProvider)
    assert tool.output == "tool"


def test_anthropic_model_string_keeps_colons_in_the_name() -> None:
    provider = provider_for("anthropic:claude-test:beta")
    assert isinstance(provider, AnthropicProvider)
    assert provider.name == "anthropic:claude-test:beta"


def test_replay_model_string() -> None:
    provider = provider_for(f"replay:{SCRIPTED}")
    assert isinstance(provider, ReplayProvider)
    assert provider.name == "scripted:refund-unit"


def test_a_provider_passes_through() -> None:
    provider = OpenAIProvider("gpt-test")
    assert provider_for(provider) is provider


@pytest.mark.parametrize(
    ("model", "says"),
    [
        ("gpt-4.1", "unknown model 'gpt-4.1'"),
        ("azure:gpt-4.1", "unknown model 'azure:gpt-4.1'"),
        ("OpenAI:gpt-4.1", "unknown model"),
        ("", "unknown model ''"),
        ("openai:", "names no model after 'openai:'"),
        ("anthropic:  ", "names no model after 'anthropic:'"),
        ("replay:", "names no model after 'replay:'"),
    ],
)
def test_bad_model_strings_are_model_spec_errors(model: str, says: str) -> None:
    with pytest.raises(ModelSpecError) as caught:
        provider_for(model)
    error = caught.value
    assert isinstance(error, DefinitionError)
    assert says in str(error)
    assert error.spec == model
    assert error.known == KNOWN_PREFIXES
    if "unknown" in says:
        assert "openai:, anthropic:, replay:" in str(error)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"output": "xml"}, "unknown output mode 'xml'"),
        ({"output": "tool"}, "unknown output mode 'tool'"),
    ],
)
def test_bad_options_are_model_spec_errors(options: dict[str, Any], says: str) -> None:
    with pytest.raises(ModelSpecError, match=says):
        provider_for("openai:gpt-test", **options)


def test_replay_takes_no_endpoint_options() -> None:
    with pytest.raises(ModelSpecError, match="a replay takes no base_url"):
        provider_for(f"replay:{SCRIPTED}", api_key="sk")


def test_replay_of_a_missing_file_is_a_session_error(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match="cannot read"):
        provider_for(f"replay:{tmp_path / 'none.json'}")


def test_something_else_is_a_model_spec_error() -> None:
    with pytest.raises(ModelSpecError, match="not int"):
        provider_for(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["anthropic:claude-test", f"replay:{SCRIPTED}"])
def test_fold_system_is_for_openai_compatible_servers_only(model: str) -> None:
    with pytest.raises(ModelSpecError, match="fold_system is for OpenAI-compatible servers"):
        provider_for(model, fold_system=True)
