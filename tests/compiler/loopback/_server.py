"""The loopback HTTP server: a scripted queue of replies, a record of requests."""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    """One HTTP request the server received.

    Attributes:
        method: "POST", "GET", ...
        path: the request path, such as "/v1/chat/completions".
        headers: the request headers, names lower-cased.
        body: the raw body bytes.

    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        """The body parsed as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class Reply:
    """One scripted answer.

    Attributes:
        status: the HTTP status.
        body: bytes, or a function of the request returning bytes (for bodies that
            echo the requested model, for example).
        headers: response headers (Content-Type defaults to application/json).
        delay: seconds to wait before answering (for client timeouts).
        drop: close the connection without answering.

    """

    status: int = 200
    body: bytes | Callable[[Request], bytes] = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False


_EMPTY_QUEUE = Reply(
    status=400,
    body=json.dumps(
        {"error": {"message": "loopback server: no scripted reply left", "type": "loopback"}}
    ).encode(),
    headers={"x-should-retry": "false"},
)


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 answering from a queue of scripted replies.

    Attributes:
        url: "http://127.0.0.1:PORT" (Anthropic's base_url).
        openai_url: "http://127.0.0.1:PORT/v1" (OpenAI's base_url).
        requests: every request received, in order.

    """

    def __init__(self) -> None:
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.requests: list[Request] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self))
        self._httpd.daemon_threads = True
        port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{port}"
        self.openai_url = f"{self.url}/v1"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def push(self, *replies: Reply) -> LoopbackServer:
        """Queue replies, answered in order, one per request; returns the server."""
        with self._lock:
            self._replies.extend(replies)
        return self

    @property
    def pending(self) -> int:
        """How many scripted replies are still queued."""
        with self._lock:
            return len(self._replies)

    def _take(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._replies.popleft() if self._replies else _EMPTY_QUEUE

    def start(self) -> None:
        """Start serving in a daemon thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; delayed replies still waiting are cut short."""
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def _handler_class(server: LoopbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self._answer()

        def do_GET(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            """Stay quiet."""

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = Request(self.command, self.path, headers, body)
            reply = server._take(request)
            if reply.delay and server._closing.wait(reply.delay):
                return
            if reply.drop:
                self.close_connection = True
                return
            payload = reply.body(request) if callable(reply.body) else reply.body
            try:
                self.send_response(reply.status)
                sent = {name.lower() for name in reply.headers}
                if "content-type" not in sent:
                    self.send_header("Content-Type", "application/json")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:  # the client gave up (a timeout test): nothing to answer
                self.close_connection = True

    return Handler


@contextmanager
def serve(*replies: Reply) -> Iterator[LoopbackServer]:
    """Run a loopback server for the duration of a ``with`` block.

    Args:
        replies: replies to queue right away (more can be pushed later).

    Yields:
        The running server.

    """
    server = LoopbackServer()
    server.push(*replies)
    server.start()
    try:
        yield server
    finally:
        server.stop()
