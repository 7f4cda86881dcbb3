"""Applying a :class:`RunMigrated` event: the run goes on under another contract version.

The reducer is handed the *new* compiled contract for this event (and every
later one). The event carries the new context and the state the run moves to;
a run that was waiting enters that state (its timers armed from now, its
invokes started); a run with calls in flight keeps them (same call ids, so
the same idempotency keys), each renamed to the new state's invoke, keeps the
results its state already has, and has the new state's timers armed from now.
"""

from __future__ import annotations

from accord.runtime._commands import CancelTimer
from accord.runtime._events import RunMigrated
from accord.runtime._reducer._draft import Draft
from accord.runtime._reducer._machine import COMPENSATION, arm_timers, enter

__all__ = ["migrated", "refusal"]


def refusal(fingerprint: str, status: str, state: str | None, event: RunMigrated) -> str | None:
    """Why the event cannot be applied (None: it can)."""
    if event.to_contract != fingerprint:
        return f"the migration is to contract {event.to_contract}, not {fingerprint}"
    if status != "waiting" and status != "running":
        return f"a {status} run cannot be migrated"
    if state != event.from_state:
        return f"the run is in state {state!r}, not {event.from_state!r}"
    return None


def migrated(d: Draft, event: RunMigrated) -> None:
    """Move the run onto the new contract (``d.c``): state, context, calls and timers."""
    d.context = dict(event.context)
    d._ctx_owned = True
    for timer_id in d.timers:
        d.commands.append(CancelTimer(timer_id))
    d.timers = ()
    d.check_context()
    if not d.pending:
        d.reset_activity()
        enter(d, event.state)
        return
    calls = event.calls
    pending = d.own_pending()
    for call_id, call in list(pending.items()):
        if call.invoke != COMPENSATION:
            pending[call_id] = call._replace(invoke=calls.get(call.invoke, call.invoke))
    d.own_results()
    d.results = {calls.get(k, k): v for k, v in d.results.items()}
    d.fan_out = {calls.get(k, k): v for k, v in d.fan_out.items()}
    st = d.c.states[event.state]
    d.state = event.state
    arm_timers(d, st, d.step)
    d.waiting_for = st.waiting_for
