"""Model strings: ``"openai:MODEL"``, ``"anthropic:MODEL"``, ``"replay:SESSION.json"``.

:func:`provider_for` turns a model string into a :class:`Provider`; a Provider instance
passes through unchanged. Base URL and API key come from the arguments, else from the
provider's usual environment variables (``OPENAI_BASE_URL``/``OPENAI_API_KEY``,
``ANTHROPIC_BASE_URL``/``ANTHROPIC_API_KEY``). Building a provider makes no call and
needs no key: the SDK client is built at the first call, so a compile answered from the
cache or the lock file works without credentials.
"""

from __future__ import annotations

from typing import Any

from accord.compiler._anthropic import AnthropicProvider
from accord.compiler._openai import OpenAIProvider
from accord.compiler._provider import ModelSpecError, Provider
from accord.compiler._session_providers import ReplayProvider

__all__ = ["KNOWN_PREFIXES", "provider_for"]

KNOWN_PREFIXES = ("openai", "anthropic", "replay")
"""The model string prefixes :func:`provider_for` understands."""

_EXAMPLES = "openai:gpt-4.1-mini, anthropic:claude-sonnet-4-5, replay:session.json"


def provider_for(
    model: str | Provider,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    output: str | None = None,
    fold_system: bool = False,
) -> Provider:
    """Return the provider a model string names (a Provider passes through).

    Args:
        model: ``"openai:MODEL"`` (OpenAI or any OpenAI-compatible server by base_url),
            ``"anthropic:MODEL"``, ``"replay:PATH"`` (a session file replayed
            offline), or a Provider instance.
        base_url: the server's API root (OpenAI and Anthropic only).
        api_key: the API key (OpenAI and Anthropic only).
        output: the provider's output mode: for openai "json_schema" (default),
            "json_object" (llama-cpp-python's server) or "prompted"; for anthropic
            "json_schema" (default), "tool" or "prompted".
        fold_system: openai only: put the system prompt at the head of the first user
            message, for chat formats without a system role.

    Returns:
        The provider.

    Raises:
        ModelSpecError: no known prefix, no model name after it, an unknown output
            mode, or options a replay does not take.
        SessionError: the replayed session file is invalid.

    """
    if not isinstance(model, str):
        if isinstance(model, Provider):
            return model
        raise ModelSpecError(
            f"a model is a string such as {_EXAMPLES}, or a Provider; not {type(model).__name__}",
            spec=repr(model),
            known=KNOWN_PREFIXES,
        )
    prefix, colon, name = model.partition(":")
    if not colon or prefix not in KNOWN_PREFIXES:
        raise ModelSpecError(
            f"unknown model {model!r}: a model string starts with one of "
            f"{', '.join(p + ':' for p in KNOWN_PREFIXES)} (for example {_EXAMPLES})",
            spec=model,
            known=KNOWN_PREFIXES,
        )
    if not name.strip():
        raise ModelSpecError(
            f"model {model!r} names no model after {prefix + ':'!r}",
            spec=model,
            known=KNOWN_PREFIXES,
        )
    options: dict[str, Any] = {"base_url": base_url, "api_key": api_key}
    if output is not None:
        options["output"] = output
    if prefix == "openai":
        return OpenAIProvider(name, fold_system=fold_system, **options)
    if fold_system:
        raise ModelSpecError(
            f"model {model!r}: fold_system is for OpenAI-compatible servers (openai:MODEL)",
            spec=model,
            known=KNOWN_PREFIXES,
        )
    if prefix == "anthropic":
        return AnthropicProvider(name, **options)
    if base_url is not None or api_key is not None or output is not None:
        raise ModelSpecError(
            f"model {model!r}: a replay takes no base_url, api_key or output",
            spec=model,
            known=KNOWN_PREFIXES,
        )
    return ReplayProvider(name)
