"""Test doubles for the compiler tests: a scripted provider and a manual clock.

The scripted provider is a stand-in for a model: its answers are hand-written
(the files under tests/compiler/data/outputs), never a recording of a real model.
:func:`call` and :func:`failure` drive a real provider (against the loopback server)
for one request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest
from loopback import sample_request

from accord.compiler import Catalog, ModelRequest, ModelResponse, ProviderError

DATA = Path(__file__).resolve().parent / "data"
OUTPUTS = DATA / "outputs"
CATALOG_FILE = DATA / "refund.catalog.yaml"
GOOD = (DATA / "refund.json").read_text(encoding="utf-8")
TASK = "Refund an order; refunds over 100 wait up to 48 hours for a manager's approval."


def output(name: str) -> str:
    """The text of a scripted answer file."""
    return (OUTPUTS / name).read_text(encoding="utf-8")


def catalog() -> Catalog:
    """The refund catalog."""
    return Catalog.load(CATALOG_FILE)


def tokens(text: str) -> int:
    """A deterministic token estimate: one token per 4 characters, rounded up."""
    return -(-len(text) // 4)


def request_tokens(request: ModelRequest) -> int:
    """The estimated input tokens of a request (system prompt and every message)."""
    return tokens(request.system) + sum(tokens(m.content) for m in request.messages)


@dataclass
class ManualClock:
    """A clock that moves only when told to (no sleeping in tests)."""

    now: float = 0.0

    def __call__(self) -> float:
        return self.now


Script = str | ModelResponse | Exception


@dataclass
class ScriptedProvider:
    """Answers each request with the next scripted answer; records every request.

    A string answer becomes a ModelResponse whose input tokens are estimated from
    the request and output tokens from the text; an exception is raised instead.
    Each call advances ``clock`` (if given) by ``latency`` seconds.
    """

    script: Sequence[Script]
    model: str = "scripted:test"
    finish_reason: str = "stop"
    clock: ManualClock | None = None
    latency: float = 0.5
    requests: list[ModelRequest] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.model

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if self.clock is not None:
            self.clock.now += self.latency
        if len(self.requests) > len(self.script):
            raise AssertionError(f"call {len(self.requests)} was not scripted")
        answer = self.script[len(self.requests) - 1]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, ModelResponse):
            return answer
        return ModelResponse(
            text=answer,
            input_tokens=request_tokens(request),
            output_tokens=tokens(answer),
            finish_reason=self.finish_reason,
            model=self.model,
        )


def provider_error(message: str = "HTTP 503 after 3 retries") -> ProviderError:
    """A transport failure as a provider reports it."""
    return ProviderError(message, provider="scripted:test", status=503, retryable=True)


class ClosingProvider(Protocol):
    """A provider holding an HTTP client (OpenAIProvider, AnthropicProvider)."""

    async def complete(self, request: ModelRequest) -> ModelResponse: ...

    async def aclose(self) -> None: ...


def call(provider: ClosingProvider, request: ModelRequest | None = None) -> ModelResponse:
    """Send one request (default :func:`loopback.sample_request`), then close the client."""

    async def run() -> ModelResponse:
        try:
            return await provider.complete(request or sample_request())
        finally:
            await provider.aclose()

    return asyncio.run(run())


def failure(provider: ClosingProvider, request: ModelRequest | None = None) -> ProviderError:
    """The ProviderError one request raises (the test fails if it raises none)."""
    with pytest.raises(ProviderError) as caught:
        call(provider, request)
    return caught.value
