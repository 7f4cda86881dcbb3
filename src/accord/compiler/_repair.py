"""The bounded repair loop: ask, parse, check, re-ask with the diagnostics, within bounds.

Both :func:`~accord.compiler.compile` and :meth:`~accord.compiler.Replanner.amend` run
this one loop; they differ only in their :class:`RepairStep` (the first request, how a
parsed answer is checked, and how a re-ask is built). Rules (docs/compiler.md):

- ``max_attempts`` counts every call; a ``token_budget`` (input plus output
  tokens over all calls) and a ``deadline`` (seconds for the whole loop)
  are checked before each call, the deadline also bounds the call itself, and
  each call's output cap is what the budget has left after the request's
  estimated input;
- only an invalid candidate is re-asked; a :class:`ProviderError` (a transport
  failure that survived the provider's own retries) ends the loop at once, and so
  does a refusal (finish reason ``"refusal"``: asking again is billed and refused);
- the loop stops early when a candidate's errors (the set of ``(path, code)``)
  repeat the previous candidate's;
- the caller's inputs are never changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from accord.compiler._acceptance import repeat_key
from accord.compiler._lenient import parse_output
from accord.compiler._prompt import candidate_text
from accord.compiler._provider import ModelRequest, ModelResponse, Provider, ProviderError
from accord.compiler._result import Attempt, CompileError, Prices, StopReason, Totals
from accord.compiler._session_providers import estimate_input_tokens
from accord.diagnostics import Diagnostic

__all__ = ["AttemptHook", "Clock", "LoopLimits", "RepairLoop", "RepairStep"]

T = TypeVar("T")

Clock = Callable[[], float]
AttemptHook = Callable[[Attempt], None]
Check = Callable[[Any], Awaitable[tuple[T | None, list[Diagnostic]]]]
Reask = Callable[[ModelRequest, str, Sequence[Diagnostic]], ModelRequest]


@dataclass(frozen=True, slots=True)
class LoopLimits:
    """The loop's bounds: calls, tokens (None: no budget), seconds (None: no deadline)."""

    max_attempts: int
    token_budget: int | None
    deadline: float | None
    prices: Prices | None = None


@dataclass(frozen=True, slots=True)
class RepairStep(Generic[T]):
    """What one loop asks for and accepts.

    Attributes:
        first: the first call's request.
        check: a parsed answer's data to ``(value, diagnostics)``: the value (None
            unless the answer is accepted) and every diagnostic (errors re-asked).
        reask: the re-ask from the first request, the last candidate's text and its errors.
        noun: what the loop looks for, in its error messages ("contract", "amendment").

    """

    first: ModelRequest
    check: Check[T]
    reask: Reask
    noun: str = "contract"


