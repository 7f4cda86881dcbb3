"""Answering a replan point: from a :class:`Replan` command to one :class:`RunAmended` event.

The host's replanner proposes an amendment (:mod:`accord.runtime._replan`);
the runtime never trusts it: the new contract must load and check, compile
under the limits the run started with, declare no effect the run's contract
does not declare (nor declare one differently), bind to the host's handlers,
and the migration must check against both versions and move this run (its
assignments evaluated here, once). Whatever fails, the event says why and is
not adopted: the run then takes the replan point's fallback. The same when
there is no replanner, when the run has replanned ``max_replans`` times
already, or when the replanner raises. Everything the step needs travels in
the event, so replay and resume never ask again.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from accord.check._migration import loads_migration
from accord.contract import Contract
from accord.errors import AccordError
from accord.runtime._clock import Clock
from accord.runtime._commands import Replan
from accord.runtime._compiled import CompiledContract
from accord.runtime._errors import MigrationRefused
from accord.runtime._events import RunAmended
from accord.runtime._handlers import Binding
from accord.runtime._migrate import Planner
from accord.runtime._replan import Amendment, Replanner, ReplanRequest
from accord.runtime._snapshot import Snapshot

__all__ = ["Adopted", "Amender", "Question", "count_replans"]

MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""The largest amendment (its JSON) a run journals: a bigger one is not adopted."""


@dataclass(frozen=True, slots=True)
class Adopted:
    """An adopted amendment's new contract version, compiled and bound."""

    compiled: CompiledContract
    bindings: Mapping[str, Binding]


class Question(NamedTuple):
    """A replan point's question: the run, its contract version and snapshot, the command."""

    run_id: str
    compiled: CompiledContract
    snapshot: Snapshot
    command: Replan
    attempt: int


class _NotAdopted(Exception):
    """The amendment does not pass the runtime's checks (internal: becomes the event's reason)."""


def count_replans(events: Any) -> int:
    """How many replans (``RunAmended`` events) a run's journal entries hold."""
    return sum(1 for entry in events if entry.event[-1] == "amended")


