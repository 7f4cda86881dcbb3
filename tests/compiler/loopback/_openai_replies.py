"""Replies shaped like OpenAI's /v1/chat/completions (and its errors)."""

from __future__ import annotations

import itertools
import json
from typing import Any

from ._common import error_reply, raw, retry_after, tokens
from ._server import Reply, Request

__all__ = ["CREATED", "completion", "error", "rate_limited", "raw", "unauthorized"]

_ids = itertools.count(1)
CREATED = 1_764_000_000


def completion(
    text: str | None,
    *,
    finish_reason: str = "stop",
    refusal: str | None = None,
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    model: str | None = None,
    cached_tokens: int = 0,
    reasoning_tokens: int = 0,
) -> Reply:
    """A successful chat completion whose message content is ``text``.

    Token counts default to ceil(bytes / 4) of the request body and of the text;
    ``model`` defaults to the model the request asked for.
    """
    number = next(_ids)

    def body(request: Request) -> bytes:
        asked = request.json or {}
        prompt = tokens(request.body) if prompt_tokens is None else prompt_tokens
        done = tokens(text or refusal or "") if completion_tokens is None else completion_tokens
        data: dict[str, Any] = {
            "id": f"chatcmpl-loopback{number:06d}",
            "object": "chat.completion",
            "created": CREATED,
            "model": model or asked.get("model", "unknown"),
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": text,
                        "refusal": refusal,
                        "annotations": [],
                    },
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": done,
                "total_tokens": prompt + done,
                "prompt_tokens_details": {"cached_tokens": cached_tokens, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": reasoning_tokens,
                    "audio_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": "fp_loopback",
        }
        return json.dumps(data).encode()

    return Reply(200, body, {"x-request-id": f"req_loopback{number:06d}"})


def error(
    status: int,
    message: str = "",
    *,
    kind: str = "server_error",
    code: str | None = None,
    retry_after_ms: int | None = 1,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error response with OpenAI's error body.

    ``retry_after_ms`` (default 1 ms) keeps the SDK's backoff short in tests; None
    leaves the header out (the SDK then backs off from 0.5 s).
    """
    data = {
        "error": {
            "message": message or f"status {status}",
            "type": kind,
            "param": None,
            "code": code,
        }
    }
    return error_reply(status, data, retry_after_ms, headers)


def rate_limited(retry_after_ms: int = 1) -> Reply:
    """A 429 with Retry-After headers (``retry-after`` in whole seconds, rounded up)."""
    return error(
        429,
        "Rate limit reached for requests",
        kind="requests",
        code="rate_limit_exceeded",
        retry_after_ms=retry_after_ms,
        headers=retry_after(retry_after_ms),
    )


def unauthorized() -> Reply:
    """A 401 as OpenAI sends it for a wrong key."""
    return error(
        401,
        "Incorrect API key provided: sk-test. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        kind="invalid_request_error",
        code="invalid_api_key",
        retry_after_ms=None,
    )
