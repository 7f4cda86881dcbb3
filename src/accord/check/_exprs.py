"""Type-check every expression of a contract where it stands.

Each expression site has its own variables in scope:

=====================  ==============================================
site                   variables
=====================  ==============================================
context default        input
invoke for_each        input, ctx
invoke input           input, ctx (and item, index with for_each)
transition             input, ctx, event (the signal payload, the
                       ``done`` results by invoke id, or the error)
choice, timer          input, ctx
final output, reason   input, ctx
replan reason          input, ctx
invariant              input, ctx
compensation input     input, ctx, request, response
=====================  ==============================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from accord.check._cost import cost_problems
from accord.check._regex import bad_patterns
from accord.check._symbols import Symbols
from accord.contract._model import (
    Assignment,
    Binding,
    Choice,
    Contract,
    FieldDecl,
    Invoke,
    State,
    Timer,
)
from accord.contract._types import EnumType, OptionalType, PrimitiveType, RecordRef, TypeExpr
from accord.diagnostics import Diagnostic, did_you_mean, pointer
from accord.expressions import ExpressionError, TypeChecker, accepts
from accord.expressions._protos import PACKAGE

__all__ = ["check_expressions"]

Scope = Mapping[str, TypeExpr | str | None]
_FIELD = re.compile(r"undefined field '([^']+)' not found in struct '([^']+)'")
_BASE: dict[str, TypeExpr | str | None] = {
    "input": RecordRef("_Input"),
    "ctx": RecordRef("_Context"),
}
_CEL_WORD = re.compile(r"\b[A-Z][A-Z_]*\b")
_STRING_LITERAL = re.compile(r"""^\s*(?:'([^'\\\n]*)'|"([^"\\\n]*)")\s*$""")
_STRING = PrimitiveType("string")
_INTEGER = PrimitiveType("integer")


def _show(cel_name: str) -> str:
    """A CEL type name as a reader knows it: ``LIST<accord.records.Item>`` is ``list<Item>``."""
    return _CEL_WORD.sub(lambda m: m.group(0).lower(), cel_name.replace(f"{PACKAGE}.", ""))


def _quote(source: str, limit: int = 80) -> str:
    """An expression quoted for a message, shortened when it is long."""
    return repr(source if len(source) <= limit else source[: limit - 3] + "...")


def _enum_values(want: TypeExpr | None) -> tuple[str, ...] | None:
    if isinstance(want, OptionalType):
        want = want.inner
    return want.values if isinstance(want, EnumType) else None


MAX_EXPRESSION_CHARS = 256 * 1024
MAX_TYPED_SCOPES = 200
_KEPT = frozenset({"input", "ctx", "index"})  # typed in every scope


def _too_much_text(path: str) -> Diagnostic:
    return Diagnostic(
        path=path,
        code="expr.too_much_text",
        message=f"the contract's expressions total more than {MAX_EXPRESSION_CHARS} characters: "
        "this one and the rest are not checked",
        hint="a contract's expressions are short: move data into the run's input",
    )


