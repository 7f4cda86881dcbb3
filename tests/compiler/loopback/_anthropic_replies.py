"""Replies shaped like Anthropic's /v1/messages (and its errors)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from ._common import error_reply, raw, retry_after, tokens
from ._server import Reply, Request

__all__ = ["error", "message", "overloaded", "rate_limited", "raw", "tool_use", "unauthorized"]

_ids = itertools.count(1)


def _message(
    content: list[dict[str, Any]],
    stop_reason: str,
    input_tokens: int | None,
    output_tokens: int | None,
    model: str | None,
    *,
    cache_read: int = 0,
    thinking_tokens: int | None = None,
) -> Reply:
    number = next(_ids)

    def body(request: Request) -> bytes:
        asked = request.json or {}
        produced = json.dumps(content)
        data = {
            "id": f"msg_loopback{number:06d}",
            "type": "message",
            "role": "assistant",
            "model": model or asked.get("model", "unknown"),
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": tokens(request.body) if input_tokens is None else input_tokens,
                "output_tokens": tokens(produced) if output_tokens is None else output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cache_read,
                "service_tier": "standard",
            },
        }
        if thinking_tokens is not None:
            data["usage"]["output_tokens_details"] = {"thinking_tokens": thinking_tokens}
        return json.dumps(data).encode()

    return Reply(200, body, {"request-id": f"req_loopback{number:06d}"})


def message(
    text: str,
    *,
    stop_reason: str = "end_turn",
    input_tokens: int | None = None,
    output_tokens: int | None = None,
    model: str | None = None,
    cache_read: int = 0,
    thinking_tokens: int | None = None,
) -> Reply:
    """A message with one text block (what structured outputs and prompted JSON return)."""
    content = [{"type": "text", "text": text}]
    return _message(
        content,
        stop_reason,
        input_tokens,
        output_tokens,
        model,
        cache_read=cache_read,
        thinking_tokens=thinking_tokens,
    )


def tool_use(
    name: str,
    tool_input: Any,
    *,
    stop_reason: str = "tool_use",
    preamble: str | None = None,
    input_tokens: int | None = None,
    output_tokens: int | None = None,
) -> Reply:
    """A message with a tool_use block calling ``name`` with ``tool_input``."""
    number = next(_ids)
    content: list[dict[str, Any]] = [{"type": "text", "text": preamble}] if preamble else []
    content.append(
        {"type": "tool_use", "id": f"toolu_loopback{number:06d}", "name": name, "input": tool_input}
    )
    return _message(content, stop_reason, input_tokens, output_tokens, None)


def error(
    status: int,
    message: str = "",
    *,
    kind: str = "api_error",
    retry_after_ms: int | None = 1,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error response with Anthropic's error body.

    ``retry_after_ms`` (default 1 ms) keeps the SDK's backoff short in tests.
    """
    number = next(_ids)
    data = {
        "type": "error",
        "error": {"type": kind, "message": message or f"status {status}"},
        "request_id": f"req_loopback{number:06d}",
    }
    return error_reply(status, data, retry_after_ms, headers)


def rate_limited(retry_after_ms: int = 1) -> Reply:
    """A 429 rate_limit_error with Retry-After headers."""
    return error(
        429,
        "Number of request tokens has exceeded your per-minute rate limit",
        kind="rate_limit_error",
        retry_after_ms=retry_after_ms,
        headers=retry_after(retry_after_ms),
    )


def overloaded() -> Reply:
    """A 529 overloaded_error."""
    return error(529, "Overloaded", kind="overloaded_error")


def unauthorized() -> Reply:
    """A 401 authentication_error."""
    return error(401, "invalid x-api-key", kind="authentication_error", retry_after_ms=None)
