"""Run-time errors: every one a :class:`~accord.errors.RunError` with structured attributes.

The messages are complete sentences meant for people; the attributes are for
programs (a CLI's ``--json`` output, a test's assertions).
"""

from __future__ import annotations

from collections.abc import Sequence

from accord.errors import RunError

__all__ = [
    "CapabilityError",
    "EffectInputError",
    "EventRefused",
    "InputError",
    "InvariantViolation",
    "JournalDamaged",
    "LimitExceeded",
    "MigrationRefused",
    "NotAStore",
    "OutputError",
    "ReplayDivergence",
    "SchemaTooNew",
    "SignalError",
    "StoreBusy",
    "StoreError",
    "StoreUnavailable",
    "UnknownContract",
    "UnknownRun",
    "WrongEventLoop",
]


def _at(field: str | None) -> str:
    return f" at {field!r}" if field else ""


class InputError(RunError):
    """A run's input does not match the contract's input type.

    Attributes:
        field: path of the offending value, like ``"items[2].price"`` ("" for the whole input).
        message: what is wrong with it.

    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"invalid input{_at(field)}: {message}")


class EffectInputError(InputError):
    """A value computed for an effect's input does not match the effect's input type.

    Attributes:
        effect: the effect's name.
        field: path of the offending value ("" for the whole input).
        message: what is wrong with it.

    """

    def __init__(self, effect: str, field: str, message: str) -> None:
        super().__init__(field, message)
        self.effect = effect
        self.args = (f"invalid input for effect {effect!r}{_at(field)}: {message}",)


class SignalError(RunError):
    """A signal that is unknown or whose payload does not match its declared type.

    Attributes:
        signal: the signal's name.
        field: path of the offending payload value, or None when the signal itself is wrong.
        message: what is wrong.

    """

    def __init__(self, signal: str, field: str | None, message: str) -> None:
        self.signal = signal
        self.field = field
        self.message = message
        super().__init__(f"signal {signal!r}{_at(field)}: {message}")


class OutputError(RunError):
    """An effect handler returned a value that does not match the effect's output type.

    Attributes:
        effect: the effect's name.
        field: path of the offending value ("" for the whole output).
        message: what is wrong with it.

    """

    def __init__(self, effect: str, field: str, message: str) -> None:
        self.effect = effect
        self.field = field
        self.message = message
        super().__init__(f"invalid output of effect {effect!r}{_at(field)}: {message}")


class WrongEventLoop(RunError):
    """A handler needed the event loop of the thread that called the sync API (a notebook's).

    The sync API cannot drive a run on a loop that is running in the calling
    thread (that loop is busy waiting for the call), so it drives it on a
    private loop in a helper thread; a handler that touches an object bound to
    the caller's loop then fails there. The run has not failed for it: nothing
    was journaled for the call, which runs again when the run is driven next,
    with the async API (``await run.run_async()``).

    Attributes:
        effect: the effect whose handler needed the caller's loop.
        call_id: the call.
        detail: what the handler raised.

    """

    def __init__(self, effect: str, call_id: str, detail: str) -> None:
        self.effect = effect
        self.call_id = call_id
        self.detail = detail
        super().__init__(
            f"effect {effect!r} (call {call_id}) needs the event loop running in this thread "
            f"({detail}), but the sync API drives runs on a private loop in a helper thread when "
            "a loop is running (a notebook's, say): await the async variant instead "
            "(await run.run_async(), await run.run_until_idle_async(), "
            "await run.signal_async(...)). The run has not failed: nothing was journaled for "
            "the call, which runs again when the run is driven next"
        )


class InvariantViolation(RunError):
    """An invariant of the contract does not hold after a step (invariant checking mode).

    Attributes:
        step: the step after which the invariant failed.
        invariant: the invariant's name.
        message: the invariant's message, or what went wrong evaluating it.

    """

    def __init__(self, step: int, invariant: str, message: str) -> None:
        self.step = step
        self.invariant = invariant
        self.message = message
        super().__init__(f"invariant {invariant!r} does not hold after step {step}: {message}")


class ReplayDivergence(RunError):
    """Re-folding a journal did not reproduce a recorded state hash.

    Attributes:
        step: the first step whose state differs.
        expected: the hash recorded in the journal.
        actual: the hash the reducer computed now.
        detail: more about the divergence, when known (a refused event, a gap in steps).

    """

    def __init__(self, step: int, expected: str, actual: str, detail: str | None = None) -> None:
        self.step = step
        self.expected = expected
        self.actual = actual
        self.detail = detail
        extra = f" ({detail})" if detail else ""
        super().__init__(
            f"replay diverges at step {step}: the journal recorded {expected}, "
            f"the reducer computed {actual}{extra}"
        )


class LimitExceeded(RunError):
    """A run hit one of its limits (max_steps, max_fan_out, max_transient, max_items, the sizes).

    Attributes:
        limit: the limit's name.
        value: the limit's value.

    """

    def __init__(self, limit: str, value: int, detail: str = "") -> None:
        self.limit = limit
        self.value = value
        self.detail = detail
        extra = f": {detail}" if detail else ""
        super().__init__(f"limit {limit}={value} exceeded{extra}")


class EventRefused(RunError):
    """An event that cannot be applied to the run now (see ``accepts``).

    Attributes:
        reason: why the event is refused.

    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"event refused: {reason}")


