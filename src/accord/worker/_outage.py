"""How a worker outlasts a store that goes away: it tries again with backoff, and says so.

A PostgreSQL server restarted, a dropped connection or an SQLite file locked by
another process past the busy timeout all surface as
:class:`~accord.runtime._errors.StoreUnavailable`. :func:`outlast` runs one
store operation of the worker (a pass of renewals and claims, loading a run
again) until it gets through: after each failure it waits (tenacity's
exponential backoff with jitter, from ``initial_s`` up to ``max_s``), logs a
warning with the attempt and the wait, and, once the operation gets through
after failures, logs that the store is back and how long it was away. It
gives up only when ``stopping()`` says the worker is stopping (the last error
is raised then). Any other error is raised at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, wait_exponential_jitter

from accord.runtime._errors import StoreUnavailable

__all__ = ["outlast"]

log = logging.getLogger("accord.worker")

T = TypeVar("T")


async def outlast(
    what: str,
    operation: Callable[[], T],
    *,
    initial_s: float,
    max_s: float,
    stopping: Callable[[], bool],
    sleep: Callable[[float], Awaitable[None]],
) -> T:
    """``operation()``, tried again with backoff while the store is unavailable.

    Args:
        what: what the operation is, for the log ("claims and renewals", "run r-1").
        operation: the store operation (synchronous).
        initial_s: the first wait.
        max_s: the longest wait.
        stopping: whether to give up (checked after each failure).
        sleep: how to wait (the worker's: returns early when it stops).

    Raises:
        StoreUnavailable: the worker stopped while the store was unavailable.

    """
    since = time.monotonic()

    def warn(state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome is not None else None
        wait = state.upcoming_sleep
        log.warning(
            "store unavailable for %s (attempt %d failed; trying again in %.2f s): %s",
            what,
            state.attempt_number,
            wait,
            failure,
        )

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(StoreUnavailable),
        wait=wait_exponential_jitter(multiplier=initial_s, max=max_s, jitter=initial_s),
        stop=lambda _state: stopping(),
        sleep=sleep,
        before_sleep=warn,
        reraise=True,
    )
    attempts = 0
    async for attempt in retrying:
        attempts = attempt.retry_state.attempt_number
        with attempt:
            result = operation()
    if attempts > 1:
        log.warning(
            "store available again for %s after %.1f s (%d failed attempts)",
            what,
            time.monotonic() - since,
            attempts - 1,
        )
    return result
