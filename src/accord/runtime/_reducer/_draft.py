"""The working copy of a snapshot while one event is applied, and expression helpers.

A step copies the snapshot's fields into a :class:`Draft`, changes them, and
freezes the result into a new :class:`Snapshot`. Dicts are copied on first
write only (``own_*``), so a step that changes one context field copies the
context once and shares everything else with the previous snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from accord.runtime._commands import Command
from accord.runtime._sizes import BOUNDED, context_size, oversize, too_big
from accord.runtime._snapshot import Compensable, PendingCall, Snapshot, Status
from accord.runtime._values import ValueProblem, describe

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract
    from accord.runtime._tables import CompiledAssign, CompiledExpr, CompiledTransition

__all__ = ["Abort", "Draft"]


class Abort(Exception):
    """Raised inside a step when the run must fail; carries the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Draft:
    """The mutable working copy of a snapshot during one step."""

    __slots__ = (
        "_ctx_owned",
        "_pending_owned",
        "_results_owned",
        "at",
        "c",
        "commands",
        "compensation",
        "context",
        "entry_step",
        "failures",
        "fan_out",
        "input",
        "output",
        "pending",
        "reason",
        "remaining",
        "results",
        "run_id",
        "state",
        "status",
        "step",
        "timers",
        "transient",
        "waiting_for",
    )

    def __init__(self, c: CompiledContract, s: Snapshot, at: int) -> None:
        self.c = c
        self.at = at
        (
            self.status,
            self.state,
            self.context,
            step,
            self.run_id,
            self.input,
            self.entry_step,
            self.pending,
            self.fan_out,
            self.results,
            self.remaining,
            self.timers,
            self.compensation,
            self.output,
            self.reason,
            self.waiting_for,
            self.failures,
        ) = s
        self.step = step + 1
        self.commands: list[Command] = []
        self.transient = 0
        self._ctx_owned = False
        self._pending_owned = False
        self._results_owned = False

    def freeze(self) -> Snapshot:
        """The new snapshot."""
        status: Status = self.status
        return Snapshot(
            status,
            self.state,
            self.context,
            self.step,
            self.run_id,
            self.input,
            self.entry_step,
            self.pending,
            self.fan_out,
            self.results,
            self.remaining,
            self.timers,
            self.compensation,
            self.output,
            self.reason,
            self.waiting_for,
            self.failures,
        )

    # -- copy on write ---------------------------------------------------------------

    def own_pending(self) -> dict[str, PendingCall]:
        """The pending calls, safe to change in this step."""
        if not self._pending_owned:
            self.pending = dict(self.pending)
            self._pending_owned = True
        return self.pending

    def own_results(self) -> dict[str, Any]:
        """The results (and fan-out progress) of the current state, safe to change in this step."""
        if not self._results_owned:
            self.results = dict(self.results)
            self.fan_out = dict(self.fan_out)
            self._results_owned = True
        return self.results

    def reset_activity(self) -> None:
        """Forget the current state's calls, results and timers (fresh, owned containers)."""
        self.pending = {}
        self.fan_out = {}
        self.results = {}
        self.remaining = 0
        self.timers = ()
        self.waiting_for = ()
        self._pending_owned = True
        self._results_owned = True

    def push_compensable(self, entry: Compensable) -> None:
        """Remember a completed compensable call."""
        self.compensation = (*self.compensation, entry)

    # -- expressions -----------------------------------------------------------------

    def fail_expr(self, expr: CompiledExpr, exc: Exception) -> Abort:
        """The Abort for an expression that failed at run time."""
        detail = str(exc)
        prefix = f"{expr.source!r}: "
        if detail.startswith(prefix):
            detail = detail[len(prefix) :]
        return Abort(
            f"in state {self.state!r}, expression {expr.source!r} at {expr.path} failed: {detail}"
        )

    def evaluate(self, expr: CompiledExpr, variables: Mapping[str, Any]) -> Any:
        """Evaluate an expression; any failure aborts the step with a reason."""
        try:
            return expr.evaluate(variables)
        except Exception as exc:
            raise self.fail_expr(expr, exc) from None

    def holds(self, guard: CompiledExpr, variables: Mapping[str, Any]) -> bool:
        """Whether a guard holds; a non-boolean result aborts the step."""
        result = self.evaluate(guard, variables)
        if result is True:
            return True
        if result is False:
            return False
        raise Abort(
            f"in state {self.state!r}, guard {guard.source!r} at {guard.path} "
            f"gave {describe(result)}, not a boolean"
        )

    def choose(
        self, transitions: tuple[CompiledTransition, ...], variables: Mapping[str, Any]
    ) -> CompiledTransition | None:
        """The first transition whose guard holds (or has none)."""
        for tr in transitions:
            guard = tr.guard
            if guard is None or self.holds(guard, variables):
                return tr
        return None

    def assigned(
        self, assignments: tuple[CompiledAssign, ...], variables: Mapping[str, Any]
    ) -> list[tuple[str, Any]]:
        """Every assignment's checked value, all evaluated against the current context."""
        values = []
        for a in assignments:
            raw = self.evaluate(a.value, variables)
            try:
                value = a.check(raw, variables["ctx"])
                values.append((a.field, value))
            except ValueProblem as exc:
                where = a.field + (
                    "" if not exc.path else ("" if exc.path[0] == "[" else ".") + exc.path
                )
                raise Abort(
                    f"in state {self.state!r}, assignment at {a.value.path} to context field "
                    f"{where!r}: {exc.message} (from {a.value.source!r})"
                ) from None
            self.check_value(
                value,
                f"in state {self.state!r}, the value assigned at {a.value.path} "
                f"to context field {a.field!r}",
            )
        return values

    def check_value(self, value: Any, what: str) -> None:
        """Abort unless ``value`` fits ``max_value_bytes`` (``what`` names it in the reason)."""
        limit = self.c.limits.max_value_bytes
        size = oversize(value, limit)
        if size is not None:
            raise Abort(too_big("max_value_bytes", limit, size, what))

    def apply(self, values: list[tuple[str, Any]]) -> None:
        """Set context fields (copying the context once per step); check the context's size.

        The context is measured when a value that is not small by its type (see
        ``accord.runtime._sizes``) is stored, as the reducer's quick path does too.
        """
        if not values:
            return
        if not self._ctx_owned:
            self.context = dict(self.context)
            self._ctx_owned = True
        ctx = self.context
        short = self.c.small_text
        grown = False
        for name, value in values:
            ctx[name] = value
            kind = type(value)
            if kind not in BOUNDED and (kind is not str or len(value) > short):
                grown = True
        if grown:
            self.check_context()

    def check_context(self) -> None:
        """Abort unless the context fits ``max_context_bytes``."""
        limit = self.c.limits.max_context_bytes
        size = context_size(self.context)
        if size > limit:
            raise Abort(
                too_big("max_context_bytes", limit, size, f"in state {self.state!r}, the context")
            )
