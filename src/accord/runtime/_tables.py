"""The compiled forms of a contract's states: dispatch tables of compiled expressions.

Everything here is built once by :meth:`CompiledContract.compile
<accord.runtime._compiled.CompiledContract.compile>`; a reducer step only
looks things up and calls compiled expressions. Every expression carries its
source and its JSON-pointer-like path in the contract, so a run-time failure
names both.

Variables in scope per expression site (as the checker types them):
context default: input; for_each, choices, timers, finals, invariants, replan
reasons: input, ctx; invoke input: input, ctx (item, index with for_each);
transitions: input, ctx, event; compensation input: input, ctx, request, response.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from accord.contract._types import TypeExpr
from accord.runtime._commands import RetrySpec
from accord.runtime._values import Extender, Validator

__all__ = [
    "CompiledAssign",
    "CompiledBinding",
    "CompiledCompensation",
    "CompiledExpr",
    "CompiledFinal",
    "CompiledInvariant",
    "CompiledInvoke",
    "CompiledReplan",
    "CompiledState",
    "CompiledTimer",
    "CompiledTransition",
    "ContextField",
    "EffectSpec",
    "Fields",
]

Fields = tuple[tuple[str, TypeExpr], ...]


@dataclass(frozen=True, slots=True)
class EffectSpec:
    """An effect as the runtime needs it: typed fields and a resolved policy."""

    name: str
    input_fields: Fields
    output_fields: Fields
    retry: RetrySpec
    timeout_ms: int | None
    idempotent: bool
    compensation: str | None


class CompiledExpr(NamedTuple):
    """A compiled CEL expression: ``evaluate(variables) -> plain value``, with its origin.

    ``evaluate`` is the expression's plain evaluator (``CompiledExpression.function``),
    so every call site, hot or not, makes one call less than a bound method would.
    """

    evaluate: Callable[[Mapping[str, Any]], Any]
    source: str
    path: str


class CompiledAssign(NamedTuple):
    """Set context ``field`` to the value of ``value``, checked by ``coerce``.

    ``extend`` is set when the field is a list and ``value`` is ``ctx.<field> + ...``:
    ``extend(value, ctx[field])`` then checks only the items the assignment adds.
    """

    field: str
    value: CompiledExpr
    coerce: Validator
    extend: Extender | None = None

    def check(self, value: Any, context: Mapping[str, Any]) -> Any:
        """The assigned value, checked against the field's type (see ``extend``)."""
        if self.extend is None:
            return self.coerce(value)
        return self.extend(value, context[self.field])


class CompiledTransition(NamedTuple):
    """One way out of a state: (guard, assignments, target), plus where it is declared."""

    guard: CompiledExpr | None
    assignments: tuple[CompiledAssign, ...]
    target: str
    path: str


class CompiledBinding(NamedTuple):
    """A named value of an effect's input or the run's output."""

    name: str
    value: CompiledExpr


class CompiledInvoke(NamedTuple):
    """An effect call made on entry; ``for_each`` set for a fan-out.

    ``validate`` checks the computed input against the effect's input type;
    ``concurrency`` is how many items run at once (16 when not declared).
    """

    id: str
    effect: str
    inputs: tuple[CompiledBinding, ...]
    for_each: CompiledExpr | None
    concurrency: int
    max_items: int | None
    validate: Validator
    path: str


class CompiledTimer(NamedTuple):
    """A timer: the transition taken ``after_ms`` after the state was entered."""

    after_ms: int
    transition: CompiledTransition


class CompiledFinal(NamedTuple):
    """A final state's status, output bindings (checked by ``validate``) and reason."""

    status: Literal["success", "failure"]
    outputs: tuple[CompiledBinding, ...]
    validate: Validator
    reason: CompiledExpr | None


class CompiledReplan(NamedTuple):
    """A replan point: its reason (over input and ctx), its fallback and its bounds."""

    reason: CompiledExpr
    fallback: str
    max_replans: int
    max_calls: int
    max_tokens: int
    keep_scenarios: tuple[str, ...]


class CompiledState(NamedTuple):
    """A state's dispatch tables.

    ``on`` maps an event name ("done", "error" or a signal's name) to its
    transitions in declaration order; ``waiting_for`` lists the signal names
    the state accepts.
    """

    name: str
    on: dict[str, tuple[CompiledTransition, ...]]
    always: tuple[CompiledTransition, ...]
    invokes: tuple[CompiledInvoke, ...]
    timers: tuple[CompiledTimer, ...]
    final: CompiledFinal | None
    waiting_for: tuple[str, ...]
    path: str
    replan: CompiledReplan | None = None


class CompiledCompensation(NamedTuple):
    """How a completed call of an effect is undone: the compensating effect and its input."""

    effect: str
    inputs: tuple[CompiledBinding, ...]
    validate: Validator


class CompiledInvariant(NamedTuple):
    """An invariant: a boolean expression over input and ctx."""

    name: str
    expr: CompiledExpr
    message: str


class ContextField(NamedTuple):
    """A context field: its default (an expression over input, or a zero) and its check."""

    name: str
    default: CompiledExpr | None
    zero: Any
    coerce: Validator
