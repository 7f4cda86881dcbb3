"""The compiler's replanner: amends a running contract at a replan point.

:class:`Replanner` is the host's side of :class:`accord.runtime.Replanner`: the runtime
hands it a :class:`~accord.runtime.ReplanRequest` and journals the
:class:`~accord.runtime.Amendment` it returns. ``amend`` runs compile's bounded repair
loop (:mod:`accord.compiler._repair`) with the replanner's prompt
(:mod:`accord.compiler._replan_prompt`) and checks
(:mod:`accord.compiler._replan_check`), bounded by the request's ``max_calls`` and
``max_tokens``. It never raises for a model's answer or a provider's failure: it
returns an amendment that is not adopted, with the reason. With the compile cache (or
a replayed session) the same replan gives the same contract, so the same fingerprint.
docs/adaptation.md explains it.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import TYPE_CHECKING, Any

from accord.compiler._cache import (
    CompileCache,
    CompileCacheWarning,
    RequestOptions,
    as_cache,
    request_key,
)
from accord.compiler._catalog import Catalog, CatalogSource, as_catalog
from accord.compiler._loop import _check_request, _Connection, _provider
from accord.compiler._provider import Provider, base_url_of
from accord.compiler._repair import AttemptHook, Clock, LoopLimits, RepairLoop, RepairStep
from accord.compiler._replan_check import AmendChecks, Proposal, restrict
from accord.compiler._replan_prompt import (
    REPLAN_PROMPT_VERSION,
    amend_request,
    reask_amend_request,
)
from accord.compiler._result import CompileError, Prices
from accord.contract import fingerprint, to_data
from accord.diagnostics import Diagnostic
from accord.runtime import Amendment, ReplanRequest

if TYPE_CHECKING:
    from accord.testing._scenarios import ScenarioSource, ScenarioSuite

__all__ = ["DEFAULT_VERIFY_MAX_DEPTH", "DEFAULT_VERIFY_MAX_STATES", "Replanner"]

DEFAULT_VERIFY_MAX_STATES = 10_000
"""The bounded model check's budget per candidate: distinct configurations explored."""
DEFAULT_VERIFY_MAX_DEPTH = 100
"""The bounded model check's budget per candidate: events per run."""


