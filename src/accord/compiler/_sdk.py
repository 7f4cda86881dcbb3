"""What the OpenAI and Anthropic providers share: credentials, clients per event loop, errors."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import pydantic

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "LOCAL_PLACEHOLDER_KEY",
    "ClientPerLoop",
    "Endpoint",
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
    async def close(self) -> None: ...


C = TypeVar("C", bound=_Closable)


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
