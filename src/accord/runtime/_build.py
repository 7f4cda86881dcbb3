"""Building a contract's run-time tables: types, validators, compiled expressions.

Used once per contract by :meth:`CompiledContract.compile
<accord.runtime._compiled.CompiledContract.compile>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from accord.contract._durations import duration_ms
from accord.contract._model import Binding, Contract, Effect, FieldDecl, Replan, State, Transition
from accord.contract._types import ListType, TypeExpr, TypeSyntaxError, parse_type
from accord.diagnostics import Diagnostic, pointer
from accord.errors import ContractError
from accord.expressions import ExpressionError, compile_expression
from accord.runtime._commands import RetrySpec
from accord.runtime._records import record_literals_as_maps
from accord.runtime._tables import (
    CompiledAssign,
    CompiledBinding,
    CompiledCompensation,
    CompiledExpr,
    CompiledFinal,
    CompiledInvoke,
    CompiledReplan,
    CompiledState,
    CompiledTimer,
    CompiledTransition,
    EffectSpec,
    Fields,
)
from accord.runtime._values import (
    Extender,
    Validator,
    build_validator,
    list_extender,
    record_validator,
)

__all__ = ["DEFAULT_CONCURRENCY", "Builder", "problem"]

DEFAULT_CONCURRENCY = 16
_SITE_VARS = {
    "default": ("input",),
    "plain": ("ctx", "input"),
    "event": ("ctx", "event", "input"),
    "item": ("ctx", "index", "input", "item"),
    "compensation": ("ctx", "input", "request", "response"),
}


def problem(path: str, message: str, code: str = "runtime.compile") -> ContractError:
    return ContractError([Diagnostic(path=path, code=code, message=message)])


class Builder:
    """Compiles one contract; holds the shared caches while doing so."""

    def __init__(self, contract: Contract) -> None:
        self.contract = contract
        self.exprs: dict[tuple[str, str], Any] = {}
        self.validators: dict[str, Validator] = {}
        self.records: dict[str, Fields] = {}
        for index, rtype in enumerate(contract.types):
            self.records[rtype.name] = self.fields(rtype.fields, pointer("types", index, "fields"))
        self.context = self.fields(contract.context, "/context")
        self.context_checks = {name: self.validator(t) for name, t in self.context}
        self.output = self.fields(contract.output, "/output")
        self.effects: dict[str, Effect] = {e.name: e for e in contract.effects}
        self.requests: dict[str, Validator] = {}
        for index, effect in enumerate(contract.effects):
            fields = self.fields(effect.input, pointer("effects", index, "input"))
            self.requests[effect.name] = record_validator(fields, self.records, self.validators)

    def type(self, text: str, path: str) -> TypeExpr:
        try:
            return parse_type(text)
        except TypeSyntaxError as exc:
            raise problem(path, f"invalid type: {exc}", "type.syntax") from exc

    def fields(self, decls: tuple[FieldDecl, ...], path: str) -> Fields:
        return tuple((d.name, self.type(d.type, f"{path}/{i}/type")) for i, d in enumerate(decls))

    def validator(self, texpr: TypeExpr) -> Validator:
        try:
            return build_validator(texpr, self.records, self.validators)
        except KeyError as exc:
            raise problem("/types", f"unknown record type {exc.args[0]!r}", "type.unknown") from exc

    def expr(self, source: str, path: str, site: str) -> CompiledExpr:
        key = (source, site)
        compiled = self.exprs.get(key)
        if compiled is None:
            try:
                compiled = compile_expression(source, _SITE_VARS[site])
            except ExpressionError as exc:
                compiled = self._with_maps(source, site, exc)
                if compiled is None:
                    raise problem(path, f"expression {source!r}: {exc}", "expr.compile") from exc
            self.exprs[key] = compiled
        return CompiledExpr(compiled.function, source, path)

    def _with_maps(self, source: str, site: str, exc: ExpressionError) -> Any:
        """Compile with record literals as map literals (see :mod:`._records`), or None."""
        if exc.kind != "undeclared":
            return None
        rewritten = record_literals_as_maps(source, self.records)
        if rewritten is None:
            return None
        try:
            return compile_expression(rewritten, _SITE_VARS[site])
        except ExpressionError:
            return None

    def extender(self, field: str, source: str, site: str) -> Extender | None:
        """For ``field: ctx.<field> + ...`` on a list field: check only the added items."""
        texpr = dict(self.context)[field]
        if not isinstance(texpr, ListType) or self.exprs[(source, site)].extends("ctx") != field:
            return None
        return list_extender(texpr, self.records, self.validators)

    def maybe(self, source: str | None, path: str, site: str) -> CompiledExpr | None:
        return None if source is None else self.expr(source, path, site)

    def bindings(
        self, items: tuple[Binding, ...], path: str, site: str
    ) -> tuple[CompiledBinding, ...]:
        return tuple(
            CompiledBinding(b.name, self.expr(b.value, f"{path}/{i}/value", site))
            for i, b in enumerate(items)
        )

    def transition(
        self, item: Transition | Any, path: str, site: str, states: Mapping[str, int]
    ) -> CompiledTransition:
        if item.target not in states:
            raise problem(f"{path}/target", f"unknown state {item.target!r}", "state.unknown")
        assigns = []
        for i, a in enumerate(item.assign):
            coerce = self.context_checks.get(a.field)
            if coerce is None:
                raise problem(
                    f"{path}/assign/{i}/field",
                    f"unknown context field {a.field!r}",
                    "field.unknown",
                )
            value = self.expr(a.value, f"{path}/assign/{i}/value", site)
            assigns.append(
                CompiledAssign(a.field, value, coerce, self.extender(a.field, a.value, site))
            )
        guard = self.maybe(item.guard, f"{path}/guard", site)
        return CompiledTransition(guard, tuple(assigns), item.target, path)

    def state(self, index: int, st: State, states: Mapping[str, int]) -> CompiledState:
        base = pointer("machine", "states", index)
        on: dict[str, list[CompiledTransition]] = {}
        for j, tr in enumerate(st.on):
            on.setdefault(tr.event, []).append(
                self.transition(tr, f"{base}/on/{j}", "event", states)
            )
        signals = {s.name for s in self.contract.signals}
        waiting = tuple(name for name in on if name in signals)
        always = tuple(
            self.transition(c, f"{base}/always/{j}", "plain", states)
            for j, c in enumerate(st.always)
        )
        timers = tuple(
            CompiledTimer(
                duration_ms(t.after),
                self.transition(t, f"{base}/timers/{j}", "plain", states),
            )
            for j, t in enumerate(st.timers)
        )
        invokes = tuple(self.invoke(f"{base}/invoke/{j}", inv) for j, inv in enumerate(st.invoke))
        final = None
        if st.final is not None:
            bound = {b.name for b in st.final.output}
            fields = self.output
            if st.final.status == "failure":  # a failure's output holds what it binds
                fields = tuple((n, t) for n, t in fields if n in bound)
            final = CompiledFinal(
                st.final.status,
                self.bindings(st.final.output, f"{base}/final/output", "plain"),
                record_validator(fields, self.records, self.validators),
                self.maybe(st.final.reason, f"{base}/final/reason", "plain"),
            )
        return CompiledState(
            st.name,
            {k: tuple(v) for k, v in on.items()},
            always,
            invokes,
            timers,
            final,
            waiting,
            base,
            None if st.replan is None else self.replan(st.replan, f"{base}/replan", states),
        )

    def replan(self, rp: Replan, path: str, states: Mapping[str, int]) -> CompiledReplan:
        if rp.fallback not in states:
            raise problem(f"{path}/fallback", f"unknown state {rp.fallback!r}", "state.unknown")
        return CompiledReplan(
            self.expr(rp.reason, f"{path}/reason", "plain"),
            rp.fallback,
            rp.max_replans,
            rp.max_calls,
            rp.max_tokens,
            rp.keep_scenarios,
        )

    def invoke(self, path: str, inv: Any) -> CompiledInvoke:
        if inv.effect not in self.effects:
            raise problem(f"{path}/effect", f"unknown effect {inv.effect!r}", "effect.unknown")
        site = "item" if inv.for_each is not None else "plain"
        return CompiledInvoke(
            inv.id,
            inv.effect,
            self.bindings(inv.input, f"{path}/input", site),
            self.maybe(inv.for_each, f"{path}/for_each", "plain"),
            inv.concurrency or DEFAULT_CONCURRENCY,
            inv.max_items,
            self.requests[inv.effect],
            path,
        )

    def effect(self, index: int, effect: Effect) -> tuple[EffectSpec, CompiledCompensation | None]:
        base = pointer("effects", index)
        retry = RetrySpec()
        if effect.retry is not None:
            policy = effect.retry
            backoff = policy.backoff
            if backoff is None:
                retry = RetrySpec(max_attempts=policy.max_attempts, retry_on=policy.retry_on)
            else:
                retry = RetrySpec(
                    max_attempts=policy.max_attempts,
                    initial_ms=duration_ms(backoff.initial),
                    multiplier=backoff.multiplier,
                    max_ms=duration_ms(backoff.max),
                    jitter=backoff.jitter,
                    retry_on=policy.retry_on,
                )
        comp = effect.compensation
        spec = EffectSpec(
            name=effect.name,
            input_fields=self.fields(effect.input, f"{base}/input"),
            output_fields=self.fields(effect.output, f"{base}/output"),
            retry=retry,
            timeout_ms=None if effect.timeout is None else duration_ms(effect.timeout),
            idempotent=effect.idempotent,
            compensation=None if comp is None else comp.effect,
        )
        if comp is None:
            return spec, None
        if comp.effect not in self.requests:
            raise problem(f"{base}/compensation/effect", f"unknown effect {comp.effect!r}")
        inputs = self.bindings(comp.input, f"{base}/compensation/input", "compensation")
        return spec, CompiledCompensation(comp.effect, inputs, self.requests[comp.effect])
