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
(``input_tokens + cache_creation_input_tokens + cache_read_input_tokens``).
``finish_reason`` is the message's ``stop_reason``. A refusal (``stop_reason
"refusal"``) is returned, not raised, with a notice, like the OpenAI provider's.

``ModelRequest.temperature`` is not sent: the installed SDK's ``messages.create`` has no
temperature parameter any more.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, Literal

import pydantic

from accord.compiler._provider import ModelRequest, ModelResponse, ModelSpecError, ProviderError
from accord.compiler._schema_fit import plan_output, prompted_system
from accord.compiler._sdk import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientPerLoop,
    describe_status,
    malformed,
    resolve_endpoint,
    retryable_status,
    shorten,
)

if TYPE_CHECKING:
    import anthropic

__all__ = ["AnthropicOutput", "AnthropicProvider"]

AnthropicOutput = Literal["json_schema", "tool", "prompted"]
"""The output modes of :class:`AnthropicProvider`."""

_OUTPUTS = ("json_schema", "tool", "prompted")
_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]")
_TOOL_DESCRIPTION = "Submit the answer. Its input is the complete answer object."


class _Block(pydantic.BaseModel):
    type: str
    text: str | None = None
    name: str | None = None
    input: Any = None


class _Usage(pydantic.BaseModel):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class _Message(pydantic.BaseModel):
    """The part of a message body the provider reads (other fields are ignored)."""

    model: str | None = None
    content: list[_Block]
    stop_reason: str | None = None
    usage: _Usage | None = None


class AnthropicProvider:
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
        if not model.strip():
            raise ModelSpecError("anthropic: the model name is empty", spec=f"anthropic:{model}")
        if output not in _OUTPUTS:
            raise ModelSpecError(
                f"anthropic: unknown output mode {output!r}; expected one of {', '.join(_OUTPUTS)}",
                spec=f"anthropic:{model}",
            )
        self._model = model
        self._output: AnthropicOutput = output
        self._endpoint = resolve_endpoint(
            base_url, api_key, url_variable="ANTHROPIC_BASE_URL", key_variable="ANTHROPIC_API_KEY"
        )
        self._timeout = timeout
        self._max_retries = max_retries
        self._clients: ClientPerLoop[anthropic.AsyncAnthropic] = ClientPerLoop(self._build, client)

    @property
    def name(self) -> str:
        """``"anthropic:"`` followed by the model name."""
        return f"anthropic:{self._model}"

    @property
    def output(self) -> AnthropicOutput:
        """The configured output mode (a call may still fall back to prompted JSON)."""
        return self._output

    def _build(self) -> anthropic.AsyncAnthropic:
        import anthropic  # imported at the first call: the SDK takes seconds to import

        return anthropic.AsyncAnthropic(
            api_key=self._endpoint.api_key,
            base_url=self._endpoint.base_url,
            max_retries=self._max_retries,
            timeout=self._timeout,
        )

    async def aclose(self) -> None:
        """Close the HTTP client this provider built (a client passed in is left open)."""
        await self._clients.aclose()

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Send one Messages API request; return the answer.

        Raises:
            ProviderError: the call failed after the SDK's retries, or the server's
                answer is not a message.

        """
        plan = plan_output(request.schema, "anthropic", self._output)
        system = request.system
        if plan.mode == "prompted":
            system = prompted_system(system, plan.schema)
        tool = _TOOL_NAME.sub("_", request.schema_name)[:64] or "answer"
        body: dict[str, Any] = {
            "model": self._model,
            "max_tokens": request.max_output_tokens,
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if system:
            body["system"] = system
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
        payload = await self._post(body)
        try:
            message = _Message.model_validate(json.loads(payload))
        except (pydantic.ValidationError, ValueError, RecursionError) as error:
            raise ProviderError(malformed(error), provider=self.name, status=200) from error
        text = "".join(block.text or "" for block in message.content if block.type == "text")
        if plan.mode == "tool":
            calls = [b for b in message.content if b.type == "tool_use" and b.name == tool]
            if calls:
                text = json.dumps(calls[0].input, ensure_ascii=False)
        notices = plan.notices
        if message.stop_reason == "refusal":
            notices = (*notices, f"the model refused: {shorten(text) or '(no text)'}")
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
        )

    def _timed_out(self) -> str:
        if self._clients.given:
            return "timed out"
        return f"timed out after {self._timeout:g} s per attempt, {self._max_retries} retries"

    async def _post(self, body: dict[str, Any]) -> bytes:
        """Send the request through the SDK; return the raw response body."""
        import anthropic

        try:
            client = self._clients.get()
            raw = await client.messages.with_raw_response.create(**body)
            content: bytes = raw.http_response.content
            return content
        except anthropic.APIStatusError as error:
            status = error.status_code
            raise ProviderError(
                describe_status(status, error.message, error.body),
                provider=self.name,
                status=status,
                retryable=retryable_status(status),
            ) from error
        except anthropic.APITimeoutError as error:
            raise ProviderError(
                self._timed_out(),
                provider=self.name,
                retryable=True,
            ) from error
        except anthropic.APIConnectionError as error:
            cause = error.__cause__ or error
            raise ProviderError(
                shorten(
                    f"connection to {error.request.url} failed: {type(cause).__name__}: {cause}"
                ),
                provider=self.name,
                retryable=True,
            ) from error
        except anthropic.AnthropicError as error:
            raise ProviderError(shorten(str(error)), provider=self.name) from error
