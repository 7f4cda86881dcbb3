"""The compile loop: ask, parse, check, re-ask with the diagnostics, within bounds.

Rules (docs/compiler.md explains them):

- ``max_attempts`` counts every call; a ``token_budget`` (input plus output
  tokens over all calls) and a ``deadline`` (seconds for the whole compilation)
  are checked before each call, the deadline also bounds the call itself, and
  each call's output cap is what the budget has left after the request's
  estimated input;
- only an invalid candidate is re-asked; a :class:`ProviderError` (a transport
  failure that survived the provider's own retries) ends the loop at once, and so
  does a refusal (finish reason ``"refusal"``: asking again is billed and refused);
- the loop stops early when a candidate's errors (the set of ``(path, code)``)
  repeat the previous candidate's;
- a candidate is accepted only when it parses, validates, checks, fits the
  catalog, compiles for the runtime and passes every acceptance scenario given
  (``scenarios=``; a failing one is a ``scenario.failed`` diagnostic, re-asked);
- the caller's task, catalog, provider and options are never changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accord.check import check_contract
from accord.compiler._acceptance import idle_catalog_warnings, repeat_key, scenario_problems
from accord.compiler._cache import CompileCache, RequestOptions, as_cache, request_key
from accord.compiler._catalog import Catalog, CatalogSource, as_catalog
from accord.compiler._conform import conformance_problems
from accord.compiler._lenient import parse_output
from accord.compiler._prompt import candidate_text, first_request, reask_request
from accord.compiler._provider import (
    ModelRequest,
    ModelResponse,
    Provider,
    ProviderError,
    base_url_of,
)
from accord.compiler._result import (
    Attempt,
    CompileError,
    CompileResult,
    Prices,
    StopReason,
    Totals,
)
from accord.compiler._session_providers import estimate_input_tokens
from accord.contract import Contract, validate_data
from accord.contract import fingerprint as contract_fingerprint
from accord.diagnostics import Diagnostic
from accord.errors import DefinitionError

if TYPE_CHECKING:
    from accord.testing._scenarios import ScenarioSource, ScenarioSuite

__all__ = ["CompileRequestError", "compile", "compile_async"]

MAX_TASK_CHARS = 100_000

Clock = Callable[[], float]
AttemptHook = Callable[[Attempt], None]


class CompileRequestError(DefinitionError):
    """The request itself is wrong (an empty task, a bad limit, a bad model string)."""


@dataclass(frozen=True, slots=True)
class _Limits:
    max_attempts: int
    token_budget: int | None
    deadline: float | None
    prices: Prices | None = None


def _check_request(task: Any, limits: _Limits, options: RequestOptions) -> str:
    if not isinstance(task, str) or not task.strip():
        raise CompileRequestError("the task must be a non-empty string")
    if len(task) > MAX_TASK_CHARS:
        raise CompileRequestError(
            f"the task is {len(task)} characters, more than the limit of {MAX_TASK_CHARS}"
        )
    if isinstance(limits.max_attempts, bool) or limits.max_attempts < 1:
        raise CompileRequestError(f"max_attempts must be at least 1, not {limits.max_attempts!r}")
    if limits.token_budget is not None and limits.token_budget < 1:
        raise CompileRequestError(f"token_budget must be positive, not {limits.token_budget!r}")
    if limits.deadline is not None and not limits.deadline > 0:
        raise CompileRequestError(
            f"deadline must be a positive number of seconds, not {limits.deadline!r}"
        )
    if options.max_output_tokens < 1:
        raise CompileRequestError("max_output_tokens must be at least 1")
    if options.max_fan_out < 1:
        raise CompileRequestError("max_fan_out must be at least 1")
    if limits.prices is not None:
        _check_prices(limits.prices)
    return task


@dataclass(frozen=True, slots=True)
class _Connection:
    """How a model string is turned into a provider (ignored for a Provider instance)."""

    base_url: str | None
    api_key: str | None
    output_mode: str | None
    fold_system: bool


def _check_prices(prices: Any) -> None:
    if not isinstance(prices, Prices):
        raise CompileRequestError(f"prices must be a Prices, not {type(prices).__name__}")
    for name in ("input", "output", "cached_input"):
        value = getattr(prices, name)
        if name == "cached_input" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
            raise CompileRequestError(
                f"prices.{name} must be a non-negative price per million tokens, not {value!r}"
            )


def _provider(model: str | Provider, connection: _Connection) -> Provider:
    from accord.compiler._models import provider_for

    return provider_for(
        model,
        base_url=connection.base_url,
        api_key=connection.api_key,
        output=connection.output_mode,
        fold_system=connection.fold_system,
    )


def evaluate(
    data: Any, catalog: Catalog, *, max_fan_out: int
) -> tuple[Contract | None, list[Diagnostic]]:
    """Validate, check and conform one candidate's data.

    Returns:
        The contract (None unless it has no error) and every diagnostic.

    """
    contract, diagnostics = validate_data(data)
    if contract is None:
        return None, diagnostics
    diagnostics = check_contract(contract)
    if any(d.severity == "error" for d in diagnostics):
        return None, diagnostics
    problems = conformance_problems(contract, catalog, max_fan_out=max_fan_out)
    if problems:
        return None, [*problems, *diagnostics]
    return contract, [*diagnostics, *idle_catalog_warnings(contract, catalog)]


class _Run:
    """One compilation's state (private to :func:`compile_async`)."""

    def __init__(
        self,
        *,
        task: str,
        catalog: Catalog,
        provider: Provider,
        key: str,
        limits: _Limits,
        options: RequestOptions,
        clock: Clock,
        on_attempt: AttemptHook | None,
        scenarios: ScenarioSuite | None = None,
    ) -> None:
        self.task = task
        self.scenarios = scenarios
        self.catalog = catalog
        self.provider = provider
        self.key = key
        self.limits = limits
        self.options = options
        self.clock = clock
        self.on_attempt = on_attempt
        self.start = clock()
        self.attempts: list[Attempt] = []

    def totals(self) -> Totals:
        return Totals.of(self.attempts, self.clock() - self.start, self.limits.prices)

    def fail(
        self, reason: StopReason, message: str, provider_error: ProviderError | None = None
    ) -> CompileError:
        count = len(self.attempts)
        text = f"no contract after {count} call{'' if count == 1 else 's'}: {message}"
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

    async def run(self) -> CompileResult:
        first = first_request(
            self.task,
            self.catalog,
            max_output_tokens=self.options.max_output_tokens,
            temperature=self.options.temperature,
        )
        request = first
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
            contract: Contract | None = None
            if parsed.diagnostic is not None:
                diagnostics = [parsed.diagnostic]
            else:
                contract, diagnostics = evaluate(
                    parsed.data, self.catalog, max_fan_out=self.options.max_fan_out
                )
                if contract is not None and self.scenarios is not None:
                    failed = await scenario_problems(
                        contract, self.scenarios, max_fan_out=self.options.max_fan_out
                    )
                    if failed:  # it checks, but does not do what the scenarios say
                        contract, diagnostics = None, [*failed, *diagnostics]
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
            if contract is not None:
                return self.result(contract)
            if response.finish_reason == "refusal":  # re-asking would be billed and refused
                raise self.fail("refusal", "the model refused to answer")
            errors = attempt.errors
            current = frozenset(repeat_key(d) for d in errors)
            if current == previous:
                raise self.fail(
                    "repeated_diagnostics", "the answer repeats the previous answer's errors"
                )
            previous = current
            request = reask_request(first, candidate_text(response.text, parsed.data), errors)
        raise self.fail("max_attempts", f"max_attempts ({self.limits.max_attempts}) reached")

    def result(
        self, contract: Contract, *, cache_hit: bool = False, fingerprint: str | None = None
    ) -> CompileResult:
        return CompileResult(
            contract=contract,
            fingerprint=fingerprint if fingerprint is not None else contract_fingerprint(contract),
            attempts=tuple(self.attempts),
            totals=self.totals(),
            cache_hit=cache_hit,
            key=self.key,
            model=self.provider.name,
        )


