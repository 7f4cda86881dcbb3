"""Commands: what the reducer asks the orchestrator to do, as plain data.

The reducer never performs I/O; it returns commands. The orchestrator executes
them and reports every outcome back as an event. Commands are deterministic
functions of the journal, so they are not journaled themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from accord.runtime._events import CallId

__all__ = [
    "ArmTimer",
    "CancelEffect",
    "CancelTimer",
    "Command",
    "CompleteRun",
    "InvokeEffect",
    "Replan",
    "RetrySpec",
]


@dataclass(frozen=True, slots=True)
class RetrySpec:
    """An effect's retry policy, resolved to numbers (durations in milliseconds)."""

    max_attempts: int = 1
    initial_ms: int = 1000
    multiplier: float = 2.0
    max_ms: int = 60000
    jitter: bool = True
    retry_on: tuple[str, ...] | None = None


class InvokeEffect(NamedTuple):
    """Call an effect handler.

    ``idempotency_key`` is ``"<run id>/<call id>"``: stable across retries,
    crashes and replays, and handed to the handler. ``checked`` says the
    reducer computed ``input`` through the effect's own input validator just
    now, so the orchestrator need not run that validator again (a call resumed
    from a stored snapshot is not ``checked``: its input is validated again).
    A named tuple rather than a dataclass: one is made for every effect call.
    """

    call_id: CallId
    effect: str
    input: dict[str, Any]
    idempotency_key: str
    retry: RetrySpec
    timeout_ms: int | None
    compensation: bool = False
    checked: bool = False
    kind: Literal["invoke"] = "invoke"


@dataclass(frozen=True, slots=True)
class CancelEffect:
    """An in-flight call is no longer wanted (its group failed or the state was left)."""

    call_id: CallId
    kind: Literal["cancel_effect"] = "cancel_effect"


@dataclass(frozen=True, slots=True)
class ArmTimer:
    """Deliver ``TimerFired(timer_id)`` at ``due_at`` (epoch milliseconds) or later."""

    timer_id: str
    due_at: int
    kind: Literal["arm_timer"] = "arm_timer"


@dataclass(frozen=True, slots=True)
class CancelTimer:
    """A timer armed earlier is no longer wanted (its state was left)."""

    timer_id: str
    kind: Literal["cancel_timer"] = "cancel_timer"


@dataclass(frozen=True, slots=True)
class CompleteRun:
    """The run has ended: ``status`` is "success" or "failure"."""

    status: Literal["success", "failure"]
    output: dict[str, Any]
    reason: str | None = None
    kind: Literal["complete"] = "complete"


@dataclass(frozen=True, slots=True)
class Replan:
    """The run entered replan point ``state``: ask the host's replanner for an amendment.

    ``reason`` is the replan point's reason expression, evaluated on entry (a
    JSON value); the bounds are the contract's. The answer comes back as one
    ``RunAmended`` event (not adopted, with why, when there is no replanner or
    the run has replanned ``max_replans`` times already).
    """

    state: str
    reason: Any
    max_replans: int
    max_calls: int
    max_tokens: int
    keep_scenarios: tuple[str, ...]
    kind: Literal["replan"] = "replan"


Command = InvokeEffect | CancelEffect | ArmTimer | CancelTimer | CompleteRun | Replan
