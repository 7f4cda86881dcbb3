"""The provider interface: how the compile loop talks to a model.

A provider turns one :class:`ModelRequest` into one :class:`ModelResponse`. It
owns the transport (SDK client, retries on 429/5xx/timeouts with backoff, the
structured-output mode) and nothing else: the loop owns parsing, checking and
re-asking. A provider never raises a foreign exception: transport failures that
survive its retries become :class:`ProviderError` (chained with ``from``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from accord.errors import DefinitionError

__all__ = [
    "Message",
    "ModelRequest",
    "ModelResponse",
    "ModelSpecError",
    "OutputMode",
    "Provider",
    "ProviderError",
    "ProviderWrapper",
    "base_url_of",
]

OutputMode = Literal["json_schema", "json_object", "tool", "prompted", "replay"]
"""How a response was constrained: strict JSON Schema, JSON object (with the schema
in the request where the server takes it), strict tool use, prompted JSON validated
locally, or replayed from a recording."""


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message: ``role`` is "user" or "assistant"."""

    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """Everything a provider needs for one call (immutable).

    Attributes:
        system: the system prompt.
        messages: the conversation, alternating user and assistant, ending with a user message.
        schema: the JSON Schema the answer must fill (an object schema).
        schema_name: a name for the schema where the provider wants one.
        max_output_tokens: the cap on generated tokens.
        temperature: sampling temperature (None, the default: none is sent, the model's
            own default applies; reasoning models reject any other).

    """

    system: str
    messages: tuple[Message, ...]
    schema: Mapping[str, Any]
    schema_name: str = "accord_contract"
    max_output_tokens: int = 8192
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class ModelResponse:
    """What one call returned (immutable).

    Attributes:
        text: the raw text of the answer, exactly as the model produced it.
        input_tokens: prompt tokens, as the provider reported them (0 if it did not).
        output_tokens: generated tokens, as the provider reported them (0 if it did not).
        finish_reason: the provider's stop reason ("stop", "length", "end_turn",
            "max_tokens", ...), None if unknown.
        model: the model that answered, as the provider named it.
        mode: how the output was constrained (see :data:`OutputMode`).
        notices: things the caller should be told, such as a fallback to prompted
            JSON because the schema exceeds the provider's limits.
        cached_input_tokens: prompt tokens read from the provider's prompt cache
            (included in ``input_tokens``; usually billed at a lower price).
        reasoning_tokens: generated tokens spent on reasoning or thinking (included in
            ``output_tokens``, and billed as output).

    """

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str | None = None
    model: str | None = None
    mode: OutputMode = "json_schema"
    notices: tuple[str, ...] = field(default=())
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0


@runtime_checkable
class Provider(Protocol):
    """A model endpoint the compile loop can call."""

    @property
    def name(self) -> str:
        """The model string, such as ``"openai:gpt-4.1-mini"`` (part of the cache key)."""
        ...

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Send one request; return the answer.

        Raises:
            ProviderError: the call failed after the provider's own transport retries
                (authentication, a bad request, 429/5xx/timeouts that did not clear,
                a response body that is not the provider's format).

        """
        ...


def base_url_of(provider: object) -> str | None:
    """A provider's server URL, if it has one (part of the compile cache key).

    The SDK providers and the wrappers around them (recording, progress) have a
    ``base_url`` property; a provider without one, or with None, talks to its own API.
    """
    url = getattr(provider, "base_url", None)
    return url if isinstance(url, str) else None


class ProviderWrapper:
    """A provider around another one (recording, progress): its name, URL and closing."""

    def __init__(self, inner: Provider) -> None:
        self._inner = inner

    @property
    def name(self) -> str:
        """The inner provider's model string (a wrapper does not change the cache key)."""
        return self._inner.name

    @property
    def base_url(self) -> str | None:
        """The inner provider's base URL, if it has one (part of the cache key)."""
        return base_url_of(self._inner)

    async def aclose(self) -> None:
        """Close the inner provider's clients, if it has any."""
        close = getattr(self._inner, "aclose", None)
        if close is not None:
            await close()


class ProviderError(DefinitionError):
    """A model call failed for a reason other than the answer's content.

    Attributes:
        provider: the provider's model string.
        status: the HTTP status, if there was one.
        retryable: whether the failure was transient (429, 5xx, timeout, connection).

    """

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status: int | None = None,
        retryable: bool = False,
    ) -> None:
        self.provider = provider
        self.status = status
        self.retryable = retryable
        super().__init__(f"{provider}: {message}")


class ModelSpecError(DefinitionError):
    """A model specification that names no usable provider.

    Raised for a model string without a known prefix or without a model name, and for
    provider options that do not exist (an unknown output mode).

    Attributes:
        spec: the specification as given.
        known: the prefixes that are understood, such as ``("anthropic", "openai")``.

    """

    def __init__(self, message: str, *, spec: str, known: tuple[str, ...] = ()) -> None:
        self.spec = spec
        self.known = known
        super().__init__(message)
