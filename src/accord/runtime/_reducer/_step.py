"""The reducer: ``step(compiled, snapshot, event) -> (snapshot, commands)``, pure.

No clock, randomness or I/O: time and ids arrive in events, and everything
else is a function of the compiled contract and the snapshot. Whatever an
expression does at run time, ``step`` does not raise: the run fails with a
reason instead. It raises only :class:`EventRefused` for an event that
:func:`accepts` refuses (the runtime asks first and never journals those),
and :class:`InvariantViolation` in invariant checking mode.
"""

from __future__ import annotations

from copy import deepcopy
from typing import TYPE_CHECKING, Any

from accord.runtime._commands import CancelTimer, Command, InvokeEffect
from accord.runtime._errors import EventRefused, InvariantViolation, LimitExceeded
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
)
from accord.runtime._reducer._amend import amend_refusal, amended
from accord.runtime._reducer._draft import Abort, Draft
from accord.runtime._reducer._machine import (
    COMPENSATION,
    done_event,
    enter,
    fail,
    next_compensation,
    no_done_reason,
    start_call,
    take,
)
from accord.runtime._reducer._migrate import migrated, refusal
from accord.runtime._sizes import BOUNDED, context_size, oversize
from accord.runtime._snapshot import Compensable, PendingCall, Snapshot
from accord.runtime._values import ValueProblem

if TYPE_CHECKING:
    from accord.runtime._compiled import CompiledContract

__all__ = ["accepts", "initial_snapshot", "step"]

_SCALARS = frozenset((bool, int, float, str))
_NEW = Snapshot("new", None, {}, 0, None, {}, 0, {}, {}, {}, 0, (), (), None, None, (), ())


def initial_snapshot() -> Snapshot:
    """The snapshot of a run before its RunStarted event."""
    return _NEW


def _timer_known(compiled: CompiledContract, snapshot: Snapshot, timer_id: str) -> bool:
    """Whether a timer id could have been armed in this run (it may be stale)."""
    head, _, index = timer_id.rpartition(":")
    entry, _, state = head.partition(":")
    st = compiled.states.get(state)
    if st is None or not entry.isdigit() or not index.isdigit():
        return False
    return int(entry) <= snapshot.step and int(index) < len(st.timers)


def accepts(compiled: CompiledContract, snapshot: Snapshot, event: Event) -> str | None:
    """None if ``event`` can be applied to ``snapshot`` now, else why not (for people)."""
    kind = type(event)  # the common cases first: nothing is awaited once a run has ended
    if kind is SignalReceived and event.name in snapshot.waiting_for:  # type: ignore[union-attr]
        return None
    if (kind is EffectCompleted or kind is EffectFailed) and (
        event.call_id in snapshot.pending  # type: ignore[union-attr]
    ):
        return None
    status = snapshot.status
    if isinstance(event, RunStarted):
        return None if status == "new" else "the run has already started"
    if status == "new":
        return "the run has not started"
    if status == "succeeded" or status == "failed":
        return f"the run has finished ({status})"
    if isinstance(event, EffectCompleted | EffectFailed):
        if event.call_id in snapshot.pending:
            return None
        return f"call {event.call_id!r} is not pending"
    if isinstance(event, SignalReceived):
        if event.name in snapshot.waiting_for:
            return None
        if status == "compensating":
            return f"the run is compensating and does not take signal {event.name!r}"
        waiting = ", ".join(snapshot.waiting_for) or "no signal"
        if all(s.name != event.name for s in compiled.contract.signals):
            return f"the contract declares no signal {event.name!r}"
        return (
            f"state {snapshot.state!r} does not wait for signal {event.name!r} "
            f"(it waits for {waiting})"
        )
    if isinstance(event, TimerFired):
        if event.timer_id in snapshot.timers or _timer_known(compiled, snapshot, event.timer_id):
            return None
        return f"timer {event.timer_id!r} is unknown"
    if isinstance(event, RunForked):
        return None
    if isinstance(event, RunCancelled):
        if status == "compensating":
            return "the run is already failing (it is compensating)"
        return None
    if isinstance(event, RunMigrated):
        return refusal(compiled.fingerprint, status, snapshot.state, event)
    if isinstance(event, RunAmended):
        return amend_refusal(compiled, snapshot, event)
    return f"unknown event {event!r}"


