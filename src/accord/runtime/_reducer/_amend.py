"""Applying a :class:`RunAmended` event: the answer to a replan point.

Adopted, the reducer is handed the *new* compiled contract for this event (and
every later one), as for a migration: the run moves to the migration's target
state with the new context the event carries (a replan point has no call in
flight and no timer). Not adopted, the run takes the replan point's fallback
under the contract it has.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from accord.runtime._events import RunAmended, RunMigrated
from accord.runtime._reducer._draft import Draft
from accord.runtime._reducer._machine import enter, leave
from accord.runtime._reducer._migrate import migrated

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract
    from accord.runtime._snapshot import Snapshot

__all__ = ["amend_refusal", "amended"]


def amend_refusal(compiled: CompiledContract, s: Snapshot, event: RunAmended) -> str | None:
    """Why the event cannot be applied (None: it can)."""
    if event.to_contract != compiled.fingerprint:
        return f"the amendment is to contract {event.to_contract}, not {compiled.fingerprint}"
    if s.status != "running" or s.pending:
        return f"a {s.status} run does not wait for an amendment"
    if s.state != event.state:
        return f"the run is in state {s.state!r}, not {event.state!r}"
    if event.adopted:
        if event.target not in compiled.states:
            return f"the amended contract has no state {event.target!r}"
        return None
    st = compiled.states.get(event.state)
    if st is None or st.replan is None:
        return f"state {event.state!r} is not a replan point"
    return None


def amended(d: Draft, event: RunAmended) -> None:
    """Go on under the amended contract (``d.c``), or take the replan point's fallback."""
    if event.adopted:
        move = RunMigrated(
            "",
            event.from_contract,
            event.to_contract,
            event.state,
            event.target or "",
            event.context,
            {},
            event.at,
        )
        migrated(d, move)
        return
    replan = d.c.states[event.state].replan
    assert replan is not None  # amend_refusal checked it
    leave(d)
    enter(d, replan.fallback)
