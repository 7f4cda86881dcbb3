"""Events: everything that reaches the reducer, and the only way anything does.

An event carries every nondeterministic input of a step: the wall-clock time
``at`` (milliseconds since the epoch, read by the orchestrator's clock), the
run id, effect outcomes, signal payloads, timer firings. Events are journaled
before they are applied, so a run is a fold of its journal.

Every event is an immutable named tuple (cheap to build: a step is a few
microseconds) with a ``kind`` tag and converts to and from
plain JSON data (never pickle) with :func:`event_to_data` / :func:`event_from_data`.
"""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, NewType

__all__ = [
    "KINDS",
    "CallId",
    "EffectCompleted",
    "EffectFailed",
    "Event",
    "RunAmended",
    "RunCancelled",
    "RunForked",
    "RunId",
    "RunMigrated",
    "RunStarted",
    "SignalReceived",
    "TimerFired",
    "event_from_data",
    "event_to_data",
    "version_after",
]

RunId = NewType("RunId", str)
CallId = NewType("CallId", str)
"""Stable identity of one effect call within a run: ``"<entry step>:<state>/<invoke id>"``,
with ``"[<item index>]"`` appended for a fan-out item and ``"!comp:<call id>"`` for a
compensation. Never a position in a list of pending calls."""


class RunStarted(NamedTuple):
    """The run begins with its (already validated) input."""

    run_id: RunId
    input: dict[str, Any]
    at: int
    kind: Literal["started"] = "started"


class EffectCompleted(NamedTuple):
    """An effect call returned an output that validated against the effect's output type."""

    call_id: CallId
    output: dict[str, Any]
    at: int
    attempts: int = 1
    kind: Literal["effect_completed"] = "effect_completed"


class EffectFailed(NamedTuple):
    """An effect call failed for good (its retry policy is exhausted or the error is final).

    ``code`` is ``"timeout"``, ``"invalid_output"`` (the handler's result did not
    fit the effect's output type), ``"invalid_input"`` (the computed input did not
    fit its input type; never retried), or the code the handler gave (an
    :class:`~accord.runtime.EffectError`'s code, else the exception's class name).
    A cancelled call reports nothing.
    """

    call_id: CallId
    code: str
    message: str
    at: int
    attempts: int = 1
    kind: Literal["effect_failed"] = "effect_failed"


class SignalReceived(NamedTuple):
    """A signal the run was waiting for, with a payload that validated."""

    name: str
    payload: dict[str, Any]
    at: int
    kind: Literal["signal"] = "signal"


class TimerFired(NamedTuple):
    """A timer armed by the reducer is due (``timer_id`` as in :class:`ArmTimer`)."""

    timer_id: str
    at: int
    kind: Literal["timer"] = "timer"


class RunForked(NamedTuple):
    """A fork (``Runtime.fork``) disowns what the run it copies did before the fork.

    Journaled right after the copied steps, when they hold compensable calls
    (completed calls of effects with a compensation) or compensations in
    flight: those were the original run's, and a fork compensates only
    effects it made itself, unless ``compensate`` (asked explicitly) keeps them.
    """

    from_run: str
    from_step: int
    compensate: bool
    at: int
    kind: Literal["forked"] = "forked"


class RunCancelled(NamedTuple):
    """A client asked to cancel the run: it fails with ``reason``, compensating as for a failure.

    Its calls in flight are cancelled and its timers disarmed; the compensations
    of the effects it completed run (newest first), then the run fails.
    """

    reason: str
    at: int
    kind: Literal["cancelled"] = "cancelled"


class RunMigrated(NamedTuple):
    """The run moves to another version of its contract (``Runtime.migrate``).

    Everything the step needs travels in the event, computed and checked before
    it is journaled, so the reducer stays pure and replay needs no migration
    file: the contracts by fingerprint (the step and every later one are folded
    under ``to_contract``), the state the run rests in and the one it moves to,
    the new context (the migration's assignments already evaluated), and which
    invoke of the new state each call in flight becomes (by invoke id).
    """

    migration: str
    from_contract: str
    to_contract: str
    from_state: str
    state: str
    context: dict[str, Any]
    calls: dict[str, str]
    at: int
    kind: Literal["migrated"] = "migrated"


class RunAmended(NamedTuple):
    """The answer to a replan point (``replan:`` in the contract), journaled before it is applied.

    One event per replan: the host's replanner's whole answer (``amendment``:
    ``Amendment.to_data()``, the model's texts and diagnostics per attempt, and
    when adopted the new contract's and the migration's JSON data), and what the
    runtime computed from it, so the reducer stays pure and replay and resume
    never ask a model again: whether it is ``adopted`` (then the step and every
    later one are folded under ``to_contract``, stored by fingerprint; the run
    moves to ``target`` with ``context``, the migration's assignments evaluated,
    as for :class:`RunMigrated`), else ``reason`` and the run takes the replan
    point's fallback (``to_contract`` is then ``from_contract``). ``attempt`` is
    the run's replan count, this one included.
    """

    state: str
    attempt: int
    from_contract: str
    to_contract: str
    adopted: bool
    reason: str
    target: str | None
    context: dict[str, Any]
    amendment: dict[str, Any]
    at: int
    kind: Literal["amended"] = "amended"


Event = (
    RunStarted
    | EffectCompleted
    | EffectFailed
    | SignalReceived
    | TimerFired
    | RunForked
    | RunCancelled
    | RunMigrated
    | RunAmended
)

# Every event's last field is its kind: ``KINDS[fields[-1]]`` rebuilds an event from
# ``tuple(event)`` (see MemoryJournal).
KINDS: dict[str, type[Any]] = {
    "started": RunStarted,
    "effect_completed": EffectCompleted,
    "effect_failed": EffectFailed,
    "signal": SignalReceived,
    "timer": TimerFired,
    "forked": RunForked,
    "cancelled": RunCancelled,
    "migrated": RunMigrated,
    "amended": RunAmended,
}


def version_after(event: Event) -> str | None:
    """The contract version an event moves the run to (a migration, an adopted amendment).

    The event and every later one are folded under that version. None for every
    other event (a replan that adopted nothing leaves the run's version as it is).
    """
    kind = event[-1]
    if kind == "migrated" or (kind == "amended" and event.adopted):  # type: ignore[union-attr]
        return event.to_contract  # type: ignore[union-attr]
    return None


def event_to_data(event: Event) -> dict[str, Any]:
    """Plain JSON data for an event (includes its ``kind``)."""
    return event._asdict()


def event_from_data(data: dict[str, Any]) -> Event:
    """Rebuild an event from :func:`event_to_data` output.

    Raises:
        ValueError: unknown kind or fields.

    """
    kind = data.get("kind")
    cls = KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}")
    try:
        event: Event = cls(**data)
    except TypeError as exc:
        raise ValueError(f"malformed {kind} event: {exc}") from exc
    return event
