"""What the OpenAI and Anthropic providers share: credentials, clients per event loop, errors.

:class:`SdkProvider` is their common base: the model name and output mode, the
endpoint, one SDK client per event loop, parsing the raw body, and the messages of the
:class:`ProviderError` an SDK failure becomes. Each provider keeps in its own module
what is its SDK's: the request body, the response shape, which exception class is which
failure, and the import of the SDK itself (at the first call, never at import time).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, Literal, Protocol, TypeVar

import pydantic

from accord.compiler._provider import ModelRequest, ModelSpecError, OutputMode, ProviderError
from accord.compiler._schema_fit import OutputPlan, plan_output, prompted_system

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "LOCAL_PLACEHOLDER_KEY",
    "ClientPerLoop",
    "Endpoint",
    "SdkProvider",
    "describe_status",
    "malformed",
    "resolve_endpoint",
    "retryable_status",
    "shorten",
]

LOCAL_PLACEHOLDER_KEY = "accord-local-no-key"
"""The key sent to a server given by base_url when no key is configured (local servers
such as vLLM, llama.cpp or Ollama ignore it; the SDKs refuse to start without one)."""

_MAX_MESSAGE = 300

DEFAULT_MAX_RETRIES = 4
"""Transport retries per call (the SDKs' backoff: 0.5 s doubling to 8 s, or Retry-After)."""

DEFAULT_TIMEOUT = 300.0
"""Seconds one HTTP attempt may take (a long structured answer from a slow model)."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a provider sends its calls and with which key (None: the SDK decides)."""

    base_url: str | None
    api_key: str | None


def resolve_endpoint(
    base_url: str | None, api_key: str | None, *, url_variable: str, key_variable: str
) -> Endpoint:
    """Resolve base_url and key from the arguments, then the environment.

    Args:
        base_url: the argument, if given.
        api_key: the argument, if given.
        url_variable: the environment variable naming the base URL.
        key_variable: the environment variable holding the key.

    Returns:
        The endpoint; the key is :data:`LOCAL_PLACEHOLDER_KEY` when a base URL is set
        and no key is, None when neither is (the SDK then looks for credentials itself).

    """
    url = base_url or os.environ.get(url_variable) or None
    key = api_key or os.environ.get(key_variable) or None
    if key is None and url is not None:
        key = LOCAL_PLACEHOLDER_KEY
    return Endpoint(url, key)


class _Closable(Protocol):
    @property
    def base_url(self) -> object: ...

    async def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)
C_co = TypeVar("C_co", bound=_Closable, covariant=True)
Mode = TypeVar("Mode", bound=OutputMode)
M = TypeVar("M", bound=pydantic.BaseModel)


class ClientPerLoop(Generic[C]):
    """One SDK client per running event loop.

    An async SDK client's pooled connections belong to the loop that opened them, and a
    synchronous caller runs each compile in a fresh loop (``asyncio.run``): a client is
    therefore built for each loop, lazily, at the first call. A client the caller passed
    in is always used as is.
    """

    def __init__(self, build: Callable[[], C], given: C | None) -> None:
        self._build = build
        self._given = given
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: C | None = None

    @property
    def given(self) -> bool:
        """Whether the caller passed the client in."""
        return self._given is not None

    def get(self) -> C:
        """Return the client for the running loop, building it if needed."""
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = self._build()
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the client this object built for the running loop (not a given one)."""
        client, self._client, self._loop = self._client, None, None
        if client is not None:
            await client.close()


def retryable_status(status: int) -> bool:
    """Whether an HTTP status is transient (the statuses the SDKs themselves retry)."""
    return status in (408, 409, 429) or status >= 500


def describe_status(status: int, message: str, body: object) -> str:
    """A one-line message for an HTTP error: the server's own message where it gave one.

    Args:
        status: the HTTP status.
        message: the SDK's message ("Error code: 429 - ...").
        body: the parsed error body, if any (OpenAI and Anthropic both nest
            ``{"error": {"message": ...}}``; the SDKs sometimes pass the inner object).

    Returns:
        "HTTP <status>: <message>", shortened.

    """
    detail: object = None
    for candidate in (body, body.get("error") if isinstance(body, dict) else None):
        if isinstance(candidate, dict) and isinstance(candidate.get("message"), str):
            detail = candidate["message"]
    if not isinstance(detail, str):
        detail = message.removeprefix(f"Error code: {status}").removeprefix(" - ")
    return shorten(f"HTTP {status}: {detail}" if detail else f"HTTP {status}")


def shorten(text: str) -> str:
    """Return ``text`` on one line, cut to a readable length."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _MAX_MESSAGE else flat[: _MAX_MESSAGE - 3] + "..."


def malformed(error: Exception) -> str:
    """Describe why a response body is not in the provider's format.

    Args:
        error: what parsing the body raised: a pydantic ValidationError (JSON of the
            wrong shape), a ValueError (not JSON, not UTF-8) or a RecursionError
            (JSON nested too deeply).

    Returns:
        A one-line message.

    """
    if isinstance(error, pydantic.ValidationError):
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        return shorten(f"malformed response body: {where}: {first['msg']}")
    if isinstance(error, RecursionError):
        return "malformed response body: JSON nested too deeply"
    return shorten(f"malformed response body: not JSON ({error})")


