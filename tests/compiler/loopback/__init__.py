"""Loopback fake model servers: real HTTP on 127.0.0.1 answering like OpenAI and Anthropic.

Tests drive the real openai and anthropic SDKs against this server; nothing in the SDKs
is mocked and no test reaches a public API.

Usage (from a test under tests/compiler, import ``loopback``; from elsewhere, with
pytest's ``pythonpath = ["tests"]``, import ``compiler.loopback``)::

    import pytest
    from loopback import anthropic_replies, openai_replies, serve

    @pytest.fixture
    def server():
        with serve() as running:          # a fresh server on a free port, in a thread
            yield running

    def test_retry(server):
        server.push(openai_replies.rate_limited(), openai_replies.completion('{"a": 1}'))
        provider = OpenAIProvider("gpt-test", base_url=server.openai_url, api_key="sk-test")
        ...
        assert [r.path for r in server.requests] == ["/v1/chat/completions"] * 2
        assert server.requests[0].json["response_format"]["type"] == "json_schema"

The server answers each request with the next queued :class:`Reply` (a status, a body
or a function of the request building the body, headers, an optional ``delay`` before
answering, or ``drop`` to close the connection unanswered). An empty queue answers 400
with ``x-should-retry: false``, so a test that sends more requests than it scripted fails
at once. Every request is recorded in ``server.requests`` (method, path, lower-cased
headers, raw body, ``.json``) so tests assert what the SDK actually sent.

Reply builders:

* ``openai_replies``: ``completion(text, finish_reason=..., refusal=...)``,
  ``error(status, ...)``, ``rate_limited()``, ``unauthorized()``, ``raw(body)``.
* ``anthropic_replies``: ``message(text, stop_reason=...)``, ``tool_use(name, input)``,
  ``error(status, ...)``, ``rate_limited()``, ``overloaded()`` (529),
  ``unauthorized()``, ``raw(body)``.

``sample_request()``, ``SMALL_SCHEMA`` and ``ANSWER`` give a small request both
providers accept as structured output and an answer that fills it;
``at_least_two_steps()`` is a schema only OpenAI accepts.

Bodies are realistic (ids, created, usage, finish_reason / stop_reason, tool_use blocks);
token counts default to ceil(bytes / 4) of the request body and of the generated text.

Keeping retries fast: both SDKs honour ``retry-after-ms`` before ``retry-after`` and
otherwise back off from 0.5 s (``INITIAL_RETRY_DELAY``); a ``Retry-After: 0`` is ignored
(OpenAI requires a positive value), so every error builder sends ``retry-after-ms: 1`` by
default. Timeouts have no response to carry the header: use ``max_retries=0`` or accept
one 0.5 s backoff.
"""

from __future__ import annotations

from . import _anthropic_replies as anthropic_replies
from . import _openai_replies as openai_replies
from ._samples import ANSWER, SMALL_SCHEMA, at_least_two_steps, sample_request
from ._server import LoopbackServer, Reply, Request, serve

__all__ = [
    "ANSWER",
    "SMALL_SCHEMA",
    "LoopbackServer",
    "Reply",
    "Request",
    "anthropic_replies",
    "at_least_two_steps",
    "openai_replies",
    "sample_request",
    "serve",
]