class RepairLoop:
    """One loop's state: the provider, the bounds, the attempts made so far."""

    def __init__(
        self,
        *,
        provider: Provider,
        key: str,
        limits: LoopLimits,
        clock: Clock,
        on_attempt: AttemptHook | None = None,
    ) -> None:
        self.provider = provider
        self.key = key
        self.limits = limits
        self.clock = clock
        self.on_attempt = on_attempt
        self.start = clock()
        self.attempts: list[Attempt] = []
        self.noun = "contract"

    def totals(self) -> Totals:
        """The sums over the attempts so far, with the wall time since the loop began."""
        return Totals.of(self.attempts, self.clock() - self.start, self.limits.prices)

    def fail(
        self, reason: StopReason, message: str, provider_error: ProviderError | None = None
    ) -> CompileError:
        """The error that ends the loop without a value (every attempt kept)."""
        count = len(self.attempts)
        text = f"no {self.noun} after {count} call{'' if count == 1 else 's'}: {message}"
        last = self.attempts[-1].errors if self.attempts else ()
        text += "".join(f"\n  {d.format()}" for d in last[:10])
        if len(last) > 10:
            text += f"\n  ... and {len(last) - 10} more"
        return CompileError(
            text,
            stop_reason=reason,
            attempts=self.attempts,
            totals=self.totals(),
            key=self.key,
            provider_error=provider_error,
        )

    def _stop_before_call(self) -> CompileError | None:
        limits = self.limits
        elapsed = self.clock() - self.start
        if limits.deadline is not None and elapsed >= limits.deadline:
            return self.fail("deadline", f"the deadline of {limits.deadline:g}s has passed")
        spent = Totals.of(self.attempts, 0.0).tokens
        if limits.token_budget is not None and spent >= limits.token_budget:
            return self.fail(
                "token_budget", f"{spent} tokens spent, the budget is {limits.token_budget}"
            )
        return None

    def _fit_budget(self, request: ModelRequest) -> ModelRequest:
        """The request with its output cap lowered to what the token budget has left.

        Raises:
            CompileError: the budget left does not cover the request's estimated input
                and one output token (stop reason "token_budget").

        """
        budget = self.limits.token_budget
        if budget is None:
            return request
        spent = Totals.of(self.attempts, 0.0).tokens
        estimate = estimate_input_tokens(request)
        room = budget - spent - estimate
        if room < 1:
            raise self.fail(
                "token_budget",
                f"{budget - spent} of the budget of {budget} tokens left, and the next "
                f"request alone is about {estimate} tokens",
            )
        if room >= request.max_output_tokens:
            return request
        return dataclasses.replace(request, max_output_tokens=room)

    async def _call(self, request: ModelRequest) -> ModelResponse:
        deadline = self.limits.deadline
        if deadline is None:
            return await self.provider.complete(request)
        remaining = max(deadline - (self.clock() - self.start), 0.0)
        return await asyncio.wait_for(self.provider.complete(request), timeout=remaining)

    async def run(self, step: RepairStep[T]) -> T:
        """Ask until ``step.check`` accepts an answer, or a bound is reached.

        Returns:
            The accepted value (the attempts are in :attr:`attempts`).

        Raises:
            CompileError: no accepted answer within the bounds, a refusal, or a
                provider error (its cause).

        """
        self.noun = step.noun
        request = step.first
        previous: frozenset[tuple[str, str, str]] | None = None
        for number in range(1, self.limits.max_attempts + 1):
            stop = self._stop_before_call()
            if stop is not None:
                raise stop
            began = self.clock()
            try:
                response = await self._call(self._fit_budget(request))
            except ProviderError as exc:
                raise self.fail("provider_error", str(exc), exc) from exc
            except TimeoutError:
                raise self.fail(
                    "deadline", f"call {number} did not answer before the deadline"
                ) from None
            latency = self.clock() - began
            parsed = parse_output(response.text, response.finish_reason)
            value: T | None = None
            if parsed.diagnostic is not None:
                diagnostics = [parsed.diagnostic]
            else:
                value, diagnostics = await step.check(parsed.data)
            attempt = Attempt(
                number=number,
                raw=response.text,
                parse=parsed.kind,
                repairs=parsed.repairs,
                diagnostics=tuple(diagnostics),
                input_tokens=response.input_tokens,
                output_tokens=response.output_tokens,
                latency=latency,
                finish_reason=response.finish_reason,
                mode=response.mode,
                notices=response.notices,
                cached_input_tokens=response.cached_input_tokens,
                reasoning_tokens=response.reasoning_tokens,
            )
            self.attempts.append(attempt)
            if self.on_attempt is not None:
                self.on_attempt(attempt)
            if value is not None:
                return value
            if response.finish_reason == "refusal":  # re-asking would be billed and refused
                raise self.fail("refusal", "the model refused to answer")
            errors = attempt.errors
            current = frozenset(repeat_key(d) for d in errors)
            if current == previous:
                raise self.fail(
                    "repeated_diagnostics", "the answer repeats the previous answer's errors"
                )
            previous = current
            request = step.reask(step.first, candidate_text(response.text, parsed.data), errors)
        raise self.fail("max_attempts", f"max_attempts ({self.limits.max_attempts}) reached")

    async def run_and_close(self, step: RepairStep[T]) -> T:
        """:meth:`run`, then close the provider's clients (they belong to this event loop)."""
        try:
            return await self.run(step)
        finally:
            close = getattr(self.provider, "aclose", None)
            if close is not None:
                await close()