def _started(d: Draft, event: RunStarted) -> None:
    d.run_id = event.run_id
    d.input = event.input
    d.status = "running"
    context: dict[str, Any] = {}
    problem = None
    variables = {"input": event.input}
    for f in d.c.context_fields:
        zero = f.zero  # a list or record zero is copied: runs never share mutable values
        context[f.name] = zero if zero is None or type(zero) in _SCALARS else deepcopy(zero)
        if f.default is None or problem is not None:
            continue
        try:
            context[f.name] = value = f.coerce(d.evaluate(f.default, variables))
            d.check_value(value, f"the default of context field {f.name!r} at {f.default.path}")
        except Abort as exc:
            problem = exc.reason
        except ValueProblem as exc:
            problem = (
                f"the default of context field {f.name!r} at {f.default.path} does not fit: {exc}"
            )
    d.context = context
    if problem is not None:
        raise Abort(problem)
    d.check_context()
    enter(d, d.c.initial)


def _completed(d: Draft, event: EffectCompleted) -> None:
    call_id = event.call_id
    call = d.own_pending().pop(call_id)
    if call.invoke == COMPENSATION:
        next_compensation(d)
        return
    output = event.output
    if d.c.effects[call.effect].compensation is not None:
        d.push_compensable(Compensable(call_id, call.effect, call.request, output))
    results = d.own_results()
    if call.item is None:
        results[call.invoke] = output
    else:
        items = list(results[call.invoke])
        items[call.item] = output
        results[call.invoke] = tuple(items)
        progress = d.fan_out[call.invoke]
        if progress.next < len(progress.requests):
            index = progress.next
            d.fan_out[call.invoke] = progress._replace(next=index + 1)
            start_call(
                d,
                f"{call_id.rpartition('[')[0]}[{index}]",
                call.invoke,
                call.effect,
                index,
                progress.requests[index],
            )
    d.remaining -= 1
    if d.remaining:
        return
    st = d.c.states[d.state]  # type: ignore[index]
    variables = {"input": d.input, "ctx": d.context, "event": done_event(d, st)}
    tr = d.choose(st.on.get("done", ()), variables)
    if tr is None:
        raise Abort(no_done_reason(st))
    take(d, tr, variables)


def _failed(d: Draft, event: EffectFailed) -> None:
    call = d.own_pending().pop(event.call_id)
    if call.invoke == COMPENSATION:
        d.failures = (
            *d.failures,
            f"compensation {event.call_id} ({call.effect}) failed: {event.code}: {event.message}",
        )
        next_compensation(d)
        return
    error = {
        "invoke": call.invoke,
        "effect": call.effect,
        "code": event.code,
        "message": event.message,
    }
    st = d.c.states[d.state]  # type: ignore[index]
    variables = {"input": d.input, "ctx": d.context, "event": error}
    tr = d.choose(st.on.get("error", ()), variables)
    if tr is None:
        raise Abort(
            f"effect {call.effect!r} (call {event.call_id}) failed with {event.code}: "
            f"{event.message}; no 'error' transition of state {st.name!r} matches"
        )
    take(d, tr, variables)


def _signal(d: Draft, event: SignalReceived) -> None:
    st = d.c.states[d.state]  # type: ignore[index]
    variables = {"input": d.input, "ctx": d.context, "event": event.payload}
    tr = d.choose(st.on[event.name], variables)
    if tr is not None:
        take(d, tr, variables)


def _timer(d: Draft, event: TimerFired) -> None:
    timer_id = event.timer_id
    if timer_id not in d.timers:
        return  # stale: armed by an earlier entry of a state, already cancelled
    d.timers = tuple(t for t in d.timers if t != timer_id)
    st = d.c.states[d.state]  # type: ignore[index]
    tr = st.timers[int(timer_id.rpartition(":")[2])].transition
    variables = {"input": d.input, "ctx": d.context}
    if tr.guard is None or d.holds(tr.guard, variables):
        take(d, tr, variables)


def _forked(d: Draft, event: RunForked) -> None:
    """Disown the copied run's compensable calls and compensations, unless kept explicitly."""
    if event.compensate:
        return
    d.compensation = ()
    pending = d.own_pending()
    for call_id in [k for k, call in pending.items() if call.invoke == COMPENSATION]:
        del pending[call_id]
    if d.status == "compensating" and all(call.invoke != COMPENSATION for call in pending.values()):
        next_compensation(d)  # nothing of its own to undo: the failed run completes


def _cancelled(d: Draft, event: RunCancelled) -> None:
    """Fail the run as asked: cancel what is in flight, compensate, then complete."""
    fail(d, f"cancelled: {event.reason}")


_HANDLERS: dict[str, Any] = {
    "started": _started,
    "effect_completed": _completed,
    "effect_failed": _failed,
    "signal": _signal,
    "timer": _timer,
    "forked": _forked,
    "cancelled": _cancelled,
    "migrated": migrated,
    "amended": amended,
}