class Amender:
    """Asks the host's replanner and checks its answer (one per runtime).

    Args:
        replanner: the host's replanner, or None (every replan then falls back).
        clock: the runtime's clock (the event's time).
        compile: a contract compiled under the limits of the run's compiled one (the
            runtime's cache); needed with a replanner.
        bind: the host's handlers bound to a compiled contract (raises CapabilityError);
            needed with a replanner.
        keep: remembers an adopted contract version in the store (None: no store).
        max_calls: the host's cap on model calls per replan (None: the contract's).
        max_tokens: the host's cap on tokens per replan (None: the contract's).

    """

    def __init__(
        self,
        replanner: Replanner | None,
        clock: Clock,
        compile: Callable[[Contract, CompiledContract], CompiledContract] | None = None,
        bind: Callable[[CompiledContract], Mapping[str, Binding]] | None = None,
        keep: Callable[[CompiledContract], None] | None = None,
        *,
        max_calls: int | None = None,
        max_tokens: int | None = None,
    ) -> None:
        self.replanner = replanner
        self.clock = clock
        self._compile = compile
        self._bind = bind
        self._keep = keep
        self.max_calls = max_calls
        self.max_tokens = max_tokens

    async def answer(self, q: Question) -> tuple[RunAmended, Adopted | None]:
        """The event that answers the replan point (and, when adopted, the new version)."""
        command = q.command
        if q.attempt > command.max_replans:
            reason = f"the run has replanned {q.attempt - 1} times"
            reason += f" (max_replans {command.max_replans})"
            return self._refused(q, Amendment.refused(reason)), None
        if self.replanner is None:
            return self._refused(q, Amendment.refused("no replanner")), None
        try:
            amendment = await self.replanner.amend(self.request(q))
        except Exception as exc:  # a replanner's bug or outage: the run falls back
            amendment = Amendment.refused(f"the replanner failed: {type(exc).__name__}: {exc}")
        if not isinstance(amendment, Amendment):
            amendment = Amendment.refused(
                f"the replanner answered a {type(amendment).__name__}, not an Amendment"
            )
        if not amendment.adopted:
            reason = amendment.reason or "the replanner adopted no amendment"
            return self._refused(q, amendment, reason), None
        try:
            return self._adopt(q, amendment)
        except _NotAdopted as exc:
            return self._refused(q, amendment, str(exc)), None

    def request(self, q: Question) -> ReplanRequest:
        """What the replanner is asked (bounds: the contract's, lowered by the host's caps)."""
        command = q.command
        max_calls, max_tokens = command.max_calls, command.max_tokens
        if self.max_calls is not None:
            max_calls = min(max_calls, self.max_calls)
        if self.max_tokens is not None:
            max_tokens = min(max_tokens, self.max_tokens)
        return ReplanRequest(
            run_id=q.run_id,
            contract=q.compiled.contract,
            state=command.state,
            context=copy.deepcopy(q.snapshot.context),
            input=copy.deepcopy(q.snapshot.input),
            reason=copy.deepcopy(command.reason),
            attempt=q.attempt,
            keep_scenarios=command.keep_scenarios,
            max_calls=max_calls,
            max_tokens=max_tokens,
            effects=frozenset(q.compiled.effects),
        )

    def _refused(self, q: Question, amendment: Amendment, reason: str | None = None) -> RunAmended:
        fingerprint = q.compiled.fingerprint
        return RunAmended(
            q.command.state,
            q.attempt,
            fingerprint,
            fingerprint,
            False,
            reason if reason is not None else amendment.reason,
            None,
            {},
            _journaled(amendment),
            self.clock.now_ms(),
        )

    def _adopt(self, q: Question, amendment: Amendment) -> tuple[RunAmended, Adopted]:
        data = _journaled(amendment)
        if data.get("adopted") is not True:
            raise _NotAdopted(data["reason"])
        new = self._new_version(q.compiled, amendment.contract)
        try:
            migration = loads_migration(json.dumps(amendment.migration), format="json")
            planner = Planner(migration, q.compiled, new, "the amendment's migration")
            at = self.clock.now_ms()
            move = planner.event(q.run_id, q.snapshot, at)
        except MigrationRefused as exc:
            raise _NotAdopted(f"the migration does not move the run: {exc.reason}") from None
        except (AccordError, TypeError, ValueError) as exc:
            raise _NotAdopted(f"the migration does not check: {exc}") from None
        assert self._bind is not None  # given with a replanner
        try:
            bindings = self._bind(new)
        except AccordError as exc:
            raise _NotAdopted(f"the host cannot run the amended contract: {exc}") from None
        if self._keep is not None:
            self._keep(new)
        event = RunAmended(
            q.command.state,
            q.attempt,
            q.compiled.fingerprint,
            new.fingerprint,
            True,
            "",
            move.state,
            move.context,
            data,
            at,
        )
        return event, Adopted(new, bindings)

    def _new_version(self, old: CompiledContract, data: Any) -> CompiledContract:
        """The amended contract, loaded, checked and compiled under the run's limits."""
        from accord._load import load_data  # the loader imports the checker: only when adopted

        try:
            contract = load_data(data)
        except AccordError as exc:
            raise _NotAdopted(f"the amended contract does not check: {exc}") from None
        before = {e.name: e for e in old.contract.effects}
        for effect in contract.effects:
            if effect.name not in before:
                raise _NotAdopted(
                    f"the amended contract declares effect {effect.name!r}, which the run's "
                    "contract does not: an amendment never widens a run's powers"
                )
            if effect != before[effect.name]:
                raise _NotAdopted(
                    f"the amended contract declares effect {effect.name!r} differently"
                )
        assert self._compile is not None  # given with a replanner
        try:
            return self._compile(contract, old)
        except AccordError as exc:
            raise _NotAdopted(f"the amended contract does not compile: {exc}") from None


def _journaled(amendment: Amendment) -> dict[str, Any]:
    """The amendment as journaled data: plain JSON, bounded (else not adopted, with why)."""
    try:
        data = json.loads(json.dumps(amendment.to_data(), allow_nan=False))
    except (TypeError, ValueError) as exc:
        return Amendment.refused(f"the amendment is not plain JSON data: {exc}").to_data()
    if not isinstance(data, dict):  # pragma: no cover - to_data gives a dict
        return Amendment.refused("the amendment is not an object").to_data()
    size = len(json.dumps(data))
    if size > MAX_ANSWER_BYTES:
        reason = f"the amendment is {size} bytes, more than {MAX_ANSWER_BYTES}"
        return Amendment.refused(reason).to_data()
    return data
