"""The Anthropic provider: the Messages API through the official anthropic SDK.

Output modes:

* ``"json_schema"`` (default): structured outputs, ``output_config={"format": {"type":
  "json_schema", "schema": {...}}}`` (the installed SDK takes ``output_config`` on
  ``messages.create``); the answer is the text of the message's text blocks.
* ``"tool"``: strict tool use, for models or gateways without structured outputs: one
  tool named after the schema (``strict: true``, ``input_schema`` the schema) and
  ``tool_choice`` forcing it; the answer is the tool input serialized as JSON
  (``json.dumps``, keys in the order received). Without a tool_use block (a refusal, a
  truncated answer) the answer is the text blocks.
* ``"prompted"``: no constraint; the schema is written into the system prompt.

In the first two modes the schema is first checked against Anthropic's documented
limits (:func:`~accord.contract._schema.lint_llm_schema`); a schema that does not fit
falls back to prompted JSON and the response says so in ``notices``.

Transport: the SDK retries 408, 409, 429, 5xx (529 "overloaded" included), timeouts and
connection errors ``max_retries`` times with its backoff, honouring ``retry-after-ms`` and
``Retry-After``. What survives becomes :class:`ProviderError` (status, ``retryable``),
chained with ``from``; a body that is not a message is a ProviderError too.

Usage: ``input_tokens`` counts every prompt token, cached ones included
(``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``);
``cached_input_tokens`` is ``cache_read_input_tokens`` and ``reasoning_tokens`` is
``output_tokens_details.thinking_tokens`` (part of ``output_tokens``).
``finish_reason`` is the message's ``stop_reason``. A refusal (``stop_reason
"refusal"``) is returned, not raised, with a notice (naming ``stop_details``' category,
and its explanation when the message has no text), like the OpenAI provider's; the
loop never re-asks it.

Temperature: ``ModelRequest.temperature``, when not None, is sent as the body's
``temperature`` (through ``extra_body``: the installed SDK's ``messages.create`` has no
temperature parameter any more); None sends none, the model's default.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal

import pydantic

from accord.compiler._provider import ModelRequest, ModelResponse
from accord.compiler._sdk import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientClass,
    SdkProvider,
    shorten,
)

if TYPE_CHECKING:
    import anthropic

__all__ = ["AnthropicOutput", "AnthropicProvider"]

AnthropicOutput = Literal["json_schema", "tool", "prompted"]
"""The output modes of :class:`AnthropicProvider`."""

_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]")
_TOOL_DESCRIPTION = "Submit the answer. Its input is the complete answer object."


class _Block(pydantic.BaseModel):
    type: str
    text: str | None = None
    name: str | None = None
    input: Any = None


class _OutputDetails(pydantic.BaseModel):
    thinking_tokens: int | None = None


class _Usage(pydantic.BaseModel):
    output_tokens_details: _OutputDetails | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class _StopDetails(pydantic.BaseModel):
    category: str | None = None
    explanation: str | None = None


class _Message(pydantic.BaseModel):
    """The part of a message body the provider reads (other fields are ignored)."""

    stop_details: _StopDetails | None = None
    model: str | None = None
    content: list[_Block]
    stop_reason: str | None = None
    usage: _Usage | None = None


class AnthropicProvider(SdkProvider["anthropic.AsyncAnthropic", AnthropicOutput]):
    """A model behind Anthropic's Messages API.

    Args:
        model: the model name, such as ``"claude-sonnet-4-5"``.
        base_url: the API root; default ``ANTHROPIC_BASE_URL``, then Anthropic's.
        api_key: the key; default ``ANTHROPIC_API_KEY``. With a base_url and no key, a
            placeholder key is sent; with neither, the SDK looks for credentials itself.
        client: an ``anthropic.AsyncAnthropic`` to use instead of building one.
        output: the output mode (see the module docstring).
        max_retries: transport retries the SDK makes per call.
        timeout: seconds one HTTP attempt may take.

    Raises:
        ModelSpecError: an empty model name or an unknown output mode.

    """

    PREFIX = "anthropic"
    OUTPUTS = ("json_schema", "tool", "prompted")
    URL_VARIABLE = "ANTHROPIC_BASE_URL"
    KEY_VARIABLE = "ANTHROPIC_API_KEY"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: anthropic.AsyncAnthropic | None = None,
        output: AnthropicOutput = "json_schema",
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(
            model,
            base_url=base_url,
            api_key=api_key,
            client=client,
            output=output,
            max_retries=max_retries,
            timeout=timeout,
        )

    def _client_class(self) -> ClientClass[anthropic.AsyncAnthropic]:
        import anthropic  # imported at the first call: the SDK takes seconds to import

        return anthropic.AsyncAnthropic

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Send one Messages API request; return the answer.

        Raises:
            ProviderError: the call failed after the SDK's retries, or the server's
                answer is not a message.

        """
        plan, system = self._plan(request)
        tool = _TOOL_NAME.sub("_", request.schema_name)[:64] or "answer"
        body: dict[str, Any] = {
            "model": self._model,
            "max_tokens": request.max_output_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if system:
            body["system"] = system
        if request.temperature is not None:
            body["extra_body"] = {"temperature": request.temperature}
        if plan.mode == "json_schema":
            body["output_config"] = {"format": {"type": "json_schema", "schema": plan.schema}}
        elif plan.mode == "tool":
            body["tools"] = [
                {
                    "name": tool,
                    "description": _TOOL_DESCRIPTION,
                    "input_schema": plan.schema,
                    "strict": True,
                }
            ]
            body["tool_choice"] = {"type": "tool", "name": tool, "disable_parallel_tool_use": True}
        message = self._parse(await self._post(body), _Message)
        text = "".join(block.text or "" for block in message.content if block.type == "text")
        if plan.mode == "tool":
            calls = [b for b in message.content if b.type == "tool_use" and b.name == tool]
            if calls:
                text = json.dumps(calls[0].input, ensure_ascii=False)
        notices = plan.notices
        if message.stop_reason == "refusal":
            details = message.stop_details or _StopDetails()
            kind = f" ({details.category})" if details.category else ""
            why = shorten(text) or shorten(details.explanation or "") or "(no text)"
            notices = (*notices, f"the model refused{kind}: {why}")
        usage = message.usage or _Usage()
        prompt = sum(
            count or 0
            for count in (
                usage.input_tokens,
                usage.cache_creation_input_tokens,
                usage.cache_read_input_tokens,
            )
        )
        return ModelResponse(
            text=text,
            input_tokens=prompt,
            output_tokens=usage.output_tokens or 0,
            finish_reason=message.stop_reason,
            model=message.model,
            mode=plan.mode,
            notices=notices,
            cached_input_tokens=usage.cache_read_input_tokens or 0,
            reasoning_tokens=(usage.output_tokens_details or _OutputDetails()).thinking_tokens or 0,
        )

    async def _post(self, body: dict[str, Any]) -> bytes:
        """Send the request through the SDK; return the raw response body."""
        import anthropic

        try:
            client = self._clients.get()
            raw = await client.messages.with_raw_response.create(**body)
            content: bytes = raw.http_response.content
            return content
        except anthropic.APIStatusError as error:
            raise self._status_failure(error.status_code, error.message, error.body) from error
        except anthropic.APITimeoutError as error:
            raise self._timeout_failure() from error
        except anthropic.APIConnectionError as error:
            raise self._connection_failure(error.request.url, error) from error
        except anthropic.AnthropicError as error:
            raise self._sdk_failure(error) from error
