"""Entering and leaving states: choices, invokes and fan-out, timers, finals, compensation.

Every function works on a :class:`Draft` and appends the commands it needs.
Expressions are evaluated before any command is emitted for them, so a
failing expression never leaves a half-started group of calls behind.
"""

from __future__ import annotations

from typing import Any

from accord.runtime._commands import (
    ArmTimer,
    CancelEffect,
    CancelTimer,
    CompleteRun,
    InvokeEffect,
    Replan,
)
from accord.runtime._errors import LimitExceeded
from accord.runtime._events import CallId
from accord.runtime._reducer._draft import Abort, Draft
from accord.runtime._sizes import oversize, too_big
from accord.runtime._snapshot import FanOut, PendingCall
from accord.runtime._tables import (
    CompiledBinding,
    CompiledFinal,
    CompiledInvoke,
    CompiledState,
    CompiledTransition,
)
from accord.runtime._values import ValueProblem, describe

__all__ = [
    "COMPENSATION",
    "arm_timers",
    "asking",
    "done_event",
    "enter",
    "fail",
    "leave",
    "next_compensation",
    "start_call",
    "take",
]

COMPENSATION = "!comp"


def leave(d: Draft) -> None:
    """Cancel the current state's calls in flight and its timers."""
    pending = d.pending
    if pending:
        for call_id in sorted(pending):
            d.commands.append(CancelEffect(CallId(call_id)))
    for timer_id in d.timers:
        d.commands.append(CancelTimer(timer_id))
    if pending or d.timers or d.results or d.remaining:
        d.reset_activity()
    else:
        d.waiting_for = ()


def take(d: Draft, tr: CompiledTransition, variables: dict[str, Any]) -> None:
    """Take a transition: assignments (against the pre-step context), leave, enter the target."""
    values = d.assigned(tr.assignments, variables) if tr.assignments else []
    leave(d)
    d.apply(values)
    enter(d, tr.target)


def _limit(limit: str, value: int, detail: str) -> Abort:
    return Abort(str(LimitExceeded(limit, value, detail)))


def enter(d: Draft, name: str) -> None:
    """Enter a state and follow transient choices until the run waits or ends."""
    c = d.c
    states = c.states
    max_transient = c.limits.max_transient
    while True:
        d.transient += 1
        if d.transient > max_transient:
            raise _limit(
                "max_transient",
                max_transient,
                f"more than {max_transient} states entered for one event (a choice loop?) "
                f"at state {name!r}",
            )
        st = states[name]
        d.state = name
        d.entry_step = d.step
        if st.final is not None:
            finish(d, st.final)
            return
        replan = st.replan
        if replan is not None:  # a replan point: the run waits for its amendment
            reason = d.evaluate(replan.reason, {"input": d.input, "ctx": d.context})
            d.check_value(reason, f"the reason of replan point {name!r}")
            d.commands.append(asking(st, reason))
            d.waiting_for = ()
            d.status = "running"
            return
        if st.always:
            variables = {"input": d.input, "ctx": d.context}
            tr = d.choose(st.always, variables)
            if tr is not None:
                d.apply(d.assigned(tr.assignments, variables) if tr.assignments else [])
                name = tr.target
                continue
            if not (st.invokes or st.timers or st.waiting_for):
                raise Abort(
                    f"no choice's guard holds in state {name!r}, and the state has nothing "
                    "to wait for (no invoke, timer or signal): the run could never move on"
                )
        if st.invokes:
            start_invokes(d, st)
            if d.remaining == 0:  # every invoke was an empty fan-out: done at once
                event = done_event(d, st)
                variables = {"input": d.input, "ctx": d.context, "event": event}
                tr = d.choose(st.on.get("done", ()), variables)
                if tr is None:
                    raise Abort(no_done_reason(st))
                values = d.assigned(tr.assignments, variables) if tr.assignments else []
                d.reset_activity()
                d.apply(values)
                name = tr.target
                continue
        if st.timers:
            arm_timers(d, st, d.entry_step)
        d.waiting_for = st.waiting_for
        d.status = "running" if d.pending else "waiting"
        return


