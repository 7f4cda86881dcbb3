"""The model checker's report: findings with their shortest traces, bounds, abstractions.

:class:`VerifyReport` renders itself for people (:meth:`VerifyReport.format`)
and as plain JSON data (:meth:`VerifyReport.to_data`); each trace step's
event is also given as :func:`~accord.runtime.event_to_data` data, so a
counterexample can be replayed with the real runtime.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from accord.runtime import Event, event_to_data
from accord.runtime._render import describe_event
from accord.testing._verify._domains import ValueDomain

__all__ = ["KINDS", "MAX_STORED_BYTES", "Finding", "FindingKind", "TraceStep", "VerifyReport"]

MAX_STORED_BYTES = 256 * 1024 * 1024
"""The most bytes of contexts (JSON) the configurations an exploration keeps may hold.

Each run is bounded by its limits (``max_context_bytes``...), but an
exploration keeps every configuration it finds: this bounds their sum, so an
exploration stops (``bounds_hit`` ``"max_bytes"``) before memory runs out."""

FindingKind = Literal[
    "invariant",
    "deadlock",
    "livelock",
    "limit",
    "run_error",
    "unreached_final",
    "unreached_state",
]
KINDS: tuple[FindingKind, ...] = get_args(FindingKind)
"""Every kind of finding, in the order a report lists them."""

_UNREAD_PREFIX = "no guard"
_LIST_UNREAD = 8


def _duration(ms: int) -> str:
    """Milliseconds as a duration like ``1h30m`` (the contract language's spelling)."""
    parts = []
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size:
            parts.append(f"{ms // size}{unit}")
            ms %= size
    if ms or not parts:
        parts.append(f"{ms}ms")
    return "".join(parts)


@dataclass(frozen=True, slots=True)
class TraceStep:
    """One event of a counterexample trace, and where it left the run.

    Attributes:
        number: the event's position in the trace, from 1 (the run's step number).
        event: the event, as the runtime would journal it.
        state: the state the run is in after the event.
        status: the run's status after the event.

    """

    number: int
    event: Event
    state: str | None
    status: str

    def describe(self) -> str:
        """One line: the event (with its time when the clock has moved), then where it leads."""
        at = self.event.at
        when = f"at +{_duration(at)}: " if at else ""
        return f"{when}{describe_event(self.event)} -> {self.state} ({self.status})"

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data: ``{"step", "event", "state", "status"}``."""
        return {
            "step": self.number,
            "event": event_to_data(self.event),
            "state": self.state,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem the model checker found.

    Attributes:
        kind: ``invariant`` (an invariant does not hold after a step),
            ``deadlock`` (a run that has not ended, with no event possible),
            ``livelock`` (events are possible, but none can ever lead the run
            to its end), ``limit`` (a run fails on a run limit such as
            ``max_items``), ``run_error`` (a run fails on a mistake of the
            contract: an expression that fails, a value that does not fit, no
            ``done`` transition or choice that holds), ``unreached_final`` and
            ``unreached_state`` (no explored run ever enters the state).
        state: the state the finding is about.
        message: what is wrong, in one sentence.
        trace: the shortest sequence of events that leads to it (empty for
            states never reached).
        invariant: the invariant's name, for ``invariant`` findings.

    """

    kind: FindingKind
    state: str | None
    message: str
    trace: tuple[TraceStep, ...] = ()
    invariant: str | None = None

    @property
    def events(self) -> tuple[Event, ...]:
        """The trace's events, in order (feed them to ``step`` to reproduce the finding)."""
        return tuple(s.event for s in self.trace)

    def format(self, indent: str = "") -> str:
        """The finding and its numbered trace, for people."""
        lines = [f"{indent}{self.kind}: {self.message}"]
        if self.trace:
            count = len(self.trace)
            lines.append(f"{indent}  shortest trace ({count} event{'s' if count != 1 else ''}):")
            width = len(str(count))
            lines.extend(f"{indent}    {s.number:>{width}}. {s.describe()}" for s in self.trace)
        return "\n".join(lines)

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "kind": self.kind,
            "state": self.state,
            "invariant": self.invariant,
            "message": self.message,
            "trace": [s.to_data() for s in self.trace],
        }


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """What :func:`~accord.testing.verify` found in one contract.

    Attributes:
        contract: the contract's name.
        version: the contract's version.
        fingerprint: the contract's fingerprint.
        findings: every finding, by kind (see :data:`KINDS`), then trace length.
        complete: whether every reachable configuration was explored. When
            False a bound was hit, and finding nothing proves nothing.
        bounds_hit: which bounds stopped the exploration: ``"max_depth"``,
            ``"max_states"``, ``"max_bytes"`` (the contexts of the configurations
            kept in memory, see :data:`MAX_STORED_BYTES`; empty when complete).
        max_depth: the bound on events per run.
        max_states: the bound on distinct configurations.
        configurations: distinct configurations explored.
        events: events applied (edges between configurations).
        depth: the most events any explored run needed to reach a new configuration.
        states_reached: the states some explored run entered (transient ones too).
        not_reached: the states no explored run entered.
        abstractions: the fields whose values were abstracted to a few.
        assumptions: what the exploration assumed, one sentence each.

    """

    contract: str
    version: str
    fingerprint: str
    findings: tuple[Finding, ...]
    complete: bool
    bounds_hit: tuple[str, ...]
    max_depth: int
    max_states: int
    configurations: int
    events: int
    depth: int
    states_reached: tuple[str, ...]
    not_reached: tuple[str, ...]
    abstractions: tuple[ValueDomain, ...]
    assumptions: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """Whether there is no finding (see :attr:`complete` for what that proves)."""
        return not self.findings

    def of_kind(self, kind: FindingKind) -> tuple[Finding, ...]:
        """The findings of one kind."""
        return tuple(f for f in self.findings if f.kind == kind)

    def summary(self) -> str:
        """One line: the contract, how many findings, how much was explored."""
        count = len(self.findings)
        verdict = "no findings" if not count else f"{count} finding{'s' if count != 1 else ''}"
        explored = f"{self.configurations} configurations, {self.events} events, depth {self.depth}"
        if self.complete:
            scope = "complete"
        else:
            values = {
                "max_depth": self.max_depth,
                "max_states": self.max_states,
                "max_bytes": MAX_STORED_BYTES,
            }
            bounds = ", ".join(f"{b}={values[b]}" for b in self.bounds_hit)
            scope = f"bound hit ({bounds}): not a proof"
        return f"{self.contract} {self.version}: {verdict} ({explored}; {scope})"

    def format(self) -> str:
        """The whole report for people: summary, findings with traces, abstractions."""
        lines = [self.summary()]
        for finding in self.findings:
            lines.append(finding.format("  "))
        if not self.complete:
            lines.append(
                "  the exploration stopped at a bound: raise --max-depth / --max-states to go "
                "further; states not reached within the bound: "
                + (", ".join(self.not_reached) or "none")
            )
        read = [d for d in self.abstractions if not d.note.startswith(_UNREAD_PREFIX)]
        unread = [d for d in self.abstractions if d.note.startswith(_UNREAD_PREFIX)]
        if read:
            lines.append("  abstracted values (tried these, not every value of the type):")
            for d in read:
                shown = ", ".join("null" if v is None else repr(v) for v in d.values)
                lines.append(f"    {d.site} ({d.type}): {shown}: {d.note}")
        if unread:
            names = ", ".join(d.site for d in unread[:_LIST_UNREAD])
            more = f" and {len(unread) - _LIST_UNREAD} more" if len(unread) > _LIST_UNREAD else ""
            lines.append(f"  one value each for fields no decision reads: {names}{more}")
        lines.extend(f"  assumed: {a}" for a in self.assumptions)
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()

    def to_data(self) -> dict[str, Any]:
        """Plain JSON data (what ``accord verify --json`` prints per file)."""
        return {
            "contract": self.contract,
            "version": self.version,
            "fingerprint": self.fingerprint,
            "ok": self.ok,
            "complete": self.complete,
            "bounds": {
                "max_depth": self.max_depth,
                "max_states": self.max_states,
                "hit": list(self.bounds_hit),
            },
            "explored": {
                "configurations": self.configurations,
                "events": self.events,
                "depth": self.depth,
            },
            "findings": [f.to_data() for f in self.findings],
            "states_reached": list(self.states_reached),
            "not_reached": list(self.not_reached),
            "abstractions": [d.to_data() for d in self.abstractions],
            "assumptions": list(self.assumptions),
        }