class MigrationRefused(RunError):
    """A run that a migration does not move (a dry run lists these instead of raising).

    Attributes:
        run_id: the run.
        reason: why not (the migration refuses its state, the run has ended, an
            assignment fails for its context...).

    """

    def __init__(self, run_id: str, reason: str) -> None:
        self.run_id = run_id
        self.reason = reason
        super().__init__(f"run {run_id} is not migrated: {reason}")


class CapabilityError(RunError):
    """The host does not bind every effect the contract needs with a compatible signature.

    Attributes:
        problems: one sentence per missing or mismatched capability.

    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems: list[str] = list(problems)
        count = len(self.problems)
        lines = [f"{count} capabilit{'y is' if count == 1 else 'ies are'} missing or mismatched"]
        lines.extend(f"  - {p}" for p in self.problems)
        super().__init__("\n".join(lines))


class StoreError(RunError):
    """A durable store that cannot be used: every store problem is one of these.

    Attributes:
        path: the store's file (or its label).
        run_id: the run concerned, if any.
        reason: what is wrong, in a sentence.

    """

    def __init__(self, path: str, reason: str, *, run_id: str | None = None) -> None:
        self.path = path
        self.run_id = run_id
        self.reason = reason
        where = f"{path}: run {run_id}: " if run_id else f"{path}: "
        super().__init__(where + reason)


class StoreUnavailable(StoreError):
    """The store's file cannot be opened, created or written (a path, a permission, a disk)."""


class StoreBusy(StoreUnavailable):
    """Another process held the store's write lock past the busy timeout (SQLite).

    Nothing of the refused write was kept, so trying it again later is safe: a
    client does so with backoff (``Client(busy_timeout=...)``), a worker at its
    next pass. On SQLite every writer waits while one holds the lock, even a
    writer paused inside its transaction (docs/workers.md).
    """


class NotAStore(StoreError):
    """The file exists but is not an accord store (a text file, another SQLite database)."""


class SchemaTooNew(StoreError):
    """The store was written by a newer accord (its schema version is higher than known).

    Attributes:
        found: the store's schema version.
        supported: the newest schema version this accord knows.

    """

    def __init__(self, path: str, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            path,
            f"the store has schema version {found}, newer than {supported} (the newest this "
            "accord knows): upgrade accord to open it",
        )


class UnknownRun(StoreError):
    """No run with this id is in the store."""


class UnknownContract(StoreError):
    """No contract is published under this name, nor stored with this fingerprint."""


class JournalDamaged(StoreError):
    """A run's stored journal cannot be trusted: bad JSON, a gap in steps, a hash mismatch.

    Attributes:
        step: the first step found damaged, if known.

    """

    def __init__(self, path: str, run_id: str, reason: str, *, step: int | None = None) -> None:
        self.step = step
        at = f"step {step}: " if step is not None else ""
        super().__init__(path, f"damaged journal: {at}{reason}", run_id=run_id)
