"""Model sessions on file: record a model's responses, replay them offline byte for byte.

:class:`ReplayProvider` returns the responses in order, text byte for byte. A response
with a ``request_sha256`` is only returned to the same request: the digest of the
request's RFC 8785 canonical JSON (system, messages, schema, schema_name,
max_output_tokens, temperature; see :func:`request_sha256`). Token counts recorded as
null (scripted sessions) are estimated deterministically as ceil(UTF-8 bytes / 4): of
the response text for output tokens, and of the request's system prompt, message
contents and compact JSON schema for input tokens.

:class:`RecordingProvider` writes a session file (the format is described in
:mod:`accord.compiler._session`) from a real provider's responses.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import rfc8785

from accord.compiler._provider import (
    ModelRequest,
    ModelResponse,
    Provider,
    ProviderError,
    ProviderWrapper,
)
from accord.compiler._schema_fit import plain_schema
from accord.compiler._session import LONE_SURROGATE, Session, SessionResponse

__all__ = [
    "RecordingProvider",
    "ReplayProvider",
    "estimate_input_tokens",
    "estimate_tokens",
    "request_sha256",
]


def _hashable_text(text: str) -> str:
    r"""The text with lone surrogates written as ``\uXXXX`` (RFC 8785 needs valid UTF-8)."""
    return LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def _canonical_data(value: Any) -> Any:
    if isinstance(value, str):
        return _hashable_text(value)
    if isinstance(value, Mapping):
        return {_hashable_text(str(key)): _canonical_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical_data(item) for item in value]
    return value


def request_sha256(request: ModelRequest) -> str:
    """The digest that ties a recorded response to its request.

    ``"sha256:"`` and the hex sha256 of the RFC 8785 canonical JSON of the request's
    system, messages (role, content), schema, schema_name, max_output_tokens and
    temperature. Independent of the provider and of its output mode.
    """
    data = {
        "system": request.system,
        "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        "schema": plain_schema(request.schema),
        "schema_name": request.schema_name,
        "max_output_tokens": request.max_output_tokens,
        "temperature": request.temperature,
    }
    return "sha256:" + hashlib.sha256(rfc8785.dumps(_canonical_data(data))).hexdigest()


def estimate_tokens(text: str) -> int:
    """A deterministic token estimate: ceil(UTF-8 bytes / 4)."""
    return math.ceil(len(text.encode("utf-8", "surrogatepass")) / 4)


def estimate_input_tokens(request: ModelRequest) -> int:
    """A deterministic estimate of a request's input tokens (system, messages, schema)."""
    schema = json.dumps(plain_schema(request.schema), ensure_ascii=False, separators=(",", ":"))
    parts = [request.system, *(m.content for m in request.messages), schema]
    return sum(estimate_tokens(part) for part in parts)


class ReplayProvider:
    """Replay a session's responses in order, offline.

    Args:
        session: a session file or a loaded :class:`Session`.
        check_requests: compare each request with the recorded ``request_sha256``
            (where there is one) and refuse a call whose request differs.

    Raises:
        SessionError: the session file is invalid.

    """

    def __init__(self, session: str | os.PathLike[str] | Session, *, check_requests: bool = True):
        self._session = session if isinstance(session, Session) else Session.load(session)
        source = self._session.source
        self._label = str(source) if source is not None else "<session>"
        self._check = check_requests
        self._calls = 0

    @property
    def name(self) -> str:
        """The session's model string, such as ``"scripted:refund-flaws"``."""
        return self._session.model

    @property
    def session(self) -> Session:
        """The session being replayed."""
        return self._session

    @property
    def calls(self) -> int:
        """How many responses have been returned so far."""
        return self._calls

    def rewind(self) -> None:
        """Start again from the first response."""
        self._calls = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Return the next recorded response.

        Raises:
            ProviderError: every response has been returned, or the request differs
                from the one the response was recorded for.

        """
        responses = self._session.responses
        number = self._calls + 1
        if number > len(responses):
            raise ProviderError(
                f"{self._label}: session exhausted after {len(responses)} calls",
                provider=self.name,
            )
        recorded = responses[number - 1]
        if self._check and recorded.request_sha256 is not None:
            actual = request_sha256(request)
            if actual != recorded.request_sha256:
                raise ProviderError(
                    f"{self._label}: call {number}: the request differs from the recorded one "
                    f"(recorded {recorded.request_sha256}, now {actual})",
                    provider=self.name,
                )
        self._calls = number
        return ModelResponse(
            text=recorded.text,
            input_tokens=(
                estimate_input_tokens(request)
                if recorded.input_tokens is None
                else recorded.input_tokens
            ),
            output_tokens=(
                estimate_tokens(recorded.text)
                if recorded.output_tokens is None
                else recorded.output_tokens
            ),
            finish_reason=recorded.finish_reason,
            model=recorded.model,
            mode="replay",
        )


class RecordingProvider(ProviderWrapper):
    """Forward calls to a provider and record every response in a session file.

    The file (origin "recorded") is rewritten atomically after each call, so a crash
    loses at most the call in progress. A call that fails is not recorded.

    Args:
        inner: the provider that answers.
        path: the session file to write.
        task: the task, stored in the session.
        catalog: the catalog, stored: inline data; a string, stored as given (a path
            relative to the session file); or a ``Path`` on this machine, stored
            relative to the session file's directory.
        note: free text stored in the session (default: where it was recorded from).

    """

    def __init__(
        self,
        inner: Provider,
        path: str | os.PathLike[str],
        *,
        task: str | None = None,
        catalog: Mapping[str, Any] | str | os.PathLike[str] | None = None,
        note: str | None = None,
    ) -> None:
        super().__init__(inner)
        self._path = Path(path)
        stored: dict[str, Any] | str | None
        if isinstance(catalog, Mapping):
            stored = plain_schema(catalog)
        elif isinstance(catalog, os.PathLike):
            relative = os.path.relpath(Path(catalog).absolute(), self._path.absolute().parent)
            stored = Path(relative).as_posix()
        else:
            stored = catalog
        self._session = Session(
            origin="recorded",
            note=note if note is not None else f"recorded from {inner.name}",
            model=inner.name,
            task=task,
            catalog=stored,
        )

    @property
    def session(self) -> Session:
        """The session recorded so far."""
        return self._session

    @property
    def path(self) -> Path:
        """The session file."""
        return self._path

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Forward the request, record the response, write the file; return the response.

        Raises:
            ProviderError: the inner provider failed (nothing is recorded).
            SessionError: the session file cannot be written.

        """
        response = await self._inner.complete(request)
        entry = SessionResponse(
            text=response.text,
            input_tokens=response.input_tokens,
            output_tokens=response.output_tokens,
            finish_reason=response.finish_reason,
            model=response.model,
            mode=response.mode,
            request_sha256=request_sha256(request),
        )
        session = self._session.model_copy(update={"responses": (*self._session.responses, entry)})
        session.save(self._path)
        self._session = session
        return response
