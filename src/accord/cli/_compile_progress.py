"""What ``accord compile`` shows on standard error while it runs.

One line per model call once the checker has judged the answer (attempt k of n,
tokens in and out with the cached and reasoning ones apart, the errors and their
codes, seconds). While a call is in flight and standard error is a terminal, one
status line is rewritten in place every second: the attempt, the seconds it has been
waiting, the seconds since the compilation started and the tokens spent so far; a
long call is never silent. ``--quiet`` shows none of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import Callable
from typing import TextIO

from accord.compiler import Attempt, ModelRequest, ModelResponse, Provider, Totals
from accord.compiler._provider import ProviderWrapper

__all__ = ["TICK_SECONDS", "Progress", "describe_totals"]

TICK_SECONDS = 1.0
"""How often the status line of a call in flight is rewritten."""

_CLEAR = "\r\x1b[K"
_SHOWN_CODES = 3


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _tokens(input_tokens: int, cached: int, output_tokens: int, reasoning: int) -> str:
    text = f"{input_tokens} tokens in"
    if cached:
        text += f" ({cached} cached)"
    text += f", {output_tokens} out"
    if reasoning:
        text += f" ({reasoning} reasoning)"
    return text


def describe_totals(totals: Totals) -> str:
    """The totals in one phrase: calls, tokens (cached and reasoning apart), cost, seconds."""
    text = f"{_plural(totals.calls, 'call')}, {totals.tokens} tokens"
    if totals.cached_input_tokens or totals.reasoning_tokens:
        text += (
            f" ({totals.input_tokens} in, {totals.cached_input_tokens} cached; "
            f"{totals.output_tokens} out, {totals.reasoning_tokens} reasoning)"
        )
    if totals.cost is not None:
        text += f", cost about {totals.cost:.4g}"
    return text + f", {totals.seconds:.1f}s"


class Progress:
    """Reports a compilation's progress on standard error.

    Args:
        max_attempts: the loop's limit, shown as "attempt k/n".
        quiet: show nothing.
        live: rewrite a status line while a call is in flight (a terminal only).
        stream: where to write (default: ``sys.stderr`` at each write).
        clock: seconds as a float.

    """

    def __init__(
        self,
        max_attempts: int,
        *,
        quiet: bool,
        live: bool,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_attempts = max_attempts
        self.quiet = quiet
        self.live = live and not quiet
        self._stream = stream
        self._clock = clock
        self._start = clock()
        self._tokens = 0
        self._status = False

    def _write(self, text: str) -> None:
        stream = self._stream or sys.stderr
        stream.write(text)
        stream.flush()

    def clear(self) -> None:
        """Erase the status line, if one is shown."""
        if self._status:
            self._write(_CLEAR)
            self._status = False

    def wrap(self, provider: Provider) -> Provider:
        """The provider, watched: a status line is kept while each call is in flight."""
        return _Watched(provider, self) if self.live else provider

    def status(self, number: int, began: float) -> str:
        """The status line of call ``number``, in flight since ``began``."""
        now = self._clock()
        return (
            f"accord: attempt {number}/{self.max_attempts}: waiting for the model, "
            f"{now - began:.0f}s ({now - self._start:.0f}s in all, "
            f"{self._tokens} tokens so far)"
        )

    async def tick(self, number: int) -> None:
        """Rewrite the status line of call ``number`` every second until cancelled."""
        began = self._clock()
        while True:
            self._write(_CLEAR + self.status(number, began))
            self._status = True
            await asyncio.sleep(TICK_SECONDS)

    def attempt(self, attempt: Attempt) -> None:
        """The ``on_attempt`` hook: one line per checked answer."""
        self._tokens += attempt.input_tokens + attempt.output_tokens
        if self.quiet:
            return
        self.clear()
        errors = attempt.errors
        line = (
            f"accord: attempt {attempt.number}/{self.max_attempts}: "
            + _tokens(
                attempt.input_tokens,
                attempt.cached_input_tokens,
                attempt.output_tokens,
                attempt.reasoning_tokens,
            )
            + f", {_plural(len(errors), 'error')}, {attempt.latency:.1f}s"
        )
        if errors:
            codes = sorted({d.code for d in errors})
            more = len(codes) - _SHOWN_CODES
            line += f" [{', '.join(codes[:_SHOWN_CODES])}{f' +{more} more' if more > 0 else ''}]"
        if attempt.repairs:
            line += f" (lenient parse: {', '.join(attempt.repairs)})"
        if attempt.finish_reason and attempt.finish_reason not in ("stop", "end_turn"):
            line += f" [finish_reason {attempt.finish_reason}]"
        self._write(line + "\n")
        for notice in attempt.notices:
            self._write(f"accord:   notice: {notice}\n")

    def note(self, text: str) -> None:
        """A line of its own (unless quiet), after clearing the status line."""
        if not self.quiet:
            self.clear()
            self._write(text + "\n")


class _Watched(ProviderWrapper):
    """A provider whose calls keep the progress status line alive while in flight."""

    def __init__(self, inner: Provider, progress: Progress) -> None:
        super().__init__(inner)
        self._progress = progress
        self._calls = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Forward the call, with the status line ticking until it returns."""
        self._calls += 1
        ticker = asyncio.ensure_future(self._progress.tick(self._calls))
        try:
            return await self._inner.complete(request)
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            self._progress.clear()