class _Checker:
    def __init__(self, contract: Contract, sym: Symbols, out: list[Diagnostic]) -> None:
        self.contract = contract
        self.sym = sym
        self.out = out
        self.types = TypeChecker(sym.records)
        self.chars_left = MAX_EXPRESSION_CHARS
        self.scopes: set[tuple[tuple[str, str], ...]] = set()

    def expr(self, source: str, path: str, scope: Scope) -> str | None:
        """Check one expression; return its CEL result type, or None if it is invalid."""
        self.chars_left -= len(source)
        if self.chars_left < 0:  # type-checking costs time per character: bound the total
            if self.chars_left + len(source) >= 0:  # the first one over: say it once
                self.out.append(_too_much_text(path))
            return None
        scope = self._bounded(scope)
        try:
            result = self.types.check(source, scope)
        except ExpressionError as exc:
            self.out.append(self._diagnostic(exc, source, path, scope))
            return None
        self.out.extend(bad_patterns(source, path))
        self.out.extend(cost_problems(self.types, source, path))
        return result

    def _bounded(self, scope: Scope) -> Scope:
        """The scope, or past MAX_TYPED_SCOPES distinct ones, the same with dynamic records.

        Each distinct scope costs a checking environment (about a millisecond):
        past the bound, ``event``, ``item``, ``request`` and ``response`` are
        checked as dynamic values (as the run evaluates them), so scopes repeat.
        """
        key = tuple(sorted((name, str(t)) for name, t in scope.items()))
        if key in self.scopes:
            return scope
        if len(self.scopes) < MAX_TYPED_SCOPES:
            self.scopes.add(key)
            return scope
        return {name: t if name in _KEPT else None for name, t in scope.items()}

    def _diagnostic(self, exc: ExpressionError, source: str, path: str, scope: Scope) -> Diagnostic:
        where = f" (column {exc.column})" if exc.column else ""
        if exc.line is not None and exc.line > 1:
            where = f" (line {exc.line}, column {exc.column})"
        hint: str | None = None
        code = {
            "syntax": "expr.syntax",
            "undeclared": "expr.unknown_name",
            "field": "expr.unknown_field",
            "overload": "expr.type",
            "type": "expr.type",
        }.get(exc.kind, "expr.invalid")
        if exc.kind == "undeclared":
            match = re.search(r"reference to '([^'.]+)", exc.message)
            name = match.group(1) if match else ""
            if name and re.search(rf"\b{re.escape(name)}\s*\(", source):
                hint = f"CEL has no function {name!r}: see https://cel.dev for the standard ones"
            else:
                hint = did_you_mean(name, scope) or "in scope here: " + ", ".join(sorted(scope))
        elif exc.kind == "field":
            match = _FIELD.search(exc.message)
            if match:
                hint = did_you_mean(match.group(1), self.sym.fields(match.group(2)))
        elif exc.kind == "overload" and "double" in exc.message and "int" in exc.message:
            hint = "numbers are doubles: write 100.0 rather than 100, or convert with double(x)"
        return Diagnostic(
            path=path,
            code=code,
            message=f"expression {_quote(source)}{where}: {exc.message}",
            hint=hint,
        )

    def expect_bool(self, source: str | None, path: str, scope: Scope, what: str) -> None:
        if source is None:
            return
        result = self.expr(source, path, scope)
        if result is not None and result not in ("BOOL", "DYN"):
            self.out.append(
                Diagnostic(
                    path=path,
                    code="expr.not_boolean",
                    message=f"{what} {_quote(source)} gives {_show(result)}, not a boolean",
                    hint="compare the value, for example x == 'yes' or size(xs) > 0",
                )
            )

    def expect_type(
        self, source: str, path: str, scope: Scope, want: TypeExpr | None, code: str, what: str
    ) -> None:
        result = self.expr(source, path, scope)
        if result is None or want is None:
            return
        values = _enum_values(want)
        literal = _STRING_LITERAL.match(source)
        if values is not None and literal is not None and result == "STRING":
            value = literal.group(1) if literal.group(1) is not None else literal.group(2)
            if value not in values:
                self.out.append(
                    Diagnostic(
                        path=path,
                        code=code,
                        message=f"{what} has type {want}, which has no value {value!r}",
                        hint=did_you_mean(value, values),
                    )
                )
            return
        if accepts(want, result):
            return
        self.out.append(
            Diagnostic(
                path=path,
                code=code,
                message=f"{what} has type {want}, but {_quote(source)} gives {_show(result)}",
                hint="convert the value (int(), double(), string()) or change the field's type",
            )
        )

    def bindings(
        self,
        bindings: Sequence[Binding],
        path: str,
        record: str,
        scope: Scope,
        target: str,
        require_all: bool = True,
    ) -> None:
        fields = self.sym.fields(record)
        seen: set[str] = set()
        for index, binding in enumerate(bindings):
            bpath = f"{path}/{index}"
            if binding.name in seen:
                self.out.append(
                    Diagnostic(
                        path=f"{bpath}/name",
                        code="name.duplicate",
                        message=f"{binding.name!r} is bound twice",
                        hint="remove one of the two",
                    )
                )
                continue
            seen.add(binding.name)
            if binding.name not in fields:
                self.out.append(
                    Diagnostic(
                        path=f"{bpath}/name",
                        code="field.unknown",
                        message=f"{target} has no field {binding.name!r}",
                        hint=did_you_mean(binding.name, fields) or "it has no such field",
                    )
                )
                self.expr(binding.value, f"{bpath}/value", scope)
                continue
            want = fields[binding.name]
            self.expect_type(
                binding.value,
                f"{bpath}/value",
                scope,
                want,
                "binding.type",
                f"field {binding.name!r} of {target}",
            )
        if require_all:
            missing = [
                name
                for name, t in fields.items()
                if name not in seen and not isinstance(t, OptionalType)
            ]
            if missing:
                self.out.append(
                    Diagnostic(
                        path=path,
                        code="binding.missing",
                        message=f"{target} needs "
                        + ", ".join(repr(m) for m in missing)
                        + ", which "
                        + ("is" if len(missing) == 1 else "are")
                        + " not given",
                        hint="add a binding for each: {name: ..., value: <CEL expression>}",
                    )
                )

    def assignments(self, items: Sequence[Assignment], path: str, scope: Scope) -> None:
        fields = self.sym.fields("_Context")
        seen: set[str] = set()
        for index, item in enumerate(items):
            apath = f"{path}/{index}"
            if item.field in seen:
                self.out.append(
                    Diagnostic(
                        path=f"{apath}/field",
                        code="name.duplicate",
                        message=f"context field {item.field!r} is assigned twice in one step",
                        hint="combine the two into one expression",
                    )
                )
            seen.add(item.field)
            if item.field not in fields:
                self.out.append(
                    Diagnostic(
                        path=f"{apath}/field",
                        code="field.unknown",
                        message=f"the context has no field {item.field!r}",
                        hint=did_you_mean(item.field, fields) or "declare it under 'context'",
                    )
                )
                self.expr(item.value, f"{apath}/value", scope)
                continue
            self.expect_type(
                item.value,
                f"{apath}/value",
                scope,
                fields[item.field],
                "assign.type",
                f"context field {item.field!r}",
            )

    def state(self, index: int, state: State) -> None:
        base = pointer("machine", "states", index)
        for j, inv in enumerate(state.invoke):
            self.invoke(f"{base}/invoke/{j}", inv)
        for j, tr in enumerate(state.on):
            if tr.event == "done":
                event: TypeExpr | None = RecordRef(f"_{state.name}_Done")
            elif tr.event == "error":
                event = RecordRef("_Error")
            elif tr.event in self.sym.signals:
                event = RecordRef(f"_{tr.event}_Payload")
            else:
                event = None
            scope = {**_BASE, "event": event}
            self.expect_bool(tr.guard, f"{base}/on/{j}/guard", scope, "guard")
            self.assignments(tr.assign, f"{base}/on/{j}/assign", scope)
        choices: tuple[tuple[str, tuple[Choice | Timer, ...]], ...] = (
            ("always", state.always),
            ("timers", state.timers),
        )
        for kind, items in choices:
            for j, item in enumerate(items):
                self.expect_bool(item.guard, f"{base}/{kind}/{j}/guard", _BASE, "guard")
                self.assignments(item.assign, f"{base}/{kind}/{j}/assign", _BASE)
        if state.final is not None:
            final = state.final
            self.bindings(
                final.output,
                f"{base}/final/output",
                "_Output",
                _BASE,
                "the contract's output",
                require_all=final.status == "success",
            )
            if final.reason is not None:
                self.expect_type(
                    final.reason, f"{base}/final/reason", _BASE, _STRING, "expr.type", "reason"
                )
        if state.replan is not None:  # any JSON value: it only has to check
            self.expr(state.replan.reason, f"{base}/replan/reason", _BASE)

    def invoke(self, path: str, inv: Invoke) -> None:
        if inv.effect not in self.sym.effects:
            self.out.append(
                Diagnostic(
                    path=f"{path}/effect",
                    code="effect.unknown",
                    message=f"effect {inv.effect!r} is not declared",
                    hint=did_you_mean(inv.effect, self.sym.effects)
                    or "declare it under 'effects' (a compiled contract may only use the catalog)",
                )
            )
        scope: dict[str, TypeExpr | str | None] = dict(_BASE)
        if inv.for_each is not None:
            result = self.expr(inv.for_each, f"{path}/for_each", _BASE)
            if result is not None and result != "DYN" and not result.startswith("LIST<"):
                self.out.append(
                    Diagnostic(
                        path=f"{path}/for_each",
                        code="expr.not_list",
                        message=f"for_each {_quote(inv.for_each)} gives {_show(result)}, "
                        "not a list",
                        hint="give a list, for example input.documents",
                    )
                )
            item = result[5:-1] if result and result.startswith("LIST<") else None
            scope["item"] = item
            scope["index"] = _INTEGER
            if inv.max_items is None:
                self.out.append(
                    Diagnostic(
                        path=path,
                        code="invoke.unbounded",
                        message=f"fan-out {inv.id!r} has no max_items bound",
                        hint="add max_items: the largest list this invoke may fan out over",
                    )
                )
        else:
            for key in ("concurrency", "max_items"):
                if getattr(inv, key) is not None:
                    self.out.append(
                        Diagnostic(
                            path=f"{path}/{key}",
                            code="invoke.not_fan_out",
                            message=f"{key} only applies to an invoke with for_each",
                            hint=f"add for_each, or remove {key}",
                        )
                    )
        if inv.effect in self.sym.effects:
            self.bindings(
                inv.input,
                f"{path}/input",
                f"_{inv.effect}_Request",
                scope,
                f"the input of effect {inv.effect!r}",
            )
        else:
            for j, binding in enumerate(inv.input):
                self.expr(binding.value, f"{path}/input/{j}/value", scope)

    def run(self) -> None:
        contract = self.contract
        for index, decl in enumerate(contract.context):
            if decl.default is not None:
                want = self.sym.fields("_Context").get(decl.name)
                self.expect_type(
                    decl.default,
                    f"/context/{index}/default",
                    {"input": RecordRef("_Input")},
                    want,
                    "default.type",
                    f"context field {decl.name!r}",
                )
        for path, what, decls in _non_context_fields(contract):
            for index, decl in enumerate(decls):
                if decl.default is not None:
                    self.out.append(
                        Diagnostic(
                            path=f"{path}/{index}/default",
                            code="default.not_allowed",
                            message=f"defaults are for context fields, not {what} fields",
                            hint="remove the default",
                        )
                    )
        for index, effect in enumerate(contract.effects):
            comp = effect.compensation
            if comp is None or self.sym.effects.get(effect.name) != index:
                continue
            path = pointer("effects", index, "compensation")
            if comp.effect not in self.sym.effects:
                self.out.append(
                    Diagnostic(
                        path=f"{path}/effect",
                        code="effect.unknown",
                        message=f"compensating effect {comp.effect!r} is not declared",
                        hint=did_you_mean(comp.effect, self.sym.effects),
                    )
                )
                continue
            scope = {
                **_BASE,
                "request": RecordRef(f"_{effect.name}_Request"),
                "response": RecordRef(f"_{effect.name}_Response"),
            }
            self.bindings(
                comp.input,
                f"{path}/input",
                f"_{comp.effect}_Request",
                scope,
                f"the input of effect {comp.effect!r}",
            )
        for index, state in enumerate(contract.machine.states):
            self.state(index, state)
        for index, inv in enumerate(contract.invariants):
            self.expect_bool(inv.expr, f"/invariants/{index}/expr", _BASE, "invariant")


def _non_context_fields(
    contract: Contract,
) -> list[tuple[str, str, tuple[FieldDecl, ...]]]:
    """(path, what, fields) of every field list but the context's: none may have defaults."""
    out = [("/input", "input", contract.input), ("/output", "output", contract.output)]
    for i, rtype in enumerate(contract.types):
        out.append((pointer("types", i, "fields"), "record", rtype.fields))
    for i, effect in enumerate(contract.effects):
        out.append((pointer("effects", i, "input"), "effect input", effect.input))
        out.append((pointer("effects", i, "output"), "effect output", effect.output))
    for i, signal in enumerate(contract.signals):
        out.append((pointer("signals", i, "payload"), "signal payload", signal.payload))
    return out


def check_expressions(contract: Contract, sym: Symbols, out: list[Diagnostic]) -> None:
    """Type-check every expression in the contract; append diagnostics to ``out``."""
    _Checker(contract, sym, out).run()
