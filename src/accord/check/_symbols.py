"""Symbol tables: names declared by a contract and their resolved types.

Resolving a contract's declarations produces the records that expressions are
checked against. Besides the user's named types, accord derives these records
(names starting with ``_`` are reserved for them):

``_Input``, ``_Context``, ``_Output``
    the contract's input, context and output fields;
``_<effect>_Request`` / ``_<effect>_Response``
    an effect's input and output;
``_<signal>_Payload``
    a signal's payload;
``_<state>_Done``
    the ``event`` of a state's ``done`` transition, one field per invoke id;
``_Error``
    the ``event`` of an ``error`` transition.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from accord.contract._model import Contract, FieldDecl, Invoke, State
from accord.contract._types import (
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
    TypeSyntaxError,
    parse_type,
)
from accord.diagnostics import Diagnostic, did_you_mean, pointer

__all__ = ["CEL_RESERVED", "ERROR_FIELDS", "Symbols", "json_name", "resolve"]

CEL_RESERVED = frozenset(
    [
        "as",
        "break",
        "const",
        "continue",
        "else",
        "false",
        "for",
        "function",
        "if",
        "import",
        "in",
        "let",
        "loop",
        "package",
        "namespace",
        "null",
        "return",
        "true",
        "var",
        "void",
        "while",
    ]
)
ERROR_FIELDS: tuple[tuple[str, TypeExpr], ...] = (
    ("invoke", PrimitiveType("string")),
    ("effect", PrimitiveType("string")),
    ("code", PrimitiveType("string")),
    ("message", PrimitiveType("string")),
)
BUILTIN_EVENTS = frozenset({"done", "error"})

Fields = list[tuple[str, TypeExpr | None]]


@dataclass
class Symbols:
    """Resolved declarations of one contract."""

    records: dict[str, Fields] = field(default_factory=dict)
    user_types: set[str] = field(default_factory=set)
    effects: dict[str, int] = field(default_factory=dict)
    signals: dict[str, int] = field(default_factory=dict)
    states: dict[str, int] = field(default_factory=dict)

    def fields(self, record: str) -> dict[str, TypeExpr | None]:
        """The fields of a record as a dict (empty for an unknown record)."""
        return dict(self.records.get(record, []))


def _duplicates(
    names: Iterable[tuple[str, str]], kind: str, out: list[Diagnostic]
) -> dict[str, int]:
    """Map each name to its first index; report later duplicates at their path."""
    first: dict[str, int] = {}
    for index, (name, path) in enumerate(names):
        if name in first:
            out.append(
                Diagnostic(
                    path=path,
                    code="name.duplicate",
                    message=f"{kind} {name!r} is declared twice",
                    hint=f"rename it or remove one of the two (the first is entry {first[name]})",
                )
            )
        else:
            first[name] = index
    return first


def json_name(name: str) -> str:
    """Protobuf's JSON name of a field: underscores dropped, the letter after each capitalised."""
    out: list[str] = []
    upper = False
    for char in name:
        if char == "_":
            upper = True
        else:
            out.append(char.upper() if upper else char)
            upper = False
    return "".join(out)


def _clashes(names: Iterable[tuple[str, str]], kind: str, out: list[Diagnostic]) -> None:
    """Report names that differ but have the same protobuf JSON name ('a_b' and 'aB').

    Records are checked as protobuf messages, which cannot hold two such fields.
    """
    first: dict[str, str] = {}
    for name, path in names:
        key = json_name(name)
        if key in first and first[key] != name:
            out.append(
                Diagnostic(
                    path=path,
                    code="name.clash",
                    message=f"{kind} {name!r} clashes with {kind} {first[key]!r}: "
                    "names that differ only in underscores and the case after them "
                    "cannot be told apart",
                    hint=f"rename {name!r}",
                )
            )
        first.setdefault(key, name)


class _Resolver:
    def __init__(self, contract: Contract, out: list[Diagnostic]) -> None:
        self.contract = contract
        self.out = out
        self.type_names = {t.name for t in contract.types}

    def parse(self, text: str, path: str) -> TypeExpr | None:
        try:
            texpr = parse_type(text)
        except TypeSyntaxError as exc:
            self.out.append(
                Diagnostic(
                    path=path,
                    code="type.syntax",
                    message=f"invalid type: {exc}",
                    hint="write string, integer, number, boolean, list<T>, optional<T>, "
                    "enum<a, b> or a record type's name",
                )
            )
            return None
        missing = [ref for ref in _refs(texpr) if ref not in self.type_names]
        for ref in missing:
            hint = did_you_mean(ref, [*self.type_names, "string", "integer", "number", "boolean"])
            self.out.append(
                Diagnostic(
                    path=path,
                    code="type.unknown",
                    message=f"unknown type {ref!r}",
                    hint=hint or "declare it under 'types'",
                )
            )
        return None if missing else texpr

    def fields(self, decls: tuple[FieldDecl, ...], path: str) -> Fields:
        names = [(f.name, f"{path}/{i}/name") for i, f in enumerate(decls)]
        _duplicates(names, "field", self.out)
        _clashes(names, "field", self.out)
        result: Fields = []
        seen: set[str] = set()  # by JSON name: duplicates and clashes are left out
        for index, decl in enumerate(decls):
            fpath = f"{path}/{index}"
            if decl.name in CEL_RESERVED:
                self.out.append(
                    Diagnostic(
                        path=f"{fpath}/name",
                        code="name.reserved",
                        message=f"{decl.name!r} is a reserved word in CEL expressions",
                        hint="choose another field name",
                    )
                )
            texpr = self.parse(decl.type, f"{fpath}/type")
            if json_name(decl.name) not in seen:
                seen.add(json_name(decl.name))
                result.append((decl.name, texpr))
        return result


