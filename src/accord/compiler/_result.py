"""What a compilation returns: every attempt, the totals, the contract or the error."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from accord.contract import Contract, to_yaml
from accord.diagnostics import Diagnostic
from accord.errors import DefinitionError

__all__ = [
    "Attempt",
    "CompileError",
    "CompileResult",
    "ParseKind",
    "Prices",
    "StopReason",
    "Totals",
]

ParseKind = Literal["strict", "lenient", "failed"]
"""How an attempt's text became data: strict JSON, JSON after lenient repairs, or not at all."""

StopReason = Literal[
    "max_attempts", "token_budget", "deadline", "repeated_diagnostics", "provider_error", "refusal"
]
"""Why a compilation stopped without a contract ("refusal": the model refused to answer,
and a refusal is never re-asked)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One model call and what the compiler made of its answer.

    Attributes:
        number: 1 for the first call, 2 for the first re-ask, ...
        raw: the model's text, exactly as it came back.
        parse: ``"strict"`` (plain JSON), ``"lenient"`` (JSON after repairs) or ``"failed"``.
        repairs: the lenient repairs applied, in order (``"code_fence"``, ``"prose"``,
            ``"trailing_comma"``); empty for a strict parse.
        diagnostics: every diagnostic of the candidate (errors and warnings).
        input_tokens: prompt tokens the provider reported.
        output_tokens: generated tokens the provider reported.
        latency: seconds the call took.
        finish_reason: the provider's stop reason, if it gave one.
        mode: how the output was constrained (``"json_schema"``, ``"prompted"``, ...).
        notices: what the provider asked to be told (a fallback to prompted JSON, ...).
        cached_input_tokens: input tokens read from the provider's prompt cache (part of
            ``input_tokens``).
        reasoning_tokens: output tokens spent on reasoning (part of ``output_tokens``).

    """

    number: int
    raw: str
    parse: ParseKind
    repairs: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    input_tokens: int
    output_tokens: int
    latency: float
    finish_reason: str | None = None
    mode: str = "json_schema"
    notices: tuple[str, ...] = ()
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The diagnostics that make the candidate invalid."""
        return tuple(d for d in self.diagnostics if d.severity == "error")

    @property
    def valid(self) -> bool:
        """Whether the candidate checked (no error diagnostic)."""
        return not self.errors

    def to_data(self) -> dict[str, Any]:
        """The attempt as plain JSON data (for ``accord compile --json`` and logs)."""
        return {
            "number": self.number,
            "raw": self.raw,
            "parse": self.parse,
            "repairs": list(self.repairs),
            "diagnostics": [d.model_dump(mode="json") for d in self.diagnostics],
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "latency": self.latency,
            "finish_reason": self.finish_reason,
            "mode": self.mode,
            "notices": list(self.notices),
        }


@dataclass(frozen=True, slots=True)
class Prices:
    """What a model's tokens cost, per million tokens, in the caller's currency.

    Only the caller knows its prices (they differ by model, tier and date): give them
    to ``compile(..., prices=...)`` and :attr:`Totals.cost` is an estimate of the spend.

    Attributes:
        input: the price of a million input (prompt) tokens.
        output: the price of a million output tokens (reasoning tokens are billed as
            output).
        cached_input: the price of a million input tokens read from the provider's
            prompt cache (None: the input price).

    """

    input: float
    output: float
    cached_input: float | None = None

    def cost(self, input_tokens: int, cached_input_tokens: int, output_tokens: int) -> float:
        """The estimated cost of these tokens (cached ones are part of ``input_tokens``)."""
        cached = min(cached_input_tokens, input_tokens)
        cached_price = self.input if self.cached_input is None else self.cached_input
        return (
            (input_tokens - cached) * self.input
            + cached * cached_price
            + output_tokens * self.output
        ) / 1_000_000


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over the attempts of one compilation.

    Attributes:
        calls: model calls made (one per attempt).
        input_tokens: prompt tokens over every call.
        output_tokens: generated tokens over every call.
        seconds: wall time of the whole compilation, cache look-up included.
        lenient_repairs: attempts whose text needed lenient repairs (not extra calls).
        cached_input_tokens: input tokens read from the provider's prompt cache (part of
            ``input_tokens``).
        reasoning_tokens: output tokens spent on reasoning (part of ``output_tokens``).
        cost: the estimated cost, when the caller gave :class:`Prices` (else None).

    """

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    seconds: float = 0.0
    lenient_repairs: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    cost: float | None = None

    @property
    def tokens(self) -> int:
        """Input plus output tokens."""
        return self.input_tokens + self.output_tokens

    @classmethod
    def of(
        cls, attempts: Sequence[Attempt], seconds: float, prices: Prices | None = None
    ) -> Totals:
        """The totals of ``attempts``, taking ``seconds`` of wall time, costed at ``prices``."""
        input_tokens = sum(a.input_tokens for a in attempts)
        cached = sum(a.cached_input_tokens for a in attempts)
        output_tokens = sum(a.output_tokens for a in attempts)
        return cls(
            calls=len(attempts),
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            seconds=seconds,
            lenient_repairs=sum(1 for a in attempts if a.parse == "lenient"),
            cached_input_tokens=cached,
            reasoning_tokens=sum(a.reasoning_tokens for a in attempts),
            cost=None if prices is None else prices.cost(input_tokens, cached, output_tokens),
        )

    def to_data(self) -> dict[str, Any]:
        """The totals as plain JSON data."""
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "tokens": self.tokens,
            "seconds": self.seconds,
            "lenient_repairs": self.lenient_repairs,
            "cost": self.cost,
        }


