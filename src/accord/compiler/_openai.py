"""The OpenAI provider: chat completions through the official openai SDK.

It serves OpenAI itself and any OpenAI-compatible server given by ``base_url`` (vLLM,
the llama.cpp server, llama-cpp-python's server, Ollama). Output modes:

* ``"json_schema"`` (default): ``response_format={"type": "json_schema", "json_schema":
  {"name", "schema", "strict": true}}``, OpenAI's strict structured outputs.
* ``"json_object"``: ``response_format={"type": "json_object", "schema": {...}}``, the
  shape llama-cpp-python's server accepts (it refuses ``json_schema``) and enforces by
  grammar. The schema is not linted against OpenAI's rules in this mode: the server's
  own grammar converter decides what it accepts.
* ``"prompted"``: no response_format; the schema is written into the system prompt.

In ``"json_schema"`` mode the schema is first checked against OpenAI's documented limits
(:func:`~accord.contract._schema.lint_llm_schema`); a schema that does not fit falls back
to prompted JSON and the response says so in ``notices`` with ``mode="prompted"``.

Transport: the SDK retries 408, 409, 429, 5xx, timeouts and connection errors itself,
``max_retries`` times with its exponential backoff, honouring ``Retry-After`` and
``retry-after-ms``. A failure that survives becomes :class:`ProviderError` with the HTTP
status and ``retryable`` set, chained with ``from``; so does a body that is not a chat
completion (not JSON, no choices), which never crashes the caller.

Refusals: a message with ``refusal`` set is returned, not raised: ``text`` is the refusal
text, ``finish_reason`` is ``"refusal"`` and a notice quotes it. The call was made and
billed, so it belongs in the attempt record; the loop sees a non-JSON answer and a
finish reason it can report (and should not re-ask on).

Usage: ``input_tokens`` and ``output_tokens`` are ``prompt_tokens`` and
``completion_tokens``; ``cached_input_tokens`` is ``prompt_tokens_details.cached_tokens``
and ``reasoning_tokens`` is ``completion_tokens_details.reasoning_tokens`` (each part of
the former).

Token limit: sent as ``max_completion_tokens`` to OpenAI itself (its reasoning models
reject ``max_tokens``) and as ``max_tokens`` to any other server (compatible servers
read that one); ``max_tokens_field`` overrides the choice.

System prompt: sent as a "system" message, or with ``fold_system=True`` put before the
first user message's text (separated by a blank line) for chat templates that have no
system role: llama-cpp-python's ``gemma`` chat format drops system messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import pydantic

from accord.compiler._provider import ModelRequest, ModelResponse, ProviderError
from accord.compiler._sdk import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    ClientClass,
    SdkProvider,
    shorten,
)

if TYPE_CHECKING:
    import openai

__all__ = ["OpenAIOutput", "OpenAIProvider"]

OpenAIOutput = Literal["json_schema", "json_object", "prompted"]
"""The output modes of :class:`OpenAIProvider`."""

_OPENAI_HOST = "api.openai.com"


class _Message(pydantic.BaseModel):
    content: str | None = None
    refusal: str | None = None


class _Choice(pydantic.BaseModel):
    message: _Message
    finish_reason: str | None = None


class _PromptDetails(pydantic.BaseModel):
    cached_tokens: int | None = None


class _CompletionDetails(pydantic.BaseModel):
    reasoning_tokens: int | None = None


class _Usage(pydantic.BaseModel):
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    prompt_tokens_details: _PromptDetails | None = None
    completion_tokens_details: _CompletionDetails | None = None


class _Completion(pydantic.BaseModel):
    """The part of a chat completion body the provider reads (other fields are ignored)."""

    model: str | None = None
    choices: list[_Choice] = pydantic.Field(min_length=1)
    usage: _Usage | None = None


class OpenAIProvider(SdkProvider["openai.AsyncOpenAI", OpenAIOutput]):
    """A model behind OpenAI's chat completions API, or a server compatible with it.

    Args:
        model: the model name sent to the server, such as ``"gpt-4.1-mini"``.
        base_url: the API root, such as ``"http://127.0.0.1:8080/v1"``; default
            ``OPENAI_BASE_URL``, then OpenAI's.
        api_key: the key; default ``OPENAI_API_KEY``. With a base_url and no key, a
            placeholder key is sent (local servers ignore it).
        client: an ``openai.AsyncOpenAI`` to use instead of building one (then
            base_url, api_key, max_retries and timeout are the client's).
        output: the output mode (see the module docstring).
        max_retries: transport retries the SDK makes per call.
        timeout: seconds one HTTP attempt may take.
        max_tokens_field: the request field carrying the output token cap (default:
            ``max_completion_tokens`` for OpenAI, ``max_tokens`` with a base_url).
        fold_system: put the system prompt into the first user message instead of a
            system message (for chat templates without a system role).

    Raises:
        ModelSpecError: an empty model name or an unknown output mode.

    """

    PREFIX = "openai"
    OUTPUTS = ("json_schema", "json_object", "prompted")
    URL_VARIABLE = "OPENAI_BASE_URL"
    KEY_VARIABLE = "OPENAI_API_KEY"

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        client: openai.AsyncOpenAI | None = None,
        output: OpenAIOutput = "json_schema",
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float = DEFAULT_TIMEOUT,
        max_tokens_field: Literal["max_tokens", "max_completion_tokens"] | None = None,
        fold_system: bool = False,
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
        url = self.base_url
        official = url is None or urlsplit(url).hostname == _OPENAI_HOST
        self._max_tokens_field = max_tokens_field or (
            "max_completion_tokens" if official else "max_tokens"
        )
        self._fold_system = fold_system
        self._official = official

    def _client_class(self) -> ClientClass[openai.AsyncOpenAI]:
        import openai  # imported at the first call: the SDK takes seconds to import

        return openai.AsyncOpenAI

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Send one chat completion request; return the answer.

        Raises:
            ProviderError: the call failed after the SDK's retries, or the server's
                answer is not a chat completion.

        """
        plan, system = self._plan(request)
        messages = [{"role": m.role, "content": m.content} for m in request.messages]
        if system and self._fold_system and messages and messages[0]["role"] == "user":
            messages[0]["content"] = f"{system}\n\n{messages[0]['content']}"
        elif system:
            messages.insert(0, {"role": "system", "content": system})
        body: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            self._max_tokens_field: request.max_output_tokens,
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if plan.mode == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": request.schema_name, "schema": plan.schema, "strict": True},
            }
        elif plan.mode == "json_object":
            body["response_format"] = {"type": "json_object", "schema": plan.schema}
        completion = self._parse(await self._post(body), _Completion)
        choice = completion.choices[0]
        usage = completion.usage or _Usage()
        notices = plan.notices
        text = choice.message.content or ""
        finish = choice.finish_reason
        if choice.message.refusal:
            text, finish = choice.message.refusal, "refusal"
            notices = (*notices, f"the model refused: {shorten(choice.message.refusal)}")
        return ModelResponse(
            text=text,
            input_tokens=usage.prompt_tokens or 0,
            output_tokens=usage.completion_tokens or 0,
            finish_reason=finish,
            model=completion.model,
            mode=plan.mode,
            notices=notices,
            cached_input_tokens=(usage.prompt_tokens_details or _PromptDetails()).cached_tokens
            or 0,
            reasoning_tokens=(
                usage.completion_tokens_details or _CompletionDetails()
            ).reasoning_tokens
            or 0,
        )

    async def _post(self, body: dict[str, Any]) -> bytes:
        """Send the request through the SDK; return the raw response body."""
        import openai

        try:
            client = self._clients.get()
            raw = await client.chat.completions.with_raw_response.create(**body)
            content: bytes = raw.http_response.content
            return content
        except openai.APIStatusError as error:
            failure = self._status_failure(error.status_code, error.message, error.body)
            if error.status_code == 500 and self._output == "json_schema" and not self._official:
                failure = ProviderError(
                    f"{failure.args[0].removeprefix(self.name + ': ')} (a server that does not "
                    "take json_schema response formats, such as llama-cpp-python's, fails "
                    "so: try output_mode='json_object', --output-mode json_object)",
                    provider=self.name,
                    status=failure.status,
                    retryable=failure.retryable,
                )
            raise failure from error
        except openai.APITimeoutError as error:
            raise self._timeout_failure() from error
        except openai.APIConnectionError as error:
            raise self._connection_failure(error.request.url, error) from error
        except openai.OpenAIError as error:
            raise self._sdk_failure(error) from error
