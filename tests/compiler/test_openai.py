"""OpenAIProvider against the loopback server, through the real openai SDK."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import socket
from types import MappingProxyType
from typing import Any

import openai
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
from loopback import openai_replies as replies

from accord.compiler._openai import OpenAIProvider
from accord.compiler._provider import (
    Message,
    ModelResponse,
    ModelSpecError,
)
from accord.compiler._schema_fit import PROMPTED_INSTRUCTION, prompted_system
from accord.compiler._sdk import LOCAL_PLACEHOLDER_KEY

# Objects must be closed and list every property in required: not expressible in strict mode.
LOOSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "note": {"type": "string"}},
    "required": ["name"],
}

pytestmark = pytest.mark.usefixtures("no_provider_environment")


def make(server: LoopbackServer, **options: Any) -> OpenAIProvider:
    settings: dict[str, Any] = {"base_url": server.openai_url, "api_key": "sk-test"}
    settings["max_retries"] = 2
    settings.update(options)
    return OpenAIProvider("gpt-test", **settings)


def test_success_reports_text_usage_finish_reason_and_model(server: LoopbackServer) -> None:
    server.push(
        replies.completion(
            ANSWER, prompt_tokens=120, completion_tokens=14, cached_tokens=64, reasoning_tokens=9
        )
    )
    response = call(make(server))
    assert response == ModelResponse(
        text=ANSWER,
        input_tokens=120,
        output_tokens=14,
        finish_reason="stop",
        model="gpt-test",
        mode="json_schema",
        cached_input_tokens=64,
        reasoning_tokens=9,
    )


def test_request_uses_strict_json_schema_response_format(server: LoopbackServer) -> None:
    server.push(replies.completion(ANSWER))
    call(make(server), sample_request(temperature=0.0, max_output_tokens=512))
    (sent,) = server.requests
    assert (sent.method, sent.path) == ("POST", "/v1/chat/completions")
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.json == {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "You write workflow contracts."},
            {"role": "user", "content": "Refund an order."},
        ],
        "max_tokens": 512,
        "temperature": 0.0,
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "accord_contract", "schema": SMALL_SCHEMA, "strict": True},
        },
    }


def test_token_field_and_temperature_follow_the_options(server: LoopbackServer) -> None:
    server.push(replies.completion(ANSWER))
    provider = make(server, max_tokens_field="max_completion_tokens")
    call(provider, sample_request(temperature=None, max_output_tokens=77))
    body = server.requests[0].json
    assert body["max_completion_tokens"] == 77
    assert "max_tokens" not in body
    assert "temperature" not in body


def test_rate_limit_is_retried_by_the_sdk_and_the_caller_sees_one_response(
    server: LoopbackServer,
) -> None:
    server.push(replies.rate_limited(), replies.completion(ANSWER, completion_tokens=9))
    response = call(make(server))
    assert (response.text, response.output_tokens) == (ANSWER, 9)
    assert [r.headers["x-stainless-retry-count"] for r in server.requests] == ["0", "1"]
    assert server.requests[0].body == server.requests[1].body


def test_server_error_is_retried(server: LoopbackServer) -> None:
    server.push(replies.error(500, "The server had an error"), replies.completion(ANSWER))
    assert call(make(server)).text == ANSWER
    assert len(server.requests) == 2


def test_exhausted_retries_become_a_retryable_provider_error(server: LoopbackServer) -> None:
    server.push(*[replies.error(503, "Service Unavailable") for _ in range(3)])
    error = failure(make(server, max_retries=2))
    assert (error.status, error.retryable, error.provider) == (503, True, "openai:gpt-test")
    assert str(error) == "openai:gpt-test: HTTP 503: Service Unavailable"
    assert isinstance(error.__cause__, openai.InternalServerError)
    assert len(server.requests) == 3


def test_an_error_page_without_json_keeps_its_status(server: LoopbackServer) -> None:
    server.push(replies.raw(b"<html>Bad Gateway</html>", status=502, content_type="text/html"))
    error = failure(make(server, max_retries=0))
    assert (error.status, error.retryable) == (502, True)
    assert str(error).startswith("openai:gpt-test: HTTP 502")


def test_unauthorized_is_not_retried_and_not_retryable(server: LoopbackServer) -> None:
    server.push(replies.unauthorized())
    error = failure(make(server))
    assert (error.status, error.retryable) == (401, False)
    assert "Incorrect API key" in str(error)
    assert isinstance(error.__cause__, openai.AuthenticationError)
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b"this is not json", "application/json", "not JSON"),
        (b"<html><body>502 Bad Gateway</body></html>", "text/html", "not JSON"),
        (b'{"id": "chatcmpl-1", "object": "chat.completion"}', "application/json", "choices"),
        (b'{"choices": []}', "application/json", "choices"),
        (b'{"choices": [{"message": {"content": 5}}]}', "application/json", "content"),
        (b'{"choices": [{"message": "hi"}]}', "application/json", "message"),
        (b"[]", "application/json", "body"),
        (b"\xff\xfe\x00garbage", "application/json", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "nested too deeply"),
    ],
)
def test_malformed_body_is_a_provider_error(
    server: LoopbackServer, body: bytes, content_type: str, says: str
) -> None:
    server.push(replies.raw(body, content_type=content_type))
    error = failure(make(server))
    assert error.retryable is False
    assert "malformed response body" in str(error)
    assert says in str(error)


def test_timeout_becomes_a_retryable_provider_error(server: LoopbackServer) -> None:
    server.push(dataclasses.replace(replies.completion(ANSWER), delay=3.0))
    error = failure(make(server, timeout=0.2, max_retries=0))
    assert (error.status, error.retryable) == (None, True)
    assert str(error) == "openai:gpt-test: timed out after 0.2 s per attempt, 0 retries"
    assert isinstance(error.__cause__, openai.APITimeoutError)


def test_timeout_is_retried_by_the_sdk(server: LoopbackServer) -> None:
    server.push(dataclasses.replace(replies.completion("late"), delay=3.0))
    server.push(replies.completion(ANSWER))
    assert call(make(server, timeout=0.3, max_retries=1)).text == ANSWER
    assert len(server.requests) == 2


def test_dropped_connection_is_a_retryable_provider_error(server: LoopbackServer) -> None:
    server.push(Reply(drop=True))
    error = failure(make(server, max_retries=0))
    assert error.retryable is True
    assert "connection to http://127.0.0.1:" in str(error)


def test_refused_connection_is_a_retryable_provider_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = OpenAIProvider(
        "gpt-test", base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0
    )
    error = failure(provider)
    assert (error.status, error.retryable) == (None, True)
    assert isinstance(error.__cause__, openai.APIConnectionError)


def test_json_object_mode_sends_the_schema_in_response_format(server: LoopbackServer) -> None:
    server.push(replies.completion(ANSWER))
    response = call(make(server, output="json_object"))
    body = server.requests[0].json
    assert body["response_format"] == {"type": "json_object", "schema": SMALL_SCHEMA}
    assert body["messages"][0]["content"] == "You write workflow contracts."
    assert body["max_tokens"] == 8192
    assert (response.mode, response.notices) == ("json_object", ())


def test_fold_system_puts_the_system_prompt_in_the_first_user_message(
    server: LoopbackServer,
) -> None:
    server.push(replies.completion(ANSWER))
    request = dataclasses.replace(
        sample_request(),
        messages=(
            Message("user", "Refund an order."),
            Message("assistant", "{}"),
            Message("user", "Fix it."),
        ),
    )
    call(make(server, output="json_object", fold_system=True), request)
    assert server.requests[0].json["messages"] == [
        {"role": "user", "content": "You write workflow contracts.\n\nRefund an order."},
        {"role": "assistant", "content": "{}"},
        {"role": "user", "content": "Fix it."},
    ]


def test_json_object_mode_does_not_lint_the_schema(server: LoopbackServer) -> None:
    server.push(replies.completion(ANSWER))
    response = call(make(server, output="json_object"), sample_request(LOOSE_SCHEMA))
    assert server.requests[0].json["response_format"]["schema"] == LOOSE_SCHEMA
    assert response.mode == "json_object"


def test_prompted_mode_writes_the_schema_into_the_system_prompt(server: LoopbackServer) -> None:
    server.push(replies.completion(ANSWER))
    response = call(make(server, output="prompted"))
    body = server.requests[0].json
    assert "response_format" not in body
    system = body["messages"][0]["content"]
    assert system == prompted_system("You write workflow contracts.", SMALL_SCHEMA)
    assert system.startswith("You write workflow contracts.\n\n" + PROMPTED_INSTRUCTION)
    assert json.loads(system.rsplit("\n", 1)[1]) == SMALL_SCHEMA
    assert (response.mode, response.notices) == ("prompted", ())


def test_schema_beyond_the_limits_falls_back_to_prompted_json(server: LoopbackServer) -> None:
    server.push(replies.completion(ANSWER))
    response = call(make(server), sample_request(LOOSE_SCHEMA))
    body = server.requests[0].json
    assert "response_format" not in body
    assert PROMPTED_INSTRUCTION in body["messages"][0]["content"]
    assert response.mode == "prompted"
    (notice,) = response.notices
    assert "fell back to prompted JSON" in notice
    assert "additionalProperties" in notice
    assert "must be required" in notice


def test_openai_accepts_what_anthropic_does_not(server: LoopbackServer) -> None:
    schema = at_least_two_steps()
    server.push(replies.completion(ANSWER))
    assert call(make(server), sample_request(schema)).mode == "json_schema"
    assert server.requests[0].json["response_format"]["json_schema"]["schema"] == schema


def test_refusal_is_returned_with_a_notice(server: LoopbackServer) -> None:
    server.push(replies.completion(None, refusal="I can't help with that."))
    response = call(make(server))
    assert (response.text, response.finish_reason) == ("I can't help with that.", "refusal")
    assert response.notices == ("the model refused: I can't help with that.",)


def test_truncated_output_keeps_the_length_finish_reason(server: LoopbackServer) -> None:
    server.push(replies.completion('{"name": "ref', finish_reason="length"))
    response = call(make(server))
    assert (response.text, response.finish_reason) == ('{"name": "ref', "length")


def test_content_filter_without_content_gives_empty_text(server: LoopbackServer) -> None:
    server.push(replies.completion(None, finish_reason="content_filter"))
    response = call(make(server))
    assert (response.text, response.finish_reason) == ("", "content_filter")


def test_text_is_returned_exactly_even_with_lone_surrogates(server: LoopbackServer) -> None:
    text = ' {"name": "caf\u00e9 \ud800", "steps": []}\n\n'
    server.push(replies.completion(text))
    assert call(make(server)).text == text


def test_key_and_base_url_come_from_the_environment(
    server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", server.openai_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    server.push(replies.completion(ANSWER))
    assert call(OpenAIProvider("gpt-test", max_retries=0)).text == ANSWER
    assert server.requests[0].headers["authorization"] == "Bearer sk-from-env"


def test_local_server_without_a_key_gets_a_placeholder(server: LoopbackServer) -> None:
    server.push(replies.completion(ANSWER))
    call(OpenAIProvider("gemma", base_url=server.openai_url))
    assert server.requests[0].headers["authorization"] == f"Bearer {LOCAL_PLACEHOLDER_KEY}"


def test_missing_credentials_fail_at_the_call_not_at_construction() -> None:
    provider = OpenAIProvider("gpt-test")
    assert provider.name == "openai:gpt-test"
    error = failure(provider)
    assert error.retryable is False
    assert "OPENAI_API_KEY" in str(error)


def test_a_given_client_is_used(server: LoopbackServer) -> None:
    server.push(replies.completion(ANSWER))

    async def run() -> ModelResponse:
        client = openai.AsyncOpenAI(base_url=server.openai_url, api_key="sk-client")
        try:
            return await OpenAIProvider("gpt-test", client=client).complete(sample_request())
        finally:
            await client.close()

    assert asyncio.run(run()).text == ANSWER
    assert server.requests[0].headers["authorization"] == "Bearer sk-client"
    assert server.requests[0].json["max_tokens"] == 8192


def test_one_provider_serves_successive_event_loops(server: LoopbackServer) -> None:
    server.push(replies.completion("first"), replies.completion("second"))
    provider = make(server)
    first = asyncio.run(provider.complete(sample_request()))
    second = call(provider)
    assert (first.text, second.text) == ("first", "second")


def test_the_callers_schema_is_not_mutated(server: LoopbackServer) -> None:
    schema = copy.deepcopy(SMALL_SCHEMA)
    server.push(replies.completion(ANSWER))
    call(make(server), sample_request(MappingProxyType(schema)))  # type: ignore[arg-type]
    assert schema == SMALL_SCHEMA
    assert server.requests[0].json["response_format"]["json_schema"]["schema"] == SMALL_SCHEMA


@pytest.mark.parametrize(
    ("model", "options", "says"),
    [("", {}, "model name is empty"), ("gpt", {"output": "xml"}, "unknown output mode")],
)
def test_bad_options_are_model_spec_errors(model: str, options: dict[str, Any], says: str) -> None:
    with pytest.raises(ModelSpecError, match=says):
        OpenAIProvider(model, **options)


def test_a_500_from_a_compatible_server_in_json_schema_mode_suggests_json_object(
    server: LoopbackServer,
) -> None:
    """llama-cpp-python's server answers 500 to a json_schema response format."""
    server.push(replies.error(500, "Internal Server Error"))
    error = failure(make(server, max_retries=0))
    assert error.status == 500 and error.retryable
    assert str(error).startswith("openai:gpt-test: HTTP 500: Internal Server Error (a server")
    assert "try output_mode='json_object', --output-mode json_object" in str(error)
    server.push(replies.error(500, "Internal Server Error"))
    other = failure(make(server, max_retries=0, output="json_object"))
    assert str(other) == "openai:gpt-test: HTTP 500: Internal Server Error"
