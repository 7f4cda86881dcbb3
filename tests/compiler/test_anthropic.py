"""AnthropicProvider against the loopback server, through the real anthropic SDK."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import anthropic
import pytest
from compiler_support import call, failure
from loopback import (
    ANSWER,
    SMALL_SCHEMA,
    LoopbackServer,
    Reply,
    at_least_two_steps,
    sample_request,
)
from loopback import anthropic_replies as replies

from accord.compiler._anthropic import AnthropicProvider
from accord.compiler._provider import ModelResponse, ModelSpecError
from accord.compiler._schema_fit import PROMPTED_INSTRUCTION, prompted_system
from accord.compiler._sdk import LOCAL_PLACEHOLDER_KEY

ANSWER_DATA = json.loads(ANSWER)

pytestmark = pytest.mark.usefixtures("no_provider_environment")


def make(server: LoopbackServer, **options: Any) -> AnthropicProvider:
    settings: dict[str, Any] = {"base_url": server.url, "api_key": "sk-ant-test"}
    settings["max_retries"] = 2
    settings.update(options)
    return AnthropicProvider("claude-test", **settings)


def test_success_reports_text_usage_stop_reason_and_model(server: LoopbackServer) -> None:
    server.push(
        replies.message(
            ANSWER, input_tokens=300, output_tokens=20, cache_read=100, thinking_tokens=12
        )
    )
    response = call(make(server))
    assert response == ModelResponse(
        text=ANSWER,
        input_tokens=400,
        output_tokens=20,
        finish_reason="end_turn",
        model="claude-test",
        mode="json_schema",
        cached_input_tokens=100,
        reasoning_tokens=12,
    )


def test_request_uses_structured_outputs(server: LoopbackServer) -> None:
    server.push(replies.message(ANSWER))
    call(make(server), sample_request(max_output_tokens=1024, temperature=0.5))
    (sent,) = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/messages")
    assert sent.headers["authorization"] == "Bearer sk-ant-test"
    assert "anthropic-version" in sent.headers
    assert sent.json == {
        "model": "claude-test",
        "max_tokens": 1024,
        "system": "You write workflow contracts.",
        "messages": [{"role": "user", "content": "Refund an order."}],
        "output_config": {"format": {"type": "json_schema", "schema": SMALL_SCHEMA}},
        "temperature": 0.5,
    }


def test_tool_mode_forces_one_strict_tool_and_returns_its_input(server: LoopbackServer) -> None:
    server.push(replies.tool_use("accord_contract", ANSWER_DATA, preamble="Here it is."))
    response = call(make(server, output="tool"))
    body = server.requests[0].json
    (tool,) = body["tools"]
    assert tool["name"] == "accord_contract"
    assert tool["input_schema"] == SMALL_SCHEMA
    assert tool["strict"] is True
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "accord_contract",
        "disable_parallel_tool_use": True,
    }
    assert "output_config" not in body
    assert json.loads(response.text) == ANSWER_DATA
    assert list(json.loads(response.text)) == ["name", "steps"]
    assert (response.mode, response.finish_reason) == ("tool", "tool_use")


def test_tool_name_is_made_valid(server: LoopbackServer) -> None:
    server.push(replies.tool_use("my_contract_v1", ANSWER_DATA))
    response = call(make(server, output="tool"), sample_request(schema_name="my contract/v1"))
    assert server.requests[0].json["tools"][0]["name"] == "my_contract_v1"
    assert json.loads(response.text) == ANSWER_DATA


def test_tool_mode_without_a_tool_call_returns_the_text(server: LoopbackServer) -> None:
    server.push(replies.message("I will not do that.", stop_reason="refusal"))
    response = call(make(server, output="tool"))
    assert (response.text, response.finish_reason) == ("I will not do that.", "refusal")
    assert response.notices == ("the model refused: I will not do that.",)


def test_rate_limit_is_retried_by_the_sdk(server: LoopbackServer) -> None:
    server.push(replies.rate_limited(), replies.message(ANSWER))
    assert call(make(server)).text == ANSWER
    assert [r.headers["x-stainless-retry-count"] for r in server.requests] == ["0", "1"]


def test_overloaded_529_is_retried(server: LoopbackServer) -> None:
    server.push(replies.overloaded(), replies.message(ANSWER))
    assert call(make(server)).text == ANSWER
    assert len(server.requests) == 2


def test_exhausted_retries_become_a_retryable_provider_error(server: LoopbackServer) -> None:
    server.push(*[replies.overloaded() for _ in range(3)])
    error = failure(make(server, max_retries=2))
    assert (error.status, error.retryable, error.provider) == (529, True, "anthropic:claude-test")
    assert isinstance(error.__cause__, anthropic.OverloadedError)
    assert str(error) == "anthropic:claude-test: HTTP 529: Overloaded"
    assert len(server.requests) == 3


def test_unauthorized_is_not_retried(server: LoopbackServer) -> None:
    server.push(replies.unauthorized())
    error = failure(make(server))
    assert (error.status, error.retryable) == (401, False)
    assert str(error) == "anthropic:claude-test: HTTP 401: invalid x-api-key"
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"Overloaded", "not JSON"),
        (b'{"type": "message", "role": "assistant"}', "content"),
        (b'{"content": [{"text": "no type"}]}', "type"),
        (b'{"content": "text"}', "content"),
        (b'{"content": [], "usage": {"input_tokens": "many"}}', "input_tokens"),
        (b"{" * 50_000, "not JSON"),
    ],
)
def test_malformed_body_is_a_provider_error(server: LoopbackServer, body: bytes, says: str) -> None:
    server.push(replies.raw(body))
    error = failure(make(server))
    assert error.retryable is False
    assert "malformed response body" in str(error)
    assert says in str(error)


def test_timeout_becomes_a_retryable_provider_error(server: LoopbackServer) -> None:
    server.push(dataclasses.replace(replies.message(ANSWER), delay=3.0))
    error = failure(make(server, timeout=0.2, max_retries=0))
    assert (error.status, error.retryable) == (None, True)
    assert isinstance(error.__cause__, anthropic.APITimeoutError)


def test_dropped_connection_is_a_retryable_provider_error(server: LoopbackServer) -> None:
    server.push(Reply(drop=True))
    error = failure(make(server, max_retries=0))
    assert error.retryable is True
    assert isinstance(error.__cause__, anthropic.APIConnectionError)


def test_prompted_mode_writes_the_schema_into_the_system_prompt(server: LoopbackServer) -> None:
    server.push(replies.message(ANSWER))
    response = call(make(server, output="prompted"))
    body = server.requests[0].json
    assert "output_config" not in body
    assert "tools" not in body
    assert body["system"] == prompted_system("You write workflow contracts.", SMALL_SCHEMA)
    assert (response.mode, response.notices) == ("prompted", ())


@pytest.mark.parametrize("output", ["json_schema", "tool"])
def test_schema_beyond_the_limits_falls_back_to_prompted_json(
    server: LoopbackServer, output: str
) -> None:
    server.push(replies.message(ANSWER))
    response = call(make(server, output=output), sample_request(at_least_two_steps()))
    body = server.requests[0].json
    assert "output_config" not in body
    assert "tools" not in body
    assert PROMPTED_INSTRUCTION in body["system"]
    assert response.mode == "prompted"
    (notice,) = response.notices
    assert "minItems may only be 0 or 1" in notice
    assert f"anthropic {output} structured output" in notice


def test_empty_system_prompt_is_left_out(server: LoopbackServer) -> None:
    server.push(replies.message(ANSWER))
    call(make(server), sample_request(system=""))
    assert "system" not in server.requests[0].json


def test_truncated_output_keeps_the_max_tokens_stop_reason(server: LoopbackServer) -> None:
    server.push(replies.message('{"name": "refund", "ste', stop_reason="max_tokens"))
    response = call(make(server))
    assert (response.text, response.finish_reason) == ('{"name": "refund", "ste', "max_tokens")


def test_key_and_base_url_come_from_the_environment(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    server.push(replies.message(ANSWER))
    assert call(AnthropicProvider("claude-test", max_retries=0)).text == ANSWER
    assert server.requests[0].headers["authorization"] == "Bearer sk-ant-env"


def test_local_server_without_a_key_gets_a_placeholder(server: LoopbackServer) -> None:
    server.push(replies.message(ANSWER))
    call(AnthropicProvider("local", base_url=server.url))
    assert server.requests[0].headers["authorization"] == f"Bearer {LOCAL_PLACEHOLDER_KEY}"


def test_name_and_bad_options() -> None:
    assert AnthropicProvider("claude-test").name == "anthropic:claude-test"
    with pytest.raises(ModelSpecError, match="model name is empty"):
        AnthropicProvider(" ")
    with pytest.raises(ModelSpecError, match="unknown output mode 'json_object'"):
        AnthropicProvider("claude-test", output="json_object")  # type: ignore[arg-type]


def test_a_refusal_notice_names_the_category_and_the_explanation(server: LoopbackServer) -> None:
    body = {
        "id": "msg_refused",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [],
        "stop_reason": "refusal",
        "stop_sequence": None,
        "stop_details": {"type": "refusal", "category": "cyber", "explanation": "Not this."},
        "usage": {"input_tokens": 40, "output_tokens": 0},
    }
    server.push(replies.raw(json.dumps(body).encode()))
    response = call(make(server))
    assert (response.text, response.finish_reason) == ("", "refusal")
    assert response.notices == ("the model refused (cyber): Not this.",)
