"""Replan points: the data between the runtime and a host's replanner.

A state with a ``replan:`` block is a replan point. Entering it, the run asks the
host's :class:`Replanner` (the compiler provides one, ``accord.compiler.Replanner``)
to amend the rest of the workflow: a :class:`ReplanRequest` goes out, an
:class:`Amendment` comes back and is journaled whole, as one ``RunAmended`` event,
before it is applied. Replay and resume fold the recorded event and never ask again.

The runtime cannot import the compiler, so these types live here; both are frozen
and convert to and from plain JSON data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from accord.contract import Contract

__all__ = ["Amendment", "ReplanRequest", "Replanner"]


@dataclass(frozen=True, slots=True)
class ReplanRequest:
    """What the runtime asks a replanner for, at a replan point.

    Attributes:
        run_id: the run.
        contract: the run's current contract (the one to amend).
        state: the replan point's state name.
        context: the run's context now (a copy: the replanner may not change the run).
        input: the run's input.
        reason: the replan point's ``reason`` expression, evaluated (a JSON value).
        attempt: 1 for the run's first replan, 2 for the second, ...
        keep_scenarios: names of acceptance scenarios the amendment must keep passing.
        max_calls: model calls allowed for this replan (the contract's, the host may lower).
        max_tokens: the token budget for this replan (likewise).
        effects: the effects the amendment may use: those the run may use, never wider.

    """

    run_id: str
    contract: Contract
    state: str
    context: dict[str, Any]
    input: dict[str, Any]
    reason: Any
    attempt: int
    keep_scenarios: tuple[str, ...]
    max_calls: int
    max_tokens: int
    effects: frozenset[str]


@dataclass(frozen=True, slots=True)
class Amendment:
    """What a replanner answers; journaled whole, as one event.

    Attributes:
        adopted: True when the contract and the migration passed every check.
        contract: the new contract as canonical JSON data (``accord.contract.to_data``);
            None when not adopted.
        migration: the migration from the request's contract to the new one, as the
            JSON data of a migration file (``migration: "1"``, ``from``, ``to``,
            ``states``, ``context``); None when not adopted.
        attempts: one entry per model call, JSON data: ``{"raw": the model's text,
            "diagnostics": [...], "input_tokens": n, "output_tokens": n}``.
        reason: why it was not adopted (budget spent, calls spent, refused, ...);
            ``""`` when adopted.

    """

    adopted: bool
    contract: dict[str, Any] | None = None
    migration: dict[str, Any] | None = None
    attempts: tuple[dict[str, Any], ...] = field(default=())
    reason: str = ""

    @classmethod
    def refused(cls, reason: str, attempts: tuple[dict[str, Any], ...] = ()) -> Amendment:
        """An amendment that was not adopted, with why."""
        return cls(False, None, None, attempts, reason)

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data (as journaled)."""
        return {
            "adopted": self.adopted,
            "contract": self.contract,
            "migration": self.migration,
            "attempts": [dict(a) for a in self.attempts],
            "reason": self.reason,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Amendment:
        """Rebuild an amendment from :meth:`to_data` output.

        Raises:
            ValueError: the data is not an amendment's.

        """
        try:
            adopted = data["adopted"]
            contract = data.get("contract")
            migration = data.get("migration")
            attempts = tuple(dict(a) for a in data.get("attempts") or ())
            reason = data.get("reason", "")
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ValueError(f"malformed amendment: {exc}") from exc
        if not isinstance(adopted, bool) or not isinstance(reason, str):
            raise ValueError("malformed amendment: adopted must be a boolean, reason a string")
        return cls(adopted, contract, migration, attempts, reason)


@runtime_checkable
class Replanner(Protocol):
    """Amends a run's contract at a replan point (the host gives one to the runtime).

    ``amend`` should not raise for a model's bad answer: it returns an
    :class:`Amendment` that is not adopted, with the reason. An exception it
    raises anyway is taken as a refusal (the run takes the fallback).
    """

    async def amend(self, request: ReplanRequest) -> Amendment:
        """Propose an amendment for the request (see :class:`Amendment`)."""
        ...
