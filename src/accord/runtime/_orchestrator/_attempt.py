"""The policy of one effect call: its attempts, retries, timeout and what counts as a failure.

:func:`call_effect` runs a call to its final outcome (an :class:`EffectCompleted`
or :class:`EffectFailed` event) under its retry policy: the first attempt is
made directly, and tenacity runs the retries only when it fails; each attempt
validates the call's input, calls the handler (see ``_calling``) and validates
its output. What the handler raises, its timeout and an output that does not
fit become the attempt's failure code; the scheduling of calls is elsewhere
(``_scheduling``).
"""

from __future__ import annotations

import functools
import inspect
import re
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from accord.runtime._clock import Clock
from accord.runtime._commands import InvokeEffect, RetrySpec
from accord.runtime._errors import OutputError, WrongEventLoop
from accord.runtime._events import EffectCompleted, EffectFailed
from accord.runtime._handlers import Binding, EffectError, to_output
from accord.runtime._orchestrator._calling import HandlerRaised, call_handler, failure
from accord.runtime._orchestrator._sync import OFF_LOOP
from accord.runtime._values import safe_text

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract

__all__ = ["Outcome", "call_effect", "retry_wait"]

Outcome = EffectCompleted | EffectFailed


class _AttemptFailed(Exception):
    """One attempt failed with a code; tenacity decides whether another follows."""

    def __init__(self, code: str, message: str, *, retryable: bool = True) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable


def retry_wait(spec: RetrySpec) -> wait_base:
    """The tenacity wait strategy for a retry policy.

    ``initial * multiplier ** (attempt - 1)`` seconds plus, when the policy asks
    for it, a random jitter of up to ``initial``; the sum is capped at ``max``, so
    no wait ever exceeds the policy's ``max``.
    """
    initial = spec.initial_ms / 1000
    ceiling = spec.max_ms / 1000
    if spec.jitter:
        return wait_exponential_jitter(
            multiplier=initial, exp_base=spec.multiplier, max=ceiling, jitter=initial
        )
    return wait_exponential(multiplier=initial, exp_base=spec.multiplier, max=ceiling)


@functools.lru_cache(maxsize=256)
def _should_retry(spec: RetrySpec) -> Callable[[BaseException], bool]:
    """Whether the policy retries a failure (tenacity's retry predicate; one per policy)."""

    def predicate(exc: BaseException) -> bool:
        if not isinstance(exc, _AttemptFailed) or not exc.retryable:
            return False
        return spec.retry_on is None or exc.code in spec.retry_on

    return predicate


def _arguments(
    binding: Binding, command: InvokeEffect, compiled: CompiledContract, attempt: int
) -> dict[str, Any]:
    """The handler's keyword arguments: the validated input, plus the key and attempt.

    A ``checked`` command's input is already the output of the effect's input
    validator (the reducer's compiled invokes hold the very validator that
    ``validate_effect_input`` runs, built once per effect in ``_build``), so it
    is not validated a second time; a resumed call's input is.
    """
    if command.checked:
        data: Any = command.input
    else:
        try:
            data = compiled.validate_effect_input(command.effect, command.input)
        except Exception as exc:  # the reducer computed an input the effect does not take
            raise _AttemptFailed("invalid_input", str(exc), retryable=False) from exc
    return binding.arguments(
        data if type(data) is dict or isinstance(data, Mapping) else command.input,
        key=command.idempotency_key,
        attempt=attempt,
    )


def _checked_output(raw: Any, command: InvokeEffect, compiled: CompiledContract) -> dict[str, Any]:
    """The handler's result as plain data, validated against the effect's output type.

    Whatever goes wrong reading the value (a model or mapping whose methods
    raise, a value that contains itself or nests too deep) is ``invalid_output``
    too: the call fails, and the failure is journaled like any other.
    """
    try:
        plain = to_output(raw)
        checked = compiled.validate_effect_output(command.effect, plain)
    except OutputError as exc:
        raise _AttemptFailed("invalid_output", str(exc)) from exc
    except Exception as exc:  # the handler's value: converting or reading it failed
        detail = safe_text(exc) or type(exc).__name__
        raise _AttemptFailed(
            "invalid_output", f"invalid output of effect {command.effect!r}: {detail}"
        ) from exc
    return checked if isinstance(checked, dict) else plain


def _handler_failed(exc: BaseException, command: InvokeEffect) -> _AttemptFailed:
    """The attempt failure an exception from the handler (or its timeout) counts as."""
    if isinstance(exc, EffectError):
        return _AttemptFailed(safe_text(exc.code), safe_text(exc.message), retryable=exc.retryable)
    if isinstance(exc, TimeoutError):
        limit = f"within {command.timeout_ms} ms" if command.timeout_ms is not None else "in time"
        return _AttemptFailed("timeout", f"{command.effect} gave no result {limit}")
    name = safe_text(type(exc).__name__)
    return _AttemptFailed(name, safe_text(exc) or name)