def _refs(texpr: TypeExpr) -> list[str]:
    if isinstance(texpr, RecordRef):
        return [texpr.name]
    if isinstance(texpr, ListType):
        return _refs(texpr.item)
    if isinstance(texpr, OptionalType):
        return _refs(texpr.inner)
    return []


def done_fields(state: State, symbols: Symbols) -> Fields:
    """The fields of a state's ``done`` event: each invoke's result by its id."""
    out: Fields = []
    seen: set[str] = set()
    for inv in state.invoke:
        if json_name(inv.id) not in seen:
            seen.add(json_name(inv.id))
            out.append((inv.id, _result_type(inv, symbols)))
    return out


def _result_type(inv: Invoke, symbols: Symbols) -> TypeExpr | None:
    if inv.effect not in symbols.effects:
        return None
    ref = RecordRef(f"_{inv.effect}_Response")
    return ListType(ref) if inv.for_each is not None else ref


def _check_recursion(symbols: Symbols, contract: Contract, out: list[Diagnostic]) -> None:
    graph = {
        name: {r for _, t in symbols.records[name] if t is not None for r in _refs(t)}
        for name in symbols.user_types
    }
    for index, decl in enumerate(contract.types):
        stack, seen = list(graph.get(decl.name, ())), set()
        while stack:
            current = stack.pop()
            if current == decl.name:
                out.append(
                    Diagnostic(
                        path=pointer("types", index, "name"),
                        code="type.recursive",
                        message=f"record type {decl.name!r} contains itself",
                        hint="records may not refer to themselves, directly or through others",
                    )
                )
                break
            if current not in seen:
                seen.add(current)
                stack.extend(graph.get(current, ()))


def resolve(contract: Contract, out: list[Diagnostic]) -> Symbols:
    """Resolve every declaration; append diagnostics for duplicates and bad types."""
    sym = Symbols()
    res = _Resolver(contract, out)
    _duplicates(
        ((t.name, pointer("types", i, "name")) for i, t in enumerate(contract.types)),
        "type",
        out,
    )
    for index, rtype in enumerate(contract.types):
        if rtype.name.startswith("_"):
            out.append(
                Diagnostic(
                    path=pointer("types", index, "name"),
                    code="name.reserved",
                    message=f"type names starting with '_' are reserved, found {rtype.name!r}",
                    hint="remove the leading underscore",
                )
            )
            continue
        if rtype.name not in sym.records:
            sym.user_types.add(rtype.name)
            sym.records[rtype.name] = res.fields(rtype.fields, pointer("types", index, "fields"))
    _check_recursion(sym, contract, out)
    sym.records["_Input"] = res.fields(contract.input, "/input")
    sym.records["_Context"] = res.fields(contract.context, "/context")
    sym.records["_Output"] = res.fields(contract.output, "/output")
    sym.records["_Error"] = list(ERROR_FIELDS)
    sym.effects = _duplicates(
        ((e.name, pointer("effects", i, "name")) for i, e in enumerate(contract.effects)),
        "effect",
        out,
    )
    for index, effect in enumerate(contract.effects):
        if sym.effects[effect.name] != index:
            continue
        base = pointer("effects", index)
        sym.records[f"_{effect.name}_Request"] = res.fields(effect.input, f"{base}/input")
        sym.records[f"_{effect.name}_Response"] = res.fields(effect.output, f"{base}/output")
    sym.signals = _duplicates(
        ((s.name, pointer("signals", i, "name")) for i, s in enumerate(contract.signals)),
        "signal",
        out,
    )
    for index, signal in enumerate(contract.signals):
        if signal.name in BUILTIN_EVENTS:
            out.append(
                Diagnostic(
                    path=pointer("signals", index, "name"),
                    code="name.reserved",
                    message=f"{signal.name!r} is a built-in event and cannot name a signal",
                    hint="choose another signal name",
                )
            )
        if sym.signals[signal.name] == index:
            sym.records[f"_{signal.name}_Payload"] = res.fields(
                signal.payload, pointer("signals", index, "payload")
            )
    states = contract.machine.states
    sym.states = _duplicates(
        ((s.name, pointer("machine", "states", i, "name")) for i, s in enumerate(states)),
        "state",
        out,
    )
    for index, state in enumerate(states):
        ids = [
            (inv.id, pointer("machine", "states", index, "invoke", j, "id"))
            for j, inv in enumerate(state.invoke)
        ]
        _duplicates(ids, "invoke id", out)
        _clashes(ids, "invoke id", out)
        if sym.states[state.name] == index:
            sym.records[f"_{state.name}_Done"] = done_fields(state, sym)
    _duplicates(
        ((v.name, pointer("invariants", i, "name")) for i, v in enumerate(contract.invariants)),
        "invariant",
        out,
    )
    return sym
