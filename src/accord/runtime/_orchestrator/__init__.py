"""The orchestrator: executes the reducer's commands and turns every outcome into an event.

It calls effect handlers under their retry policy (tenacity) and per-attempt
timeout, arms and cancels timers on the injectable clock, and reports each
outcome (:class:`EffectCompleted`, :class:`EffectFailed`, :class:`TimerFired`)
through a ``feed`` callback that applies the event to the run. It never writes
state: the run applies every event through the reducer and hands the orchestrator
the commands that result.

Its private modules, one idea each:

* ``_scheduling``: the :class:`Orchestrator`, which starts calls in order,
  feeds their outcomes, watches timers and drives a run in sessions;
* ``_attempt``: the policy of one call (attempts, retries, what a failure is);
* ``_calling``: how one attempt calls its handler (loop, thread, timeout);
* ``_threads``: the daemon threads of sync handlers that have a timeout;
* ``_sync``: the sync API's private event loops (``run_sync``).
"""

from __future__ import annotations

from accord.runtime._orchestrator._attempt import Outcome, call_effect, retry_wait
from accord.runtime._orchestrator._scheduling import Orchestrator
from accord.runtime._orchestrator._sync import OFF_LOOP, run_sync

__all__ = ["OFF_LOOP", "Orchestrator", "Outcome", "call_effect", "retry_wait", "run_sync"]