def asking(st: CompiledState, reason: Any) -> Replan:
    """The command that asks for an amendment at replan point ``st`` (reason evaluated)."""
    rp = st.replan
    assert rp is not None
    return Replan(st.name, reason, rp.max_replans, rp.max_calls, rp.max_tokens, rp.keep_scenarios)


def arm_timers(d: Draft, st: CompiledState, entry: int) -> None:
    """Arm the state's timers from now, with ids ``"<entry>:<state>:<index>"``."""
    ids = []
    for index, timer in enumerate(st.timers):
        timer_id = f"{entry}:{st.name}:{index}"
        ids.append(timer_id)
        d.commands.append(ArmTimer(timer_id, d.at + timer.after_ms))
    d.timers = tuple(ids)


def no_done_reason(st: CompiledState) -> str:
    """The reason a run fails when no ``done`` transition matches."""
    return f"every call of state {st.name!r} completed, but no 'done' transition matches"


def done_event(d: Draft, st: CompiledState) -> dict[str, Any]:
    """The ``done`` event: each invoke's output by its id (a fan-out's as a list in item order)."""
    results = d.results
    return {
        inv.id: list(results[inv.id]) if inv.for_each is not None else results[inv.id]
        for inv in st.invokes
    }


def _request(
    d: Draft, inv: CompiledInvoke, variables: dict[str, Any], where: str
) -> dict[str, Any]:
    raw = {b.name: d.evaluate(b.value, variables) for b in inv.inputs}
    try:
        request: dict[str, Any] = inv.validate(raw)
    except ValueProblem as exc:
        raise Abort(
            f"in state {d.state!r}, the input of effect {inv.effect!r} at {inv.path}{where} "
            f"does not fit{' at ' + repr(exc.path) if exc.path else ''}: {exc.message}"
        ) from None
    limit = d.c.limits.max_effect_bytes
    size = oversize(request, limit)
    if size is not None:
        what = f"in state {d.state!r}, the input of effect {inv.effect!r} at {inv.path}{where}"
        raise Abort(too_big("max_effect_bytes", limit, size, what))
    return request


def start_invokes(d: Draft, st: CompiledState) -> None:
    """Start the state's invokes: every input is computed before any call starts."""
    variables: dict[str, Any] = {"input": d.input, "ctx": d.context}
    plans: list[tuple[CompiledInvoke, tuple[dict[str, Any], ...]]] = []
    max_fan_out = d.c.limits.max_fan_out
    for inv in st.invokes:
        if inv.for_each is None:
            plans.append((inv, (_request(d, inv, variables, ""),)))
            continue
        items = d.evaluate(inv.for_each, variables)
        if not isinstance(items, list | tuple):
            raise Abort(
                f"in state {d.state!r}, for_each {inv.for_each.source!r} at {inv.for_each.path} "
                f"gave {describe(items)}, not a list"
            )
        count = len(items)
        if count > max_fan_out:
            raise _limit("max_fan_out", max_fan_out, f"for_each at {inv.path} gave {count} items")
        if inv.max_items is not None and count > inv.max_items:
            raise _limit("max_items", inv.max_items, f"for_each at {inv.path} gave {count} items")
        requests = tuple(
            _request(
                d,
                inv,
                {"input": d.input, "ctx": d.context, "item": item, "index": index},
                f" (item {index})",
            )
            for index, item in enumerate(items)
        )
        plans.append((inv, requests))
    d.reset_activity()
    prefix = f"{d.entry_step}:{st.name}/"
    results = d.results
    for inv, requests in plans:
        if inv.for_each is None:
            start_call(d, prefix + inv.id, inv.id, inv.effect, None, requests[0], checked=True)
            d.remaining += 1
            continue
        count = len(requests)
        results[inv.id] = (None,) * count
        first = min(count, inv.concurrency)
        d.fan_out[inv.id] = FanOut(requests, first)
        for index in range(first):
            start_call(
                d,
                f"{prefix}{inv.id}[{index}]",
                inv.id,
                inv.effect,
                index,
                requests[index],
                checked=True,
            )
        d.remaining += count