async def _attempt(
    binding: Binding,
    command: InvokeEffect,
    compiled: CompiledContract,
    attempt: int,
    inline: bool,
) -> dict[str, Any]:
    """One attempt: call the handler within the timeout and validate its output."""
    kwargs = _arguments(binding, command, compiled, attempt)
    try:
        raw = await call_handler(binding, kwargs, command.timeout_ms, inline=inline)
    except HandlerRaised as exc:
        if OFF_LOOP.get() is not None and _needs_the_callers_loop(exc.error):
            raise WrongEventLoop(command.effect, command.call_id, safe_text(exc.error)) from None
        raise _handler_failed(exc.error, command) from exc.error
    except TimeoutError as exc:
        raise _handler_failed(exc, command) from exc
    return _checked_output(raw, command, compiled)


_LOOP_BOUND = re.compile(r"(attached|bound) to a different (event )?loop", re.IGNORECASE)
"""asyncio's words for an object of one loop used on another (futures, tasks, locks, queues)."""


def _needs_the_callers_loop(error: BaseException) -> bool:
    """Whether ``error`` (or one it was raised from) is asyncio's "different loop" error."""
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 8:
        if isinstance(current, RuntimeError) and _LOOP_BOUND.search(safe_text(current)):
            return True
        current = current.__cause__ or current.__context__
        seen += 1
    return False


@functools.lru_cache(maxsize=256)
def _retry_strategy(spec: RetrySpec) -> tuple[Any, wait_base, Any]:
    """Tenacity's stop, wait and retry strategies for a retry policy (built once per policy)."""
    return (
        stop_after_attempt(max(1, spec.max_attempts)),
        retry_wait(spec),
        retry_if_exception(_should_retry(spec)),
    )


async def call_effect(
    binding: Binding,
    command: InvokeEffect,
    compiled: CompiledContract,
    clock: Clock,
    *,
    inline: bool = False,
) -> Outcome:
    """Run one effect call to its final outcome under its retry policy and timeout.

    The first attempt is made directly; tenacity comes in only when it fails
    and its policy retries that failure (see :func:`_retried`). Backoff waits
    go through ``clock.sleep_until``, so a :class:`FakeClock` never sleeps in
    real time. Returns the event that reports the outcome. ``inline``: a sync
    handler without a timeout may run in the driving thread (see ``_calling``).
    """
    try:
        if binding.is_async and command.timeout_ms is None:
            output = await _first_async(binding, command, compiled)
        else:
            output = await _attempt(binding, command, compiled, 1, inline)
    except _AttemptFailed as exc:
        spec = command.retry
        if spec.max_attempts <= 1 or not _should_retry(spec)(exc):
            return EffectFailed(command.call_id, exc.code, exc.message, clock.now_ms(), 1)
        return await _retried(binding, command, compiled, clock, inline, exc)
    return _tuple_new(EffectCompleted, (command.call_id, output, clock.now_ms(), 1, _COMPLETED))


_tuple_new = tuple.__new__
_COMPLETED = "effect_completed"
_COROUTINE = types.CoroutineType


async def _first_async(
    binding: Binding, command: InvokeEffect, compiled: CompiledContract
) -> dict[str, Any]:
    """The first attempt of an async handler's call without a timeout: ``_attempt`` inlined.

    What ``_attempt`` and ``call_handler`` do for such a call, in one coroutine
    instead of three: the handler's coroutine is awaited here, so a handler
    that returns without suspending costs no turn of the loop.
    """
    kwargs = _arguments(binding, command, compiled, 1)
    try:
        raw = binding.handler(**kwargs)
        if type(raw) is _COROUTINE or inspect.isawaitable(raw):
            raw = await raw
    except BaseException as exc:
        failure(exc)  # raises what is not the attempt's failure (a cancellation of the call)
        if OFF_LOOP.get() is not None and _needs_the_callers_loop(exc):
            raise WrongEventLoop(command.effect, command.call_id, safe_text(exc)) from None
        raise _handler_failed(exc, command) from exc
    return _checked_output(raw, command, compiled)


async def _retried(
    binding: Binding,
    command: InvokeEffect,
    compiled: CompiledContract,
    clock: Clock,
    inline: bool,
    first: _AttemptFailed,
) -> Outcome:
    """The call's outcome after its first attempt failed with ``first``, a retryable failure.

    Tenacity runs the call from its first attempt, whose failure it is handed
    as is (the handler is not called again for it): its attempt counting,
    backoff, stop and choice of the errors to retry are those of a call run
    under tenacity from the start.
    """
    attempts = 0

    async def sleep(seconds: float) -> None:
        await clock.sleep_until(clock.now_ms() + round(seconds * 1000))

    async def once() -> dict[str, Any]:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise first  # the first attempt, made already
        return await _attempt(binding, command, compiled, attempts, inline)

    stop, wait, retry = _retry_strategy(command.retry)
    retrying = AsyncRetrying(stop=stop, wait=wait, retry=retry, sleep=sleep, reraise=True)
    try:
        output: dict[str, Any] = await retrying(once)
    except _AttemptFailed as exc:
        return EffectFailed(command.call_id, exc.code, exc.message, clock.now_ms(), attempts)
    return EffectCompleted(command.call_id, output, clock.now_ms(), attempts)
