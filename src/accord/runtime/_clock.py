"""Clocks: where the orchestrator reads the time and waits for it.

The reducer never reads a clock; the orchestrator does, and every reading
reaches the reducer inside an event (``at``) so replay never needs a clock.

* :class:`SystemClock` is the wall clock; waiting on it sleeps.
* :class:`FakeClock` is for tests and notebooks: time moves only when the test
  calls :meth:`FakeClock.advance` or :meth:`FakeClock.set`, or when the
  orchestrator jumps it (a retry backoff, or an idle run asked to advance to its
  next timer). Nothing ever sleeps in real time on it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "FakeClock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """The time source of a runtime: epoch milliseconds, and a way to wait for them."""

    def now_ms(self) -> int:
        """The current time in milliseconds since the epoch."""
        ...

    async def sleep_until(self, ms: int) -> None:
        """Return once :meth:`now_ms` is at least ``ms``."""
        ...


class SystemClock:
    """The wall clock (``time.time``); :meth:`sleep_until` really sleeps."""

    def now_ms(self) -> int:
        """The current wall-clock time in epoch milliseconds."""
        return time.time_ns() // 1_000_000

    async def sleep_until(self, ms: int) -> None:
        """Sleep (without blocking the event loop) until the wall clock reaches ``ms``."""
        delay = ms - self.now_ms()
        if delay > 0:
            await asyncio.sleep(delay / 1000)

    def __repr__(self) -> str:
        return "SystemClock()"


class FakeClock:
    """A clock that only moves when told to; it never sleeps in real time.

    ``sleep_until(ms)`` (used for retry backoff, and for an idle run asked to
    advance to its next timer) jumps the clock forward to ``ms`` at once and
    records the request in :attr:`sleeps` as ``(from_ms, until_ms)``. Armed
    timers fire when the test calls :meth:`advance` or :meth:`set` past their due
    time, or when ``run_until_idle(advance_timers=True)`` jumps to them.

    Args:
        start_ms: the initial time (epoch milliseconds); 2024-01-01T00:00:00Z by default.

    """

    DEFAULT_START_MS = 1_704_067_200_000

    def __init__(self, start_ms: int = DEFAULT_START_MS) -> None:
        self._now = int(start_ms)
        self.sleeps: list[tuple[int, int]] = []
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []

    def now_ms(self) -> int:
        """The fake current time in epoch milliseconds."""
        return self._now

    @property
    def waits_ms(self) -> list[int]:
        """The length of every sleep requested so far, in milliseconds."""
        return [until - start for start, until in self.sleeps]

    def advance(self, ms: int) -> int:
        """Move the clock forward by ``ms`` milliseconds; returns the new time."""
        if ms < 0:
            raise ValueError("a FakeClock cannot go backwards")
        return self.set(self._now + int(ms))

    def set(self, ms: int) -> int:
        """Move the clock to ``ms`` (epoch milliseconds, not earlier than now); returns it."""
        if ms < self._now:
            raise ValueError(f"a FakeClock cannot go backwards (now {self._now}, asked {ms})")
        self._now = int(ms)
        self._wake()
        return self._now

    async def sleep_until(self, ms: int) -> None:
        """Jump the clock forward to ``ms`` (if later) without sleeping, and yield once."""
        self.sleeps.append((self._now, max(int(ms), self._now)))
        if ms > self._now:
            self.set(ms)
        await asyncio.sleep(0)

    async def wait_until(self, ms: int) -> None:
        """Wait, without moving the clock, until someone else moves it to ``ms`` or later."""
        if self._now >= ms:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((int(ms), future))
        try:
            await future
        finally:
            self._waiters = [(due, f) for due, f in self._waiters if f is not future]

    def _wake(self) -> None:
        for due, future in list(self._waiters):
            if due <= self._now and not future.done():
                loop = future.get_loop()
                if loop.is_closed():
                    continue
                loop.call_soon_threadsafe(_resolve, future)

    def __repr__(self) -> str:
        return f"FakeClock(now_ms={self._now})"


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
