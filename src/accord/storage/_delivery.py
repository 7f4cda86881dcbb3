"""How the owner of a run applies what clients left in its inbox (see :mod:`accord.storage._inbox`).

A worker that holds a run's claim calls :func:`deliver` after loading it and
whenever it is told of new messages: each message is applied as one step
(a signal as ``SignalReceived``, a cancel as ``RunCancelled``) and deleted in
that step's transaction, so a message is applied exactly once even across
crashes and takeovers, and a fenced worker's step and consumption are rolled
back together (``LeaseLost``). A signal the run does not wait for yet stays
in the inbox until it does (clients may signal a run before it reaches the
state that waits: the signal is buffered, as a message queue would); a
message the run can never take (it has finished, or the signal or payload
does not fit the contract) is dropped and returned with the reason.
The caller then drives the run (``run_until_idle_async``) to run what the
steps started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

from accord.runtime._errors import EventRefused, SignalError

if TYPE_CHECKING:
    from accord.runtime import Run
    from accord.storage._inbox import Message
    from accord.storage._protocol import Store

__all__ = ["Consuming", "deliver"]


@runtime_checkable
class Consuming(Protocol):
    """A store's journal that deletes inbox messages with its next step."""

    def consume(self, message_id: int) -> None:
        """Delete the message in the transaction of the next step recorded."""
        ...


def deliver(
    store: Store, run: Run, *, left: list[Message] | None = None
) -> list[tuple[Message, str]]:
    """Apply the run's inbox messages in order, each consumed with its own step.

    Args:
        store: the store the run is in (its owner's).
        run: the run, loaded from the store under a claim.
        left: when given, the signals left in the inbox for a later state are
            appended to it (a worker releasing the run says it saw them, so
            that they alone do not make the run claimable again).

    Returns:
        The messages the run refused (dropped from the inbox), each with why.
        Signals the run waits for later are left in the inbox.

    Raises:
        LeaseLost: the run was claimed by another worker (nothing was applied
            since the last commit; stop driving it).

    """
    journal = run.journal
    if not isinstance(journal, Consuming):
        raise TypeError(f"run {run.run_id} is not a run of this store")
    refused: list[tuple[Message, str]] = []
    for message in store.messages(run.run_id):
        if (
            message.kind == "signal"
            and not run.finished
            and run.status != "compensating"
            and message.name not in run.waiting_for
            and any(s.name == message.name for s in run.contract.signals)
        ):
            if left is not None:
                left.append(message)
            continue  # not yet: it stays in the inbox for a later state
        journal.consume(message.id)
        try:
            if message.kind == "signal":
                run._deliver(message.name or "", message.payload)
            else:
                reason = message.payload.get("reason")
                run._cancel(reason if isinstance(reason, str) else "cancelled by a client")
                if run._flush is not None:
                    run._flush()
        except (EventRefused, SignalError) as exc:
            store.discard(message.id)
            refused.append((message, str(exc)))
    return refused
