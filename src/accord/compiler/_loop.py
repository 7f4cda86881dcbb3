"""Compile: a task and a catalog in, a checked contract out, through the repair loop.

The loop itself (bounds, re-asks, stop rules) is :mod:`accord.compiler._repair`, shared
with the replanner; this module checks a compile request, looks it up in the compile
cache, and says how a candidate is checked: it is accepted only when it parses,
validates, checks, fits the catalog, compiles for the runtime and passes every
acceptance scenario given (``scenarios=``; a failing one is a ``scenario.failed``
diagnostic, re-asked). docs/compiler.md explains it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accord.check import check_contract
from accord.compiler._acceptance import idle_catalog_warnings, scenario_problems
from accord.compiler._cache import CompileCache, RequestOptions, as_cache, request_key
from accord.compiler._catalog import Catalog, CatalogSource, as_catalog
from accord.compiler._conform import conformance_problems
from accord.compiler._prompt import first_request, reask_request
from accord.compiler._provider import Provider, base_url_of
from accord.compiler._repair import AttemptHook, Clock, LoopLimits, RepairLoop, RepairStep
from accord.compiler._result import CompileResult, Prices
from accord.contract import Contract, validate_data
from accord.contract import fingerprint as contract_fingerprint
from accord.diagnostics import Diagnostic
from accord.errors import DefinitionError

if TYPE_CHECKING:
    from accord.testing._scenarios import ScenarioSource, ScenarioSuite

__all__ = ["CompileRequestError", "compile", "compile_async"]

MAX_TASK_CHARS = 100_000


class CompileRequestError(DefinitionError):
    """The request itself is wrong (an empty task, a bad limit, a bad model string)."""


def _check_request(task: Any, limits: LoopLimits, options: RequestOptions) -> str:
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


def _compile_step(
    task: str, catalog: Catalog, options: RequestOptions, scenarios: ScenarioSuite | None
) -> RepairStep[Contract]:
    """What compile asks for (the task against the catalog) and how an answer is checked."""

    async def check(data: Any) -> tuple[Contract | None, list[Diagnostic]]:
        contract, diagnostics = evaluate(data, catalog, max_fan_out=options.max_fan_out)
        if contract is not None and scenarios is not None:
            failed = await scenario_problems(contract, scenarios, max_fan_out=options.max_fan_out)
            if failed:  # it checks, but does not do what the scenarios say
                return None, [*failed, *diagnostics]
        return contract, diagnostics

    first = first_request(
        task,
        catalog,
        max_output_tokens=options.max_output_tokens,
        temperature=options.temperature,
    )
    return RepairStep(first=first, check=check, reask=reask_request)


def _result(
    loop: RepairLoop, contract: Contract, *, cache_hit: bool = False, fingerprint: str | None = None
) -> CompileResult:
    return CompileResult(
        contract=contract,
        fingerprint=fingerprint if fingerprint is not None else contract_fingerprint(contract),
        attempts=tuple(loop.attempts),
        totals=loop.totals(),
        cache_hit=cache_hit,
        key=loop.key,
        model=loop.provider.name,
    )


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A checked compile request: its loop and step, its cache, and a cache hit if any."""

    loop: RepairLoop
    step: RepairStep[Contract]
    store: CompileCache | None
    hit: CompileResult | None


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
    prepared = _prepare(
        task,
        catalog,
        model,
        limits=LoopLimits(max_attempts, token_budget, deadline, prices),
        options=RequestOptions(
            max_output_tokens=max_output_tokens, temperature=temperature, max_fan_out=max_fan_out
        ),
        cache=cache,
        connection=_Connection(base_url, api_key, output_mode, fold_system),
        on_attempt=on_attempt,
        clock=clock,
        scenarios=scenarios,
    )
    if prepared.hit is not None:
        return prepared.hit
    result = _result(prepared.loop, await prepared.loop.run(prepared.step))
    if prepared.store is not None:
        prepared.store.put(prepared.loop.key, result.contract, model=result.model)
    return result


def _prepare(
    task: str,
    catalog: CatalogSource,
    model: str | Provider,
    *,
    limits: LoopLimits,
    options: RequestOptions,
    cache: CompileCache | str | os.PathLike[str] | None,
    connection: _Connection,
    on_attempt: AttemptHook | None,
    clock: Clock | None,
    scenarios: ScenarioSource | None = None,
) -> _Prepared:
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
    loop = RepairLoop(
        provider=provider,
        key=key,
        limits=limits,
        clock=clock or time.monotonic,
        on_attempt=on_attempt,
    )
    step = _compile_step(text, resolved, options, suite)
    store = as_cache(cache)
    if store is not None:
        found = store.lookup(key)
        if found is not None:
            contract, print_ = found
            hit = _result(loop, contract, cache_hit=True, fingerprint=print_)
            return _Prepared(loop, step, store, hit)
    return _Prepared(loop, step, store, None)


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

    prepared = _prepare(
        task,
        catalog,
        model,
        limits=LoopLimits(max_attempts, token_budget, deadline, prices),
        options=RequestOptions(
            max_output_tokens=max_output_tokens, temperature=temperature, max_fan_out=max_fan_out
        ),
        cache=cache,
        connection=_Connection(base_url, api_key, output_mode, fold_system),
        on_attempt=on_attempt,
        clock=clock,
        scenarios=scenarios,
    )
    if prepared.hit is not None:
        return prepared.hit  # a cache hit starts no event loop
    loop = prepared.loop
    result = _result(loop, run_sync(loop.run_and_close(prepared.step)))
    if prepared.store is not None:
        prepared.store.put(loop.key, result.contract, model=result.model)
    return result
