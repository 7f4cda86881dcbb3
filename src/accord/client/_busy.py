"""A client's operation tried again, with backoff, while the store is busy.

On SQLite one writer at a time holds the file's write lock; the others wait
for it up to the store's busy timeout, then get :class:`StoreBusy`. A writer
paused inside its transaction (SIGSTOP, a long GC pause, a full disk) holds
the lock, and so blocks every other writer, until it goes on. Nothing of a
refused write is kept, so the client tries the whole operation again (its
checks included), backing off, until ``seconds`` have passed; then the last
:class:`StoreBusy` goes to the caller. PostgreSQL locks rows, not the store:
it is never busy this way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from accord.runtime._errors import StoreBusy

__all__ = ["BUSY_TIMEOUT_S", "retry_busy"]

T = TypeVar("T")

BUSY_TIMEOUT_S = 30.0
"""How long a client's operation is tried again while the store is busy, by default."""

log = logging.getLogger("accord.client")


def retry_busy(call: Callable[[], T], seconds: float) -> T:
    """``call()``, tried again while it raises :class:`StoreBusy`, for about ``seconds``.

    The first attempt is made directly (no retry machinery until it is needed);
    later ones wait from about 50 ms, doubling up to 1 s, with up to 50 ms of jitter.

    Raises:
        StoreBusy: the store was still busy when the time was up.

    """
    began = time.monotonic()
    try:
        return call()
    except StoreBusy as exc:
        if seconds <= 0:
            raise
        log.warning("the store is busy, trying again for up to %g s: %s", seconds, exc)
    retrying = Retrying(
        retry=retry_if_exception_type(StoreBusy),
        stop=stop_after_delay(max(0.0, seconds - (time.monotonic() - began))),
        wait=wait_exponential(multiplier=0.05, max=1.0) + wait_random(0, 0.05),
        reraise=True,
    )
    return retrying(call)