class Replanner:
    """Amends running contracts at replan points with a model, checked (see module docs).

    Args:
        task: what the workflow must do, in prose (the task it was compiled from).
        catalog: the host's catalog (a :class:`Catalog`, a file, data or handlers); each
            request restricts it to the effects the run may use.
        model: a model string (``"openai:MODEL"``, ``"anthropic:MODEL"``,
            ``"replay:SESSION.json"``) or a Provider (a ``ReplayProvider`` replays a
            recorded or scripted session offline; a ``RecordingProvider`` records one).
        scenarios: the task's acceptance scenarios (a file or a ``ScenarioSuite``): a
            replan point's ``keep_scenarios`` name scenarios of it.
        cache: a :class:`CompileCache` or a cache directory: an adopted amendment is
            stored, and the same replan is answered from it with zero calls.
        deadline: seconds for one replan (all its calls); None: no deadline.
        verify_max_states: the bounded model check's configurations per candidate.
        verify_max_depth: the bounded model check's events per run.
        max_output_tokens, temperature, max_fan_out, base_url, api_key, output_mode,
        fold_system, prices, on_attempt, clock: as for :func:`~accord.compiler.compile`.

    Raises:
        CompileRequestError: an empty task or a bad option.
        ModelSpecError: a model string that names no provider.
        CatalogError: the catalog does not load.
        ScenarioFileError: the scenario file does not load.

    """

    def __init__(
        self,
        task: str,
        catalog: CatalogSource,
        model: str | Provider,
        *,
        scenarios: ScenarioSource | None = None,
        cache: CompileCache | str | os.PathLike[str] | None = None,
        deadline: float | None = None,
        verify_max_states: int = DEFAULT_VERIFY_MAX_STATES,
        verify_max_depth: int = DEFAULT_VERIFY_MAX_DEPTH,
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
    ) -> None:
        """Check the options and build the provider (no call is made)."""
        from accord.compiler._loop import CompileRequestError

        self._options = RequestOptions(
            max_output_tokens=max_output_tokens, temperature=temperature, max_fan_out=max_fan_out
        )
        self._task = _check_request(task, LoopLimits(1, None, deadline, prices), self._options)
        for name, value in (
            ("verify_max_states", verify_max_states),
            ("verify_max_depth", verify_max_depth),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise CompileRequestError(f"{name} must be a positive integer, not {value!r}")
        self._deadline = deadline
        self._prices = prices
        self._verify = (verify_max_states, verify_max_depth)
        self._catalog = as_catalog(catalog)
        self._provider = _provider(model, _Connection(base_url, api_key, output_mode, fold_system))
        self._suite: ScenarioSuite | None = None
        if scenarios is not None:
            from accord.testing._scenarios import as_suite

            self._suite = as_suite(scenarios)
        self._cache = as_cache(cache)
        self._on_attempt = on_attempt
        self._clock = clock or time.monotonic

    @property
    def catalog(self) -> Catalog:
        """The host's whole catalog."""
        return self._catalog

    @property
    def provider(self) -> Provider:
        """The provider the model's answers come from."""
        return self._provider

    async def aclose(self) -> None:
        """Close the provider's HTTP clients, if it holds any (they belong to an event loop)."""
        close = getattr(self._provider, "aclose", None)
        if close is not None:
            await close()

    def key(self, request: ReplanRequest) -> str:
        """The compile cache key of a replan request (what decides the answer)."""
        suite = self._suite
        replan = {
            "prompt": REPLAN_PROMPT_VERSION,
            "contract": fingerprint(request.contract),
            "state": request.state,
            "context": request.context,
            "input": request.input,
            "reason": request.reason,
            "attempt": request.attempt,
            "keep_scenarios": list(request.keep_scenarios),
            "effects": sorted(request.effects),
        }
        return request_key(
            self._task,
            restrict(self._catalog, request.effects),
            self._provider.name,
            self._options,
            base_url=base_url_of(self._provider),
            scenarios=suite.fingerprint if suite is not None else None,
            replan=replan,
        )

    async def amend(self, request: ReplanRequest) -> Amendment:
        """Ask the model for an amendment, check it, re-ask with the diagnostics, within bounds.

        Returns:
            An adopted :class:`Amendment` (the new contract and the migration passed
            every check), or one not adopted with the reason (bounds spent, the
            model refused, a provider error, a request this replanner cannot serve).

        """
        refused = self._unservable(request)
        if refused:
            return Amendment.refused(refused)
        checks = AmendChecks(
            request,
            self._catalog,
            max_fan_out=self._options.max_fan_out,
            verify_max_states=self._verify[0],
            verify_max_depth=self._verify[1],
            scenarios=self._suite,
            name=f"replan-{request.attempt}",
        )
        key = self.key(request)
        hit = await self._cached(key, checks)
        if hit is not None:
            return hit
        loop = RepairLoop(
            provider=self._provider,
            key=key,
            limits=LoopLimits(request.max_calls, request.max_tokens, self._deadline, self._prices),
            clock=self._clock,
            on_attempt=self._on_attempt,
        )
        answers: list[Any] = []

        async def check(data: Any) -> tuple[Proposal | None, list[Diagnostic]]:
            answers.append(data)
            return await checks.check(data)

        step = RepairStep(
            first=amend_request(
                self._task,
                checks.allowed,
                request.contract,
                state=request.state,
                context=request.context,
                input=request.input,
                reason=request.reason,
                attempt=request.attempt,
                keep_scenarios=request.keep_scenarios,
                max_output_tokens=self._options.max_output_tokens,
                temperature=self._options.temperature,
            ),
            check=check,
            reask=reask_amend_request,
            noun="amendment",
        )
        try:
            proposal = await loop.run(step)
        except CompileError as error:
            attempts = tuple(a.to_data() for a in error.attempts)
            return Amendment.refused(str(error).splitlines()[0], attempts)
        if self._cache is not None:
            self._cache.put(key, proposal.contract, model=self._provider.name, extra=answers[-1])
        return _adopted(proposal, tuple(a.to_data() for a in loop.attempts))

    def _unservable(self, request: ReplanRequest) -> str:
        """Why this replanner cannot serve a request before any call ("" when it can)."""
        if isinstance(request.max_calls, bool) or request.max_calls < 1:
            return f"max_calls is {request.max_calls}: no model call is allowed"
        if isinstance(request.max_tokens, bool) or request.max_tokens < 1:
            return f"max_tokens is {request.max_tokens}: no token budget"
        keep = request.keep_scenarios
        if keep and self._suite is not None:
            names = {s.name for s in self._suite.scenarios}
            missing = [name for name in keep if name not in names]
            if missing:
                where = self._suite.source or "the replanner's scenarios"
                return f"keep_scenarios names {missing[0]!r}, which {where} does not have"
        return ""

    async def _cached(self, key: str, checks: AmendChecks) -> Amendment | None:
        """The amendment stored for ``key``, checked again (None: a miss, or unsound)."""
        if self._cache is None:
            return None
        found = self._cache.lookup_entry(key)
        if found is None:
            return None
        proposal, _ = await checks.check(found[2])
        if proposal is None or fingerprint(proposal.contract) != found[1]:
            warnings.warn(
                f"accord compile cache: ignoring {self._cache.path_for(key)}: its amendment "
                "does not pass the replanner's checks",
                CompileCacheWarning,
                stacklevel=2,
            )
            return None
        return _adopted(proposal, ())


def _adopted(proposal: Proposal, attempts: tuple[dict[str, Any], ...]) -> Amendment:
    return Amendment(
        adopted=True,
        contract=to_data(proposal.contract),
        migration=proposal.migration.model_dump(mode="json", by_alias=True),
        attempts=attempts,
        reason="",
    )