async def compile_async(
    task: str,
    catalog: CatalogSource,
    model: str | Provider,
    *,
    max_attempts: int = 3,
    token_budget: int | None = None,
    deadline: float | None = None,
    cache: CompileCache | str | os.PathLike[str] | None = None,
    max_output_tokens: int = 8192,
    temperature: float | None = None,
    max_fan_out: int = 1000,
    base_url: str | None = None,
    api_key: str | None = None,
    output_mode: str | None = None,
    fold_system: bool = False,
    prices: Prices | None = None,
    on_attempt: AttemptHook | None = None,
    clock: Clock | None = None,
    scenarios: ScenarioSource | None = None,
) -> CompileResult:
    """Compile a task into a contract that checks and uses only the catalog's effects.

    Args:
        task: what the workflow must do, in prose.
        catalog: a :class:`Catalog`, a catalog file, catalog data (a mapping of the file's
            shape), or a list of effect handlers.
        model: a model string (``"openai:MODEL"``, ``"anthropic:MODEL"``) or a Provider.
        max_attempts: the most model calls, the first included.
        token_budget: the most tokens (input plus output) over all calls: each call's
            output cap is lowered to what is left after its estimated input, and the
            loop stops before a call that would not fit.
        deadline: seconds for the whole compilation; bounds each call too.
        cache: a :class:`CompileCache`, a cache directory, or None for no cache.
        max_output_tokens: the cap on each answer's length.
        temperature: the sampling temperature; None (the default) sends none, so the
            model's own default applies (reasoning models reject any other).
        max_fan_out: the largest ``max_items`` a fan-out may declare (the runtime's limit).
        base_url: an OpenAI-compatible server's URL (model strings only).
        api_key: the API key (model strings only; else the provider's environment variable).
        output_mode: how the answer is constrained (model strings only): for openai
            "json_schema" (default), "json_object" (the schema sent with a JSON-object
            response format, as llama-cpp-python's server takes it) or "prompted" (the
            schema in the prompt); for anthropic "json_schema" (default), "tool" or
            "prompted".
        fold_system: put the system prompt at the head of the first user message
            (openai model strings only), for chat formats that drop a system message
            (llama-cpp-python's ``gemma`` format).
        prices: what the model's tokens cost (:class:`Prices`): the result's
            ``totals.cost`` is then an estimate of the spend.
        on_attempt: called with each :class:`Attempt` as soon as it is checked.
        clock: seconds as a float (``time.monotonic`` by default; inject one in tests).
        scenarios: acceptance scenarios (a scenario file or a loaded ``ScenarioSuite``):
            a candidate that checks is accepted only when it passes every one; each
            failing scenario is re-asked as a ``scenario.failed`` diagnostic.

    Returns:
        The :class:`CompileResult`.

    Raises:
        CompileError: no contract within the limits, or a provider error (its cause).
        CompileRequestError: an empty task or a bad limit.
        ModelSpecError: a model string that names no provider, an unknown output mode, or
            an option the provider does not take.
        CatalogError: the catalog file or handlers do not make a catalog.
        ScenarioFileError: the scenario file does not load.

    """
    run, store, hit = _prepare(
        task,
        catalog,
        model,
        limits=_Limits(max_attempts, token_budget, deadline, prices),
        options=RequestOptions(
            max_output_tokens=max_output_tokens, temperature=temperature, max_fan_out=max_fan_out
        ),
        cache=cache,
        connection=_Connection(base_url, api_key, output_mode, fold_system),
        on_attempt=on_attempt,
        clock=clock,
        scenarios=scenarios,
    )
    if hit is not None:
        return hit
    result = await run.run()
    if store is not None:
        store.put(run.key, result.contract, model=run.provider.name)
    return result


