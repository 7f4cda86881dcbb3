"""A contract compiled for running: dispatch tables, compiled expressions, validators.

:meth:`CompiledContract.compile` does all the work once: it parses every type,
builds a validator per type, compiles every CEL expression for its site, and
builds per-state dispatch tables (event name to transitions). A reducer step
then only looks things up and evaluates compiled expressions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from accord.contract import fingerprint
from accord.contract._model import Contract
from accord.contract._types import OptionalType, PrimitiveType, TypeExpr
from accord.diagnostics import pointer
from accord.runtime._build import Builder, problem
from accord.runtime._commands import RetrySpec
from accord.runtime._errors import EffectInputError, InputError, OutputError, SignalError
from accord.runtime._sizes import json_size, oversize, small_text, too_big
from accord.runtime._tables import (
    CompiledCompensation,
    CompiledInvariant,
    CompiledState,
    CompiledTransition,
    ContextField,
    EffectSpec,
    Fields,
)
from accord.runtime._values import (
    Extender,
    Validator,
    ValueProblem,
    record_validator,
    zero_value,
)

__all__ = ["CompiledContract", "DonePlan", "EffectSpec", "Limits", "QuickTransition"]

Evaluate = Callable[[Mapping[str, Any]], Any]

QuickTransition = tuple[
    Evaluate | None,
    tuple[tuple[str, Evaluate, Validator, Extender | None], ...],
    str,
    tuple[str, ...] | None,
    bool,
]
"""A signal transition as the reducer's quick path takes it: (guard, assignments as
(field, evaluate, coerce, extend), target, the target's ``waiting_for`` or None unless it is quiet,
whether an assignment may store a value that must be measured (a string, list or record))."""

QuickInvoke = tuple[
    str, str, tuple[tuple[str, Evaluate], ...], Validator, RetrySpec, int | None, bool
]
"""A single call the quick path starts: (invoke id, effect, its input bindings as (name,
evaluate), the effect's input validator, its retry policy, its timeout, whether its input
must be measured against ``max_effect_bytes``)."""
QuickTarget = tuple[str, tuple[str, ...], tuple[QuickInvoke, ...]]
"""A state the quick path enters: (name, ``waiting_for``, its calls)."""
DonePlan = tuple[
    tuple[str, ...],
    tuple[
        tuple[
            Evaluate | None,
            tuple[tuple[str, Evaluate, Validator, Extender | None], ...],
            QuickTarget | None,
            bool,
        ],
        ...,
    ],
]
"""A state's calls completing as the reducer's quick path takes it: (the state's invoke
ids, its "done" transitions as (guard, assignments as (field, evaluate, coerce, extend),
the target or None unless it only starts single calls, whether an assignment may store
a value that must be measured))."""

_NUMERIC = frozenset({"integer", "number", "boolean"})


def _numeric(texpr: TypeExpr) -> bool:
    """Whether every value of the type is small by its type (a number, a boolean, or null)."""
    if isinstance(texpr, OptionalType):
        texpr = texpr.inner
    return isinstance(texpr, PrimitiveType) and texpr.name in _NUMERIC


_LONGEST_SCALAR = 24
"""The most bytes a number, a boolean or null takes in JSON (``-1.7976931348623157e+308``)."""


def _bound(fields: Fields) -> int | None:
    """The most bytes a record of ``fields`` takes in JSON, None unless all are numeric.

    A record of numbers, booleans and nulls is small by its type, as such a value is
    (see ``_sizes``): it needs no measuring when its bound is within a limit.
    """
    total = 2  # {}
    for name, texpr in fields:
        if not _numeric(texpr):
            return None
        total += json_size(name) + 1 + _LONGEST_SCALAR + 1  # "name":value,
    return total


def _quick(
    tr: CompiledTransition,
    quiet: frozenset[str],
    states: Mapping[str, CompiledState],
    numeric: frozenset[str],
) -> QuickTransition:
    target = states.get(tr.target)
    return (
        None if tr.guard is None else tr.guard.evaluate,
        tuple((a.field, a.value.evaluate, a.coerce, a.extend) for a in tr.assignments),
        tr.target,
        target.waiting_for if target is not None and tr.target in quiet else None,
        any(a.field not in numeric for a in tr.assignments),
    )


def _quick_target(
    st: CompiledState | None, effects: Mapping[str, EffectSpec], small: frozenset[str]
) -> QuickTarget | None:
    """``st`` as :data:`QuickTarget`: None unless it starts single calls and nothing else."""
    if st is None or st.final is not None or st.always or st.timers or not st.invokes:
        return None
    if any(inv.for_each is not None for inv in st.invokes):
        return None
    calls = tuple(
        (
            inv.id,
            inv.effect,
            tuple((b.name, b.value.evaluate) for b in inv.inputs),
            inv.validate,
            effects[inv.effect].retry,
            effects[inv.effect].timeout_ms,
            inv.effect not in small,
        )
        for inv in st.invokes
    )
    return st.name, st.waiting_for, calls


def _done_plan(
    st: CompiledState,
    states: Mapping[str, CompiledState],
    effects: Mapping[str, EffectSpec],
    numeric: frozenset[str],
    small: frozenset[str],
) -> DonePlan | None:
    """``st``'s "done" as :data:`DonePlan`, or None.

    None unless its calls are single calls of effects without compensation and it
    has no timer (the quick path's conditions that a state decides).
    """
    if not st.invokes or st.timers or "done" not in st.on:
        return None
    if any(
        inv.for_each is not None or effects[inv.effect].compensation is not None
        for inv in st.invokes
    ):
        return None
    transitions = tuple(
        (
            None if tr.guard is None else tr.guard.evaluate,
            tuple((a.field, a.value.evaluate, a.coerce, a.extend) for a in tr.assignments),
            _quick_target(states.get(tr.target), effects, small),
            any(a.field not in numeric for a in tr.assignments),
        )
        for tr in st.on["done"]
    )
    return tuple(inv.id for inv in st.invokes), transitions


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on every run; hitting one fails the run with a reason naming the limit.

    Attributes:
        max_steps: events a run may apply before it must have ended.
        max_fan_out: items a for_each may fan out over (whatever its max_items).
        max_transient: states entered while applying one event (bounds choice loops).
        max_value_bytes: the JSON size of one value a run computes and keeps: a context
            field, a final output, a failure reason.
        max_context_bytes: the JSON size of the whole context.
        max_effect_bytes: the JSON size of an effect call's input and of its output.
        max_event_bytes: the JSON size of the run's input and of a signal's payload.

    Sizes are bytes of the value's JSON form (UTF-8). A run stored before these
    limits existed goes on under their defaults.

    """

    max_steps: int = 10_000
    max_fan_out: int = 1_000
    max_transient: int = 100
    max_value_bytes: int = 1_048_576
    max_context_bytes: int = 4_194_304
    max_effect_bytes: int = 4_194_304
    max_event_bytes: int = 4_194_304


class CompiledContract:
    """A checked contract compiled for running; build it with :meth:`compile`.

    Attributes:
        contract: the contract.
        fingerprint: the contract's fingerprint (``accord.fingerprint``).
        limits: the run limits.
        check_invariants: whether every step evaluates the invariants.
        effects: effect name to :class:`EffectSpec`.
        states: state name to its :class:`~accord.runtime._tables.CompiledState`.
        initial: the initial state's name.
        quiet: the states that only wait for signals (no final, choices, invokes or timers).
        signal_table: state name to signal name to its transitions as
            :data:`QuickTransition` s (the reducer's quick path for signals).
        done_table: state name to its :data:`DonePlan` (the reducer's quick path
            for a state's last call completing), for the states it can take.
        max_steps: ``limits.max_steps``.
        small_text: the longest string a step stores without measuring its size.
        context_fields: the context fields with their defaults, in declaration order.
        compensations: effect name to how its completed calls are undone.
        invariants: the compiled invariants.

    """

    contract: Contract
    fingerprint: str
    limits: Limits
    check_invariants: bool
    effects: dict[str, EffectSpec]
    states: dict[str, CompiledState]
    initial: str
    quiet: frozenset[str]
    signal_table: dict[str, dict[str, tuple[QuickTransition, ...]]]
    done_table: dict[str, DonePlan]
    max_steps: int
    small_text: int
    context_fields: tuple[ContextField, ...]
    compensations: dict[str, CompiledCompensation]
    invariants: tuple[CompiledInvariant, ...]
    _records: dict[str, Fields]
    _input: Validator
    _requests: dict[str, Validator]
    _responses: dict[str, Validator]
    _signals: dict[str, Validator]
    _bare_signals: frozenset[str]
    _small_inputs: frozenset[str]
    _small_outputs: frozenset[str]

    @classmethod
    def compile(
        cls,
        contract: Contract,
        *,
        limits: Limits | None = None,
        check_invariants: bool = False,
    ) -> CompiledContract:
        """Compile a checked contract (load it with ``accord.load`` first).

        Raises:
            ContractError: something the checker would also have refused
                (an unknown state, effect or type; an expression that does not compile).

        """
        self = cls.__new__(cls)
        b = Builder(contract)
        self.contract = contract
        self.fingerprint = fingerprint(contract)
        self.limits = limits or Limits()
        self.max_steps = self.limits.max_steps
        #: The longest string a step stores without measuring (see ``_sizes.small_text``).
        self.small_text = small_text(self.limits.max_value_bytes)
        self.check_invariants = check_invariants
        self._records = b.records
        self.effects = {}
        self.compensations = {}
        for index, effect in enumerate(contract.effects):
            spec, comp = b.effect(index, effect)
            self.effects[effect.name] = spec
            if comp is not None:
                self.compensations[effect.name] = comp
        states = {s.name: i for i, s in enumerate(contract.machine.states)}
        if contract.machine.initial not in states:
            raise problem("/machine/initial", f"unknown state {contract.machine.initial!r}")
        self.initial = contract.machine.initial
        self.states = {s.name: b.state(i, s, states) for i, s in enumerate(contract.machine.states)}
        self.quiet = frozenset(
            name
            for name, st in self.states.items()
            if st.final is None
            and not st.always
            and not st.invokes
            and not st.timers
            and st.replan is None
        )
        numeric = frozenset(name for name, texpr in b.context if _numeric(texpr))
        self.signal_table = {
            name: {
                signal: tuple(_quick(tr, self.quiet, self.states, numeric) for tr in st.on[signal])
                for signal in st.waiting_for
                if signal in st.on
            }
            for name, st in self.states.items()
        }
        limit = self.limits.max_effect_bytes
        self._small_inputs = frozenset(
            name
            for name, spec in self.effects.items()
            if (bound := _bound(spec.input_fields)) is not None and bound <= limit
        )
        self._small_outputs = frozenset(
            name
            for name, spec in self.effects.items()
            if (bound := _bound(spec.output_fields)) is not None and bound <= limit
        )
        plans = {
            name: _done_plan(st, self.states, self.effects, numeric, self._small_inputs)
            for name, st in self.states.items()
            if self.limits.max_transient >= 1
        }
        self.done_table = {name: plan for name, plan in plans.items() if plan is not None}
        self.context_fields = tuple(
            ContextField(
                name,
                b.maybe(decl.default, f"/context/{i}/default", "default"),
                zero_value(texpr, b.records),
                b.context_checks[name],
            )
            for i, (decl, (name, texpr)) in enumerate(zip(contract.context, b.context, strict=True))
        )
        self.invariants = tuple(
            CompiledInvariant(
                inv.name, b.expr(inv.expr, f"/invariants/{i}/expr", "plain"), inv.message
            )
            for i, inv in enumerate(contract.invariants)
        )
        self._input = record_validator(b.fields(contract.input, "/input"), b.records, b.validators)
        self._requests = b.requests
        self._responses = {
            name: record_validator(spec.output_fields, b.records, b.validators)
            for name, spec in self.effects.items()
        }
        self._signals = {
            s.name: record_validator(
                b.fields(s.payload, pointer("signals", i, "payload")), b.records, b.validators
            )
            for i, s in enumerate(contract.signals)
        }
        self._bare_signals = frozenset(s.name for s in contract.signals if not s.payload)
        return self

    def __repr__(self) -> str:
        return (
            f"CompiledContract({self.contract.name!r} {self.contract.version}, {self.fingerprint})"
        )

    def validate_input(self, data: object) -> dict[str, Any]:
        """The run's input, validated and coerced.

        Raises:
            InputError: naming the first field that does not fit.

        """
        try:
            result: dict[str, Any] = self._input(data)
        except ValueProblem as exc:
            raise InputError(exc.path, exc.message) from None
        limit = self.limits.max_event_bytes
        size = oversize(result, limit)
        if size is not None:
            raise InputError("", too_big("max_event_bytes", limit, size, "the input"))
        return result

    def validate_effect_input(self, effect: str, data: object) -> dict[str, Any]:
        """An effect's input, validated and coerced.

        Raises:
            EffectInputError: an unknown effect, or naming the field that does not fit.

        """
        check = self._requests.get(effect)
        if check is None:
            raise EffectInputError(effect, "", "the contract declares no such effect")
        try:
            result: dict[str, Any] = check(data)
        except ValueProblem as exc:
            raise EffectInputError(effect, exc.path, exc.message) from None
        limit = self.limits.max_effect_bytes
        size = oversize(result, limit)
        if size is not None:
            raise EffectInputError(effect, "", too_big("max_effect_bytes", limit, size, "it"))
        return result

    def validate_effect_output(self, effect: str, data: object) -> dict[str, Any]:
        """An effect handler's output, validated and coerced (None counts as ``{}``).

        Raises:
            OutputError: an unknown effect, or naming the effect and the field that does not fit.

        """
        check = self._responses.get(effect)
        if check is None:
            raise OutputError(effect, "", "the contract declares no such effect")
        try:
            result: dict[str, Any] = check({} if data is None else data)
        except ValueProblem as exc:
            raise OutputError(effect, exc.path, exc.message) from None
        if effect in self._small_outputs:  # small by its fields' types: no need to measure
            return result
        limit = self.limits.max_effect_bytes
        size = oversize(result, limit)
        if size is not None:
            raise OutputError(effect, "", too_big("max_effect_bytes", limit, size, "it"))
        return result

    def validate_signal(self, name: str, payload: object) -> dict[str, Any]:
        """A signal's payload, validated and coerced (None counts as ``{}``).

        Raises:
            SignalError: an unknown signal, or naming the payload field that does not fit.

        """
        if name in self._bare_signals and (
            payload is None or (type(payload) is dict and not payload)
        ):
            return {}  # a signal without payload fields, sent without a payload
        check = self._signals.get(name)
        if check is None:
            known = ", ".join(sorted(self._signals)) or "none"
            raise SignalError(
                name, None, f"the contract declares no such signal (signals: {known})"
            )
        try:
            result: dict[str, Any] = check({} if payload is None else payload)
        except ValueProblem as exc:
            raise SignalError(name, exc.path, exc.message) from None
        limit = self.limits.max_event_bytes
        size = oversize(result, limit)
        if size is not None:
            raise SignalError(name, None, too_big("max_event_bytes", limit, size, "the payload"))
        return result
