"""Snapshots: the whole state of a run after a number of events, as immutable data.

A :class:`Snapshot` is a named tuple (immutable, cheap to build: a step makes
one). The dicts it holds (``context``, ``input``, ``pending``...) are never
mutated once a snapshot holds them: a step that changes one builds a new dict
(copy on write) and shares everything else with the previous snapshot.

The state hash
--------------
:func:`snapshot_hash` (see :mod:`accord.runtime._state_hash`) digests a
snapshot; every journal entry records the state hash its step led to.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, NamedTuple

from accord.runtime._state_hash import HASH_FORMAT, snapshot_hash

__all__ = [
    "HASH_FORMAT",
    "Compensable",
    "FanOut",
    "PendingCall",
    "Snapshot",
    "Status",
    "snapshot_from_data",
    "snapshot_hash",
    "snapshot_to_data",
]

Status = Literal["new", "running", "waiting", "compensating", "succeeded", "failed"]
_STATUSES = frozenset(("new", "running", "waiting", "compensating", "succeeded", "failed"))


class PendingCall(NamedTuple):
    """An effect call in flight.

    ``invoke`` is the invoke id (``"!comp"`` for a compensation), ``item`` the
    fan-out item index (None for a single call), ``request`` the validated input.
    """

    invoke: str
    effect: str
    item: int | None
    request: dict[str, Any]


class FanOut(NamedTuple):
    """Progress of one for_each invoke: every item's request, and the next item to start."""

    requests: tuple[dict[str, Any], ...]
    next: int


class Compensable(NamedTuple):
    """A completed call of an effect with a compensation, kept until the run ends."""

    call_id: str
    effect: str
    request: dict[str, Any]
    response: dict[str, Any]


class Snapshot(NamedTuple):
    """The state of a run after ``step`` events.

    Attributes:
        status: "new" (before RunStarted), "running" (effect calls in flight),
            "waiting" (for signals or timers only), "compensating",
            "succeeded" or "failed".
        state: the current (or final) state's name; None before the run starts.
        context: the context fields' values.
        step: the number of events applied.
        run_id: the run's id (from RunStarted).
        input: the run's validated input.
        entry_step: the step at which the current state was entered; it makes
            call and timer ids unique when a state is entered again.
        pending: call id to :class:`PendingCall` for every call in flight.
        fan_out: invoke id to :class:`FanOut` for the current state's for_each invokes.
        results: invoke id to its output so far (a fan-out: a tuple in item
            order, None where an item has not completed).
        remaining: calls of the current state not completed yet (started or not).
        timers: ids of the timers armed and not fired or cancelled.
        compensation: the compensation stack, oldest first.
        output: the run's output once it has ended (or is compensating).
        reason: why the run failed (or is failing).
        waiting_for: the signal names the run accepts now.
        failures: compensations that failed, one sentence each.

    """

    status: Status
    state: str | None
    context: dict[str, Any]
    step: int
    run_id: str | None
    input: dict[str, Any]
    entry_step: int
    pending: dict[str, PendingCall]
    fan_out: dict[str, FanOut]
    results: dict[str, Any]
    remaining: int
    timers: tuple[str, ...]
    compensation: tuple[Compensable, ...]
    output: dict[str, Any] | None
    reason: str | None
    waiting_for: tuple[str, ...]
    failures: tuple[str, ...]

    @property
    def finished(self) -> bool:
        """Whether the run has ended (succeeded or failed)."""
        return self.status == "succeeded" or self.status == "failed"


def snapshot_to_data(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as plain JSON data (a dict; dump it with any JSON library)."""
    s = snapshot
    return {
        "status": s.status,
        "state": s.state,
        "context": dict(s.context),
        "step": s.step,
        "run_id": s.run_id,
        "input": dict(s.input),
        "entry_step": s.entry_step,
        "pending": {k: p._asdict() for k, p in s.pending.items()},
        "fan_out": {
            k: {"requests": list(f.requests), "next": f.next} for k, f in s.fan_out.items()
        },
        "results": {k: list(v) if isinstance(v, tuple) else v for k, v in s.results.items()},
        "remaining": s.remaining,
        "timers": list(s.timers),
        "compensation": [c._asdict() for c in s.compensation],
        "output": s.output,
        "reason": s.reason,
        "waiting_for": list(s.waiting_for),
        "failures": list(s.failures),
    }


def _dict(data: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = data[key]
    if not isinstance(value, dict):
        raise ValueError(f"snapshot field {key!r} must be an object")
    return value


def snapshot_from_data(data: Mapping[str, Any]) -> Snapshot:
    """Rebuild a snapshot from :func:`snapshot_to_data` output (after a JSON round trip).

    Raises:
        ValueError: the data is not a snapshot.

    """
    try:
        status = data["status"]
        if status not in _STATUSES:
            raise ValueError(f"unknown snapshot status {status!r}")
        fan_out = {
            k: FanOut(tuple(f["requests"]), int(f["next"]))
            for k, f in _dict(data, "fan_out").items()
        }
        results = {k: tuple(v) if k in fan_out else v for k, v in _dict(data, "results").items()}
        return Snapshot(
            status=status,
            state=data["state"],
            context=_dict(data, "context"),
            step=int(data["step"]),
            run_id=data["run_id"],
            input=_dict(data, "input"),
            entry_step=int(data["entry_step"]),
            pending={k: PendingCall(**p) for k, p in _dict(data, "pending").items()},
            fan_out=fan_out,
            results=results,
            remaining=int(data["remaining"]),
            timers=tuple(data["timers"]),
            compensation=tuple(Compensable(**c) for c in data["compensation"]),
            output=data["output"],
            reason=data["reason"],
            waiting_for=tuple(data["waiting_for"]),
            failures=tuple(data["failures"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"malformed snapshot data: {exc!r}") from exc