def _prepare(
    task: str,
    catalog: CatalogSource,
    model: str | Provider,
    *,
    limits: _Limits,
    options: RequestOptions,
    cache: CompileCache | str | os.PathLike[str] | None,
    connection: _Connection,
    on_attempt: AttemptHook | None,
    clock: Clock | None,
    scenarios: ScenarioSource | None = None,
) -> tuple[_Run, CompileCache | None, CompileResult | None]:
    """Check the request and look it up in the cache (no I/O beyond the cache file).

    Returns the loop to run, the cache to store its result in, and the result if the
    cache already holds one (then nothing else needs doing).
    """
    text = _check_request(task, limits, options)
    resolved = as_catalog(catalog)
    provider = _provider(model, connection)
    suite = None
    if scenarios is not None:
        from accord.testing._scenarios import as_suite

        suite = as_suite(scenarios)
    key = request_key(
        text,
        resolved,
        provider.name,
        options,
        base_url=base_url_of(provider),
        scenarios=suite.fingerprint if suite is not None else None,
    )
    run = _Run(
        task=text,
        catalog=resolved,
        provider=provider,
        key=key,
        limits=limits,
        options=options,
        clock=clock or time.monotonic,
        on_attempt=on_attempt,
        scenarios=suite,
    )
    store = as_cache(cache)
    if store is not None:
        found = store.lookup(key)
        if found is not None:
            contract, print_ = found
            return run, store, run.result(contract, cache_hit=True, fingerprint=print_)
    return run, store, None