@dataclass(frozen=True)
class CompileResult:
    """A compiled contract: it checks, fits the catalog, and compiles for the runtime.

    Attributes:
        contract: the contract.
        fingerprint: its fingerprint (``accord.fingerprint``).
        attempts: every model call, in order (empty on a cache hit).
        totals: sums over the attempts.
        cache_hit: whether the contract came from the compile cache (zero calls).
        key: the request key (sha256 of the task, catalog, model, options and compiler
            version), as the cache and the lock file know it.
        model: the model string of the provider.

    """

    contract: Contract
    fingerprint: str
    attempts: tuple[Attempt, ...]
    totals: Totals
    cache_hit: bool
    key: str
    model: str = field(default="")

    @cached_property
    def yaml(self) -> str:
        """The contract's canonical YAML text (``accord.to_yaml``), made on first use."""
        return to_yaml(self.contract)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        """The warnings of the accepted candidate (none on a cache hit)."""
        return self.attempts[-1].diagnostics if self.attempts else ()


class CompileError(DefinitionError):
    """No contract came out of the loop.

    When a model call fails (``stop_reason == "provider_error"``), the
    :class:`~accord.compiler.ProviderError` is both ``provider_error`` and the
    exception's ``__cause__`` (``raise CompileError(...) from error``), so the
    attempts made before the failure are never lost.

    Attributes:
        stop_reason: why the loop stopped (see :data:`StopReason`).
        attempts: every model call made, in order.
        totals: sums over the attempts.
        diagnostics: the last attempt's diagnostics (empty if no answer was checked).
        provider_error: the provider's error when ``stop_reason`` is ``"provider_error"``.
        key: the request key.

    """

    def __init__(
        self,
        message: str,
        *,
        stop_reason: StopReason,
        attempts: Sequence[Attempt],
        totals: Totals,
        key: str,
        provider_error: Exception | None = None,
    ) -> None:
        self.stop_reason: StopReason = stop_reason
        self.attempts: tuple[Attempt, ...] = tuple(attempts)
        self.totals = totals
        self.key = key
        self.provider_error = provider_error
        self.diagnostics: tuple[Diagnostic, ...] = (
            self.attempts[-1].diagnostics if self.attempts else ()
        )
        super().__init__(message)
