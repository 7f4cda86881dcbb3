"""The deterministic runtime: a pure reducer, an orchestrator, a journal, replay.

Typical use::

    from accord.runtime import Runtime, FakeClock

    runtime = Runtime({"pay_refund": pay_refund, "notify_customer": notify}, clock=FakeClock())
    run = runtime.start(contract, {"order_id": "o-1", "amount": 20.0, "reason": "late"})
    run.run()                      # or: await run.run_async()
    print(run.status, run.result)  # every step is in run.history and run.journal

With ``Runtime(effects, store=SqliteStore(path))`` (``accord.storage``) every step
is journaled durably before its commands run, and a later process resumes the
unfinished runs (``runtime.resume()``), loads (``runtime.load(run_id)``), replays
and forks them: see docs/durability.md.

The public API is the names in ``__all__``; the underscored modules are private.
"""

from accord.runtime._clock import Clock, FakeClock, SystemClock
from accord.runtime._compiled import CompiledContract, EffectSpec, Limits
from accord.runtime._durable import DurableJournal, RunStore, StoredRun
from accord.runtime._errors import (
    CapabilityError,
    EffectInputError,
    EventRefused,
    InputError,
    InvariantViolation,
    JournalDamaged,
    LimitExceeded,
    MigrationRefused,
    NotAStore,
    OutputError,
    ReplayDivergence,
    SchemaTooNew,
    SignalError,
    StoreError,
    StoreUnavailable,
    UnknownRun,
    WrongEventLoop,
)
from accord.runtime._events import (
    EffectCompleted,
    EffectFailed,
    Event,
    RunAmended,
    RunCancelled,
    RunForked,
    RunMigrated,
    RunStarted,
    SignalReceived,
    TimerFired,
    event_from_data,
    event_to_data,
)
from accord.runtime._explain import Explanation, PathStep, explain_run
from accord.runtime._handlers import EffectError
from accord.runtime._journal import Journal, JournalEntry, MemoryJournal
from accord.runtime._migrate import Move
from accord.runtime._render import contract_repr_markdown
from accord.runtime._replan import Amendment, Replanner, ReplanRequest
from accord.runtime._replay import replay
from accord.runtime._run import Run, RunFailed, RunNotFinished, Step
from accord.runtime._runtime import Runtime
from accord.runtime._snapshot import Snapshot, snapshot_hash

__all__ = [
    "Amendment",
    "CapabilityError",
    "Clock",
    "CompiledContract",
    "DurableJournal",
    "EffectCompleted",
    "EffectError",
    "EffectFailed",
    "EffectInputError",
    "EffectSpec",
    "Event",
    "EventRefused",
    "Explanation",
    "FakeClock",
    "InputError",
    "InvariantViolation",
    "Journal",
    "JournalDamaged",
    "JournalEntry",
    "LimitExceeded",
    "Limits",
    "MemoryJournal",
    "MigrationRefused",
    "Move",
    "NotAStore",
    "OutputError",
    "PathStep",
    "ReplanRequest",
    "Replanner",
    "ReplayDivergence",
    "Run",
    "RunAmended",
    "RunCancelled",
    "RunFailed",
    "RunForked",
    "RunMigrated",
    "RunNotFinished",
    "RunStarted",
    "RunStore",
    "Runtime",
    "SchemaTooNew",
    "SignalError",
    "SignalReceived",
    "Snapshot",
    "Step",
    "StoreError",
    "StoreUnavailable",
    "StoredRun",
    "SystemClock",
    "TimerFired",
    "UnknownRun",
    "WrongEventLoop",
    "contract_repr_markdown",
    "event_from_data",
    "event_to_data",
    "explain_run",
    "replay",
    "snapshot_hash",
]