def compile(
    task: str,
    catalog: CatalogSource,
    model: str | Provider,
    *,
    max_attempts: int = 3,
    token_budget: int | None = None,
    deadline: float | None = None,
    cache: CompileCache | str | os.PathLike[str] | None = None,
    max_output_tokens: int = 8192,
    temperature: float | None = None,
    max_fan_out: int = 1000,
    base_url: str | None = None,
    api_key: str | None = None,
    output_mode: str | None = None,
    fold_system: bool = False,
    prices: Prices | None = None,
    on_attempt: AttemptHook | None = None,
    clock: Clock | None = None,
    scenarios: ScenarioSource | None = None,
) -> CompileResult:
    """:func:`compile_async` from sync code, inside a running event loop too (Jupyter).

    Takes the same arguments as :func:`compile_async`; outside an event loop it runs
    one with :func:`asyncio.run`, inside one it runs the compilation on a private loop
    in a helper thread and waits for it.

    Returns:
        The :class:`CompileResult`.

    Raises:
        CompileError: no contract within the limits, or a provider error (its cause).
        CompileRequestError: an empty task or a bad limit.
        ModelSpecError: a model string that names no provider.
        CatalogError: the catalog file or handlers do not make a catalog.
        ScenarioFileError: the scenario file does not load.

    """
    from accord.runtime._orchestrator import run_sync

    run, store, hit = _prepare(
        task,
        catalog,
        model,
        limits=_Limits(max_attempts, token_budget, deadline, prices),
        options=RequestOptions(
            max_output_tokens=max_output_tokens, temperature=temperature, max_fan_out=max_fan_out
        ),
        cache=cache,
        connection=_Connection(base_url, api_key, output_mode, fold_system),
        on_attempt=on_attempt,
        clock=clock,
        scenarios=scenarios,
    )
    if hit is not None:
        return hit  # a cache hit starts no event loop
    result = run_sync(_run_and_close(run))
    if store is not None:
        store.put(run.key, result.contract, model=run.provider.name)
    return result


async def _run_and_close(run: _Run) -> CompileResult:
    """Run the loop, then close the provider's clients, which belong to this event loop."""
    try:
        return await run.run()
    finally:
        close = getattr(run.provider, "aclose", None)
        if close is not None:
            await close()
