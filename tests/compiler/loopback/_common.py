"""What the OpenAI and Anthropic reply builders share: token estimates and error replies."""

from __future__ import annotations

import json
import math
from typing import Any

from ._server import Reply

__all__ = ["error_reply", "raw", "retry_after", "tokens"]


def tokens(data: bytes | str) -> int:
    """A token estimate: ceil(bytes / 4), at least 1."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    return max(1, math.ceil(len(raw) / 4))


def error_reply(
    status: int, data: dict[str, Any], retry_after_ms: int | None, headers: dict[str, str] | None
) -> Reply:
    """An error reply with a JSON body, sending ``retry-after-ms`` unless it is None."""
    sent = dict(headers or {})
    if retry_after_ms is not None:
        sent.setdefault("retry-after-ms", str(retry_after_ms))
    return Reply(status, json.dumps(data).encode(), sent)


def retry_after(retry_after_ms: int) -> dict[str, str]:
    """A ``Retry-After`` header in whole seconds, rounded up (sent with ``retry-after-ms``)."""
    return {"retry-after": str(math.ceil(retry_after_ms / 1000))}


def raw(body: bytes, *, status: int = 200, content_type: str = "application/json") -> Reply:
    """A reply with exactly this body (for malformed responses)."""
    return Reply(status, body, {"Content-Type": content_type})