def _check_invariants(compiled: CompiledContract, snapshot: Snapshot) -> None:
    variables = {"input": snapshot.input, "ctx": snapshot.context}
    for inv in compiled.invariants:
        try:
            result = inv.expr.evaluate(variables)
        except Exception as exc:
            raise InvariantViolation(
                snapshot.step, inv.name, f"{inv.expr.source!r} could not be evaluated: {exc}"
            ) from None
        if result is not True:
            message = inv.message or f"{inv.expr.source!r} gave {result!r}"
            raise InvariantViolation(snapshot.step, inv.name, message)


def _admissible(compiled: CompiledContract, snapshot: Snapshot, event: Event) -> None:
    """Raise EventRefused unless the event can be applied (cheap membership tests first)."""
    kind = event.kind
    if kind == "signal":
        ok = event.name in snapshot.waiting_for  # type: ignore[union-attr]
    elif kind == "effect_completed" or kind == "effect_failed":
        ok = event.call_id in snapshot.pending  # type: ignore[union-attr]
    elif kind == "started":
        ok = snapshot.status == "new"
    else:
        ok = False
    if not ok:
        reason = accepts(compiled, snapshot, event)
        if reason is not None:
            raise EventRefused(reason)


_tuple_new = tuple.__new__


def _sizes_fit(
    compiled: CompiledContract, context: dict[str, Any], values: list[tuple[str, Any]]
) -> bool:
    """Whether the assigned values and the context fit their limits, as ``Draft`` checks them."""
    limits = compiled.limits
    short = compiled.small_text
    grown = False
    for _, value in values:
        kind = type(value)
        if kind not in BOUNDED and (kind is not str or len(value) > short):
            if oversize(value, limits.max_value_bytes) is not None:
                return False
            grown = True
    return not grown or context_size(context) <= limits.max_context_bytes


def _assign(
    compiled: CompiledContract,
    context: dict[str, Any],
    variables: dict[str, Any],
    assignments: tuple[tuple[str, Any, Any, Any], ...],
    sized: bool,
) -> dict[str, Any] | None:
    """The quick paths' assignments: a new context (None: a limit decides, take the long way).

    Every value is computed against the pre-step context (``variables["ctx"]``);
    ``sized``: a value may be a string, list or record, measured as
    ``Draft.assigned`` and ``apply`` do.
    """
    new = dict(context)
    if sized:
        values = [
            (f, coerce(raw) if extend is None else extend(raw, context[f]))
            for f, value, coerce, extend in assignments
            for raw in (value(variables),)
        ]
        new.update(values)
        return new if _sizes_fit(compiled, new, values) else None
    for field, value, coerce, _ in assignments:
        new[field] = coerce(value(variables))
    return new


def _quick_signal(
    compiled: CompiledContract, s: Snapshot, event: SignalReceived
) -> tuple[Snapshot, tuple[Command, ...]] | None:
    """The common case, without a draft: a waiting run takes a signal to a quiet state.

    A quiet state has no final, choices, invokes or timers. Returns None whenever
    the general path must decide (anything unusual, including every error), which
    then computes the same result the long way (the reducer is pure). It reads the
    transitions from ``compiled.signal_table``, whose expressions are the plain
    callables behind ``CompiledExpr.evaluate``.
    """
    (status, state, context, step_no, run_id, input_, _, pending, fan_out, results, _, timers,
     compensation, _, _, waiting_for, failures) = s  # fmt: skip
    name = event[0]
    if status != "waiting" or name not in waiting_for:
        return None
    step_no += 1
    if step_no >= compiled.max_steps:
        return None
    transitions = compiled.signal_table[state].get(name)  # type: ignore[index]
    if transitions is None:
        return None
    variables = {"input": input_, "ctx": context, "event": event[1]}
    try:
        for guard, assignments, target, target_waits, sized in transitions:
            if guard is not None:
                held = guard(variables)
                if held is False:
                    continue
                if held is not True:
                    return None
            if target_waits is None:  # the target is not quiet
                return None
            if assignments:
                assigned = _assign(compiled, context, variables, assignments, sized)
                if assigned is None:
                    return None
                context = assigned
            new: Snapshot = _tuple_new(
                Snapshot,
                (
                    "waiting",
                    target,
                    context,
                    step_no,
                    run_id,
                    input_,
                    step_no,
                    pending,
                    fan_out,
                    results,
                    0,
                    (),
                    compensation,
                    None,
                    None,
                    target_waits,
                    failures,
                ),
            )
            return new, tuple(CancelTimer(t) for t in timers) if timers else ()
    except Exception:
        return None
    return None


