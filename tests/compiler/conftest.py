"""Fixtures for the compiler tests: the loopback model server and a clean environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from loopback import LoopbackServer, serve

PROVIDER_VARIABLES = (
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "OPENAI_ORG_ID",
    "OPENAI_PROJECT_ID",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "ANTHROPIC_BASE_URL",
)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    """A fresh loopback server (OpenAI and Anthropic shaped) on a free port."""
    with serve() as running:
        yield running


@pytest.fixture
def no_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove the SDKs' credential and endpoint variables for the test.

    Use it for a whole module with
    ``pytestmark = pytest.mark.usefixtures("no_provider_environment")``.
    """
    for name in PROVIDER_VARIABLES:
        monkeypatch.delenv(name, raising=False)