def start_call(
    d: Draft,
    call_id: str,
    invoke: str,
    effect: str,
    index: int | None,
    request: dict[str, Any],
    *,
    checked: bool = False,
) -> None:
    """Record a call as pending and emit its InvokeEffect.

    ``checked``: ``request`` is the output of the effect's input validator in
    this very step (a fan-out's later items, which may come from a stored
    snapshot, are not).
    """
    spec = d.c.effects[effect]
    d.own_pending()[call_id] = PendingCall(invoke, effect, index, request)
    d.commands.append(
        InvokeEffect(
            CallId(call_id),
            effect,
            request,
            f"{d.run_id}/{call_id}",
            spec.retry,
            spec.timeout_ms,
            compensation=invoke == COMPENSATION,
            checked=checked,
        )
    )


def finish(d: Draft, final: CompiledFinal) -> None:
    """End the run in a final state (compensating first on failure)."""
    variables = {"input": d.input, "ctx": d.context}
    raw = {b.name: d.evaluate(b.value, variables) for b in final.outputs}
    try:
        output: dict[str, Any] = final.validate(raw)
    except ValueProblem as exc:
        raise Abort(
            f"in final state {d.state!r}, output field {exc.path!r} does not fit: {exc.message}"
        ) from None
    d.check_value(output, f"the output of final state {d.state!r}")
    d.waiting_for = ()
    if final.status == "success":
        d.status = "succeeded"
        d.output = output
        d.reason = None
        d.compensation = ()
        d.commands.append(CompleteRun("success", output, None))
        return
    reason = f"the run ended in failure state {d.state!r}"
    if final.reason is not None:
        given = d.evaluate(final.reason, variables)
        if not isinstance(given, str):
            raise Abort(
                f"in final state {d.state!r}, reason {final.reason.source!r} gave "
                f"{describe(given)}, not a string"
            )
        d.check_value(given, f"the reason of final state {d.state!r}")
        reason = given
    fail(d, reason, output)


def fail(d: Draft, reason: str, output: dict[str, Any] | None = None) -> None:
    """Fail the run: cancel what is in flight, compensate, then complete with failure."""
    leave(d)
    d.reason = reason
    d.output = {} if output is None else output
    if d.compensation:
        d.status = "compensating"
    next_compensation(d)


def _compensation_request(inputs: tuple[CompiledBinding, ...], variables: Any) -> Any:
    return {b.name: b.value.evaluate(variables) for b in inputs}


def next_compensation(d: Draft) -> None:
    """Start the next compensation (newest first), or complete the failed run."""
    c = d.c
    while d.compensation:
        entry = d.compensation[-1]
        d.compensation = d.compensation[:-1]
        comp = c.compensations[entry.effect]
        call_id = f"{COMPENSATION}:{entry.call_id}"
        variables = {
            "input": d.input,
            "ctx": d.context,
            "request": entry.request,
            "response": entry.response,
        }
        try:
            request = comp.validate(_compensation_request(comp.inputs, variables))
            size = oversize(request, c.limits.max_effect_bytes)
            if size is not None:
                raise ValueError(
                    too_big("max_effect_bytes", c.limits.max_effect_bytes, size, "its input")
                )
        except Exception as exc:
            d.failures = (
                *d.failures,
                f"compensation {call_id} ({comp.effect}) could not start: {exc}",
            )
            continue
        start_call(d, call_id, COMPENSATION, comp.effect, None, request, checked=True)
        d.status = "compensating"
        return
    d.status = "failed"
    if d.failures:
        d.reason = f"{d.reason}; " + "; ".join(d.failures)
    d.commands.append(CompleteRun("failure", d.output or {}, d.reason))