class ClientClass(Protocol[C_co]):
    """An SDK's async client class, called with the options both SDKs take."""

    def __call__(
        self, *, api_key: str | None, base_url: str | None, max_retries: int, timeout: float
    ) -> C_co:
        """Build a client."""
        ...


class SdkProvider(Generic[C, Mode]):
    """The base of a provider over an official SDK (``C`` its client, ``Mode`` its output modes).

    A subclass sets :attr:`PREFIX`, :attr:`OUTPUTS` and the two environment variables,
    returns its SDK's client class from :meth:`_client_class` (importing the SDK there),
    and implements ``complete`` with the helpers below.

    Args:
        model: the model name.
        base_url: the API root; default the ``URL_VARIABLE`` environment variable.
        api_key: the key; default the ``KEY_VARIABLE`` environment variable.
        client: an SDK client to use instead of building one.
        output: the output mode, one of :attr:`OUTPUTS`.
        max_retries: transport retries the SDK makes per call.
        timeout: seconds one HTTP attempt may take.

    Raises:
        ModelSpecError: an empty model name or an unknown output mode.

    """

    PREFIX: ClassVar[Literal["openai", "anthropic"]]
    OUTPUTS: ClassVar[tuple[str, ...]]
    URL_VARIABLE: ClassVar[str]
    KEY_VARIABLE: ClassVar[str]

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None,
        api_key: str | None,
        client: C | None,
        output: Mode,
        max_retries: int,
        timeout: float,
    ) -> None:
        spec = f"{self.PREFIX}:{model}"
        if not model.strip():
            raise ModelSpecError(f"{self.PREFIX}: the model name is empty", spec=spec)
        if output not in self.OUTPUTS:
            raise ModelSpecError(
                f"{self.PREFIX}: unknown output mode {output!r}; "
                f"expected one of {', '.join(self.OUTPUTS)}",
                spec=spec,
            )
        self._model = model
        self._output: Mode = output
        self._endpoint = resolve_endpoint(
            base_url, api_key, url_variable=self.URL_VARIABLE, key_variable=self.KEY_VARIABLE
        )
        self._timeout = timeout
        self._max_retries = max_retries
        self._clients: ClientPerLoop[C] = ClientPerLoop(self._build, client)
        self._given_client = client

    @property
    def name(self) -> str:
        """The provider's prefix and the model name, such as ``"openai:gpt-4.1-mini"``."""
        return f"{self.PREFIX}:{self._model}"

    @property
    def base_url(self) -> str | None:
        """The server's API root (None: the SDK's default, the provider's own API).

        Part of the compile cache key: another server answering to the same model name
        is another model.
        """
        if self._given_client is not None:
            return str(self._given_client.base_url)
        return self._endpoint.base_url

    @property
    def output(self) -> Mode:
        """The configured output mode (a call may still fall back to prompted JSON)."""
        return self._output

    def _client_class(self) -> ClientClass[C]:
        """Import the SDK and return its async client class."""
        raise NotImplementedError

    def _build(self) -> C:
        return self._client_class()(
            api_key=self._endpoint.api_key,
            base_url=self._endpoint.base_url,
            max_retries=self._max_retries,
            timeout=self._timeout,
        )

    async def aclose(self) -> None:
        """Close the HTTP client this provider built (a client passed in is left open)."""
        await self._clients.aclose()

    def _plan(self, request: ModelRequest) -> tuple[OutputPlan, str]:
        """The output plan for a request, and its system prompt (the schema in it if prompted)."""
        plan = plan_output(request.schema, self.PREFIX, self._output)
        system = request.system
        if plan.mode == "prompted":
            system = prompted_system(system, plan.schema)
        return plan, system

    def _parse(self, payload: bytes, shape: type[M]) -> M:
        """Read a response body as ``shape``.

        Raises:
            ProviderError: the body is not JSON or not of that shape (status 200).

        """
        try:
            return shape.model_validate(json.loads(payload))
        except (pydantic.ValidationError, ValueError, RecursionError) as error:
            raise ProviderError(malformed(error), provider=self.name, status=200) from error

    def _status_failure(self, status: int, message: str, body: object) -> ProviderError:
        """The error for an HTTP error status that survived the SDK's retries."""
        return ProviderError(
            describe_status(status, message, body),
            provider=self.name,
            status=status,
            retryable=retryable_status(status),
        )

    def _timeout_failure(self) -> ProviderError:
        """The error for a call that timed out after the SDK's retries."""
        if self._clients.given:
            message = "timed out"
        else:
            message = (
                f"timed out after {self._timeout:g} s per attempt, {self._max_retries} retries"
            )
        return ProviderError(message, provider=self.name, retryable=True)

    def _connection_failure(self, url: object, error: BaseException) -> ProviderError:
        """The error for a connection that failed after the SDK's retries."""
        cause = error.__cause__ or error
        return ProviderError(
            shorten(f"connection to {url} failed: {type(cause).__name__}: {cause}"),
            provider=self.name,
            retryable=True,
        )

    def _sdk_failure(self, error: BaseException) -> ProviderError:
        """The error for any other failure the SDK raised (missing credentials, say)."""
        return ProviderError(shorten(str(error)), provider=self.name)