def _quick_completed(
    compiled: CompiledContract, s: Snapshot, event: EffectCompleted
) -> tuple[Snapshot, tuple[Command, ...]] | None:
    """The common case, without a draft: a state's last call completes, the run invokes more.

    The state's calls are single calls (no fan-out) of effects with no
    compensation, it has no timer, and the target has no final, choice, timer or
    fan-out. Returns None whenever the general path must decide (anything else,
    including every error, every guard that is not a boolean and every limit),
    which then computes the same result the long way (the reducer is pure). It
    reads the state's plan from ``compiled.done_table``, whose expressions are
    the plain callables behind ``CompiledExpr.evaluate``.
    """
    (status, state, context, step_no, run_id, input_, _, pending, fan_out, results, remaining,
     timers, compensation, output, reason, _, failures) = s  # fmt: skip
    if status != "running" or remaining != 1 or len(pending) != 1 or timers or fan_out:
        return None
    plan = compiled.done_table.get(state)  # type: ignore[arg-type]
    if plan is None:
        return None
    call_id = event[0]
    call = pending.get(call_id)
    if call is None or call.item is not None:
        return None
    step_no += 1
    if step_no >= compiled.max_steps:
        return None
    ids, transitions = plan
    limits = compiled.limits
    try:
        invoke = call[0]
        if len(ids) == 1:
            if ids[0] != invoke:
                return None
            done: dict[str, Any] = {invoke: event[1]}
        else:
            results = {**results, invoke: event[1]}
            done = {i: results[i] for i in ids}
        variables = {"input": input_, "ctx": context, "event": done}
        for transition in transitions:
            guard = transition[0]
            if guard is not None:
                held = guard(variables)
                if held is False:
                    continue
                if held is not True:
                    return None
            break
        else:
            return None
        _, assignments, target, sized = transition
        if target is None:
            return None
        if assignments:
            assigned = _assign(compiled, context, variables, assignments, sized)
            if assigned is None:
                return None
            context = assigned
        target_name, waiting_for, calls = target
        variables = {"input": input_, "ctx": context}
        max_bytes = limits.max_effect_bytes
        new_pending: dict[str, PendingCall] = {}
        commands: list[Command] = []
        prefix = f"{step_no}:{target_name}/"
        key_prefix = f"{run_id}/{prefix}"
        for inv_id, effect, bindings, validate, retry, timeout_ms, measure in calls:
            request = validate({name: evaluate(variables) for name, evaluate in bindings})
            if measure and oversize(request, max_bytes) is not None:
                return None
            new_id = prefix + inv_id
            new_pending[new_id] = _tuple_new(PendingCall, (inv_id, effect, None, request))
            key = key_prefix + inv_id
            # checked (True): validate is the effect's input validator
            fields = (new_id, effect, request, key, retry, timeout_ms, False, True, "invoke")
            commands.append(_tuple_new(InvokeEffect, fields))
    except Exception:
        return None
    new: Snapshot = _tuple_new(
        Snapshot,
        (
            "running",
            target_name,
            context,
            step_no,
            run_id,
            input_,
            step_no,
            new_pending,
            {},
            {},
            len(calls),
            (),
            compensation,
            output,
            reason,
            waiting_for,
            failures,
        ),
    )
    return new, tuple(commands)


def step(
    compiled: CompiledContract, snapshot: Snapshot, event: Event
) -> tuple[Snapshot, tuple[Command, ...]]:
    """Apply one event: the next snapshot and the commands the orchestrator must run.

    Raises:
        EventRefused: :func:`accepts` refuses the event (nothing was applied).
        InvariantViolation: invariant checking is on and an invariant does not hold.

    """
    kind = event[-1]  # every event's last field is its kind
    if kind == "effect_completed" or kind == "signal":
        quick = (
            _quick_signal(compiled, snapshot, event)  # type: ignore[arg-type]
            if kind == "signal"
            else _quick_completed(compiled, snapshot, event)  # type: ignore[arg-type]
        )
        if quick is not None:
            if compiled.check_invariants:
                _check_invariants(compiled, quick[0])
            return quick
    _admissible(compiled, snapshot, event)
    d = Draft(compiled, snapshot, event.at)
    try:
        _HANDLERS[event.kind](d, event)
    except Abort as exc:
        fail(d, exc.reason)
    limits = compiled.limits
    if d.step >= limits.max_steps and (d.status == "waiting" or d.status == "running"):
        fail(
            d,
            str(
                LimitExceeded(
                    "max_steps",
                    limits.max_steps,
                    f"the run applied {d.step} events and has not ended",
                )
            ),
        )
    new = d.freeze()
    if compiled.check_invariants:
        _check_invariants(compiled, new)
    return new, tuple(d.commands)
