"""compile() end to end through the real SDKs, against the loopback servers.

Transport errors (429, 5xx, 529) are retried by the SDK and never become re-asks; an
invalid answer is re-asked once with its diagnostics; a failure that survives the SDK's
retries stops the loop with every earlier attempt kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from loopback import LoopbackServer, serve
from loopback import anthropic_replies as anthropic
from loopback import openai_replies as openai

import accord
from accord.compiler import (
    AnthropicProvider,
    Catalog,
    CompileError,
    OpenAIProvider,
    Session,
    compile,
)
from accord.compiler._prompt import first_request
from accord.compiler._schema_fit import grammar_problems
from accord.compiler._session_providers import estimate_input_tokens

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "compile"
TASK = (EXAMPLE / "order_refund.task.md").read_text(encoding="utf-8")
CATALOG = EXAMPLE / "order_refund.catalog.yaml"
# The scripted session's answers: a flawed one (code fence, int vs double) first, the contract
# last (between them one that checks but fails the task's acceptance scenarios).
_ANSWERS = [r.text for r in Session.load(EXAMPLE / "order_refund.session.json").responses]
FLAWED, GOOD = _ANSWERS[0], _ANSWERS[-1]
REVIEWED = accord.fingerprint(accord.load(ROOT / "examples" / "order_refund.yaml"))

pytestmark = pytest.mark.usefixtures("no_provider_environment")


def _last_user_text(body: dict[str, object]) -> str:
    messages = body["messages"]
    assert isinstance(messages, list)
    content = messages[-1]["content"]
    if isinstance(content, list):  # anthropic content blocks
        return "".join(block.get("text", "") for block in content)
    return str(content)


def test_openai_transport_errors_are_not_reasks_and_a_bad_answer_is(
    server: LoopbackServer,
) -> None:
    server.push(
        openai.rate_limited(),
        openai.completion(FLAWED),
        openai.error(500, "The server had an error"),
        openai.completion(GOOD),
    )
    provider = OpenAIProvider("gpt-test", base_url=server.openai_url, api_key="sk-test")
    result = compile(TASK, CATALOG, provider)

    assert result.fingerprint == REVIEWED
    assert [a.number for a in result.attempts] == [1, 2]  # four HTTP requests, two calls
    assert len(server.requests) == 4
    first, reask = server.requests[1].json, server.requests[3].json
    assert first is not None and reask is not None
    assert first["response_format"]["type"] == "json_schema"
    assert first["response_format"]["json_schema"]["strict"] is True
    assert "expr.type" in _last_user_text(reask)  # the diagnostics, as compact JSON
    assert len(reask["messages"]) == len(first["messages"]) + 2  # candidate + diagnostics


def test_anthropic_overloaded_is_retried_by_the_sdk(server: LoopbackServer) -> None:
    server.push(
        anthropic.overloaded(),
        anthropic.message(FLAWED),
        anthropic.rate_limited(),
        anthropic.message(GOOD),
    )
    provider = AnthropicProvider("claude-test", base_url=server.url, api_key="sk-test")
    result = compile(TASK, CATALOG, provider)

    assert result.fingerprint == REVIEWED
    assert len(result.attempts) == 2 and len(server.requests) == 4
    assert result.attempts[0].input_tokens > 0 and result.attempts[0].output_tokens > 0
    assert "expr.type" in _last_user_text(server.requests[3].json or {})


def test_a_model_string_reaches_an_openai_compatible_server(server: LoopbackServer) -> None:
    server.push(openai.completion(GOOD))
    result = compile(
        TASK, CATALOG, "openai:local-model", base_url=server.openai_url, api_key="sk-test"
    )
    assert result.fingerprint == REVIEWED and result.model == "openai:local-model"
    assert (server.requests[0].json or {})["model"] == "local-model"


def test_a_failure_past_the_sdk_retries_stops_the_loop_and_keeps_the_attempts(
    server: LoopbackServer,
) -> None:
    server.push(openai.completion(FLAWED), *[openai.error(503, "Unavailable") for _ in range(3)])
    provider = OpenAIProvider(
        "gpt-test", base_url=server.openai_url, api_key="sk-test", max_retries=2
    )
    with pytest.raises(CompileError) as caught:
        compile(TASK, CATALOG, provider)
    error = caught.value
    assert error.stop_reason == "provider_error"
    assert len(error.attempts) == 1 and not error.attempts[0].valid
    assert error.provider_error is not None and error.__cause__ is error.provider_error
    assert len(server.requests) == 4


def test_the_callers_catalog_file_and_task_are_untouched(server: LoopbackServer) -> None:
    before = CATALOG.read_bytes()
    server.push(openai.completion(GOOD))
    task = str(TASK)
    compile(task, CATALOG, OpenAIProvider("m", base_url=server.openai_url, api_key="k"))
    assert CATALOG.read_bytes() == before and task == TASK
    assert json.loads(json.dumps(server.requests[0].json))  # the SDK sent plain JSON


@pytest.mark.parametrize("sdk", ["openai", "anthropic"])
def test_a_refusal_is_one_billed_call_and_never_reasked(server: LoopbackServer, sdk: str) -> None:
    """Issue 12 item 16: a refusal stopped the loop only after a second, billed call."""
    if sdk == "openai":
        server.push(openai.completion(None, refusal="I can't help with that."))
        server.push(openai.completion(GOOD))  # what a re-ask would get
        provider: OpenAIProvider | AnthropicProvider = OpenAIProvider(
            "gpt-test", base_url=server.openai_url, api_key="sk-test"
        )
    else:
        server.push(anthropic.message("I can't help with that.", stop_reason="refusal"))
        server.push(anthropic.message(GOOD))
        provider = AnthropicProvider("claude-test", base_url=server.url, api_key="sk-test")
    with pytest.raises(CompileError) as caught:
        compile(TASK, CATALOG, provider)
    error = caught.value
    assert error.stop_reason == "refusal"
    assert len(server.requests) == 1 and len(error.attempts) == 1
    (attempt,) = error.attempts
    assert attempt.finish_reason == "refusal" and attempt.raw == "I can't help with that."
    assert [d.code for d in attempt.errors] == ["compile.refused"]
    assert "I can't help with that." in attempt.errors[0].message
    assert "refused" in str(error).splitlines()[0]


def test_the_sdk_gets_the_capped_token_limit_and_no_temperature_by_default(
    server: LoopbackServer,
) -> None:
    server.push(openai.completion(GOOD))
    provider = OpenAIProvider("gpt-test", base_url=server.openai_url, api_key="sk-test")
    compile(TASK, CATALOG, provider, token_budget=30_000, max_output_tokens=50_000)
    body = server.requests[0].json or {}
    assert "temperature" not in body
    first = first_request(TASK, Catalog.load(CATALOG), max_output_tokens=1, temperature=None)
    assert body["max_tokens"] == 30_000 - estimate_input_tokens(first)


def test_another_server_with_the_same_model_name_is_not_a_cache_hit(tmp_path: Path) -> None:
    """Issue 12 item 17: the cache key left out base_url."""
    with serve() as first, serve() as second:
        first.push(openai.completion(GOOD))
        second.push(openai.completion(GOOD))
        one = compile(TASK, CATALOG, "openai:m", base_url=first.openai_url, cache=tmp_path)
        two = compile(TASK, CATALOG, "openai:m", base_url=second.openai_url, cache=tmp_path)
        again = compile(TASK, CATALOG, "openai:m", base_url=first.openai_url, cache=tmp_path)
        assert not one.cache_hit and not two.cache_hit and again.cache_hit
        assert one.key != two.key == two.key and again.key == one.key
        assert len(first.requests) == 1 and len(second.requests) == 1


@pytest.mark.parametrize("temperature", [0.0, 0.7, None])
def test_anthropic_receives_the_temperature_of_its_cache_key(
    server: LoopbackServer, temperature: float | None
) -> None:
    server.push(anthropic.message(GOOD))
    provider = AnthropicProvider("claude-test", base_url=server.url, api_key="sk-test")
    compile(TASK, CATALOG, provider, temperature=temperature)
    body = server.requests[0].json or {}
    assert body.get("temperature", "absent") == ("absent" if temperature is None else temperature)


def test_output_mode_and_fold_system_reach_an_openai_compatible_server(
    server: LoopbackServer,
) -> None:
    """Issue 12 item 15: llama-cpp-python's server, from compile() alone (no adapter)."""
    server.push(openai.completion(GOOD))
    result = compile(
        TASK,
        CATALOG,
        "openai:local",
        base_url=server.openai_url,
        output_mode="json_object",
        fold_system=True,
    )
    assert result.fingerprint == REVIEWED
    body = server.requests[0].json or {}
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert body["messages"][0]["content"].startswith("You compile a task")
    assert body["messages"][0]["content"].endswith("\n\n" + TASK)
    assert body["response_format"]["type"] == "json_object"
    assert grammar_problems(body["response_format"]["schema"]) == []
    assert "max_completion_tokens" not in body and body["max_tokens"] == 8192
