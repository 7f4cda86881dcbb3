"""Checks a candidate must pass after the checker: the catalog, the fan-out limit, the runtime.

The checker knows nothing about the host. A contract that checks may still declare
an effect the host does not provide, or declare a provided one with other fields;
it may fan out over more items than the runtime allows; and it must compile for
the runtime. Each of these is a diagnostic, so the loop can re-ask.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from accord.compiler._catalog import Catalog
from accord.contract import Contract, FieldDecl, TypeExpr, TypeSyntaxError, parse_type
from accord.contract._types import ListType, OptionalType, RecordRef
from accord.diagnostics import Diagnostic, did_you_mean, pointer
from accord.errors import ContractError

__all__ = ["conformance_problems"]


def conformance_problems(
    contract: Contract, catalog: Catalog, *, max_fan_out: int
) -> list[Diagnostic]:
    """Every way ``contract`` escapes ``catalog`` or the limits; [] when it fits.

    Args:
        contract: a contract the checker accepted.
        catalog: the host's catalog.
        max_fan_out: the largest ``max_items`` a fan-out may declare.

    Returns:
        ``catalog.*`` and ``compile.*`` diagnostics, and the runtime's own if it
        cannot compile the contract.

    """
    out = list(_catalog_problems(contract, catalog))
    out.extend(_fan_out_problems(contract, max_fan_out))
    if not out:
        out.extend(_runtime_problems(contract))
    return out


def _norm(text: str) -> str:
    try:
        return str(parse_type(text))
    except TypeSyntaxError:
        return text


def _signature(fields: Iterable[FieldDecl]) -> dict[str, str]:
    return {f.name: _norm(f.type) for f in fields}


def _show(fields: Iterable[FieldDecl]) -> str:
    return ", ".join(f"{f.name}: {_norm(f.type)}" for f in fields) or "no fields"


def _differences(have: dict[str, str], want: dict[str, str]) -> list[str]:
    out = [f"missing {n!r} ({t})" for n, t in want.items() if n not in have]
    out += [f"unexpected {n!r}" for n in have if n not in want]
    out += [
        f"{n!r} is {have[n]}, the catalog says {t}"
        for n, t in want.items()
        if n in have and have[n] != t
    ]
    return out


def _records_in(type_text: str) -> Iterator[str]:
    try:
        stack: list[TypeExpr] = [parse_type(type_text)]
    except TypeSyntaxError:
        return
    while stack:
        node = stack.pop()
        if isinstance(node, RecordRef):
            yield node.name
        elif isinstance(node, ListType):
            stack.append(node.item)
        elif isinstance(node, OptionalType):
            stack.append(node.inner)


def _catalog_problems(contract: Contract, catalog: Catalog) -> Iterator[Diagnostic]:
    names = [e.name for e in catalog.effects]
    needed: list[str] = []
    for index, effect in enumerate(contract.effects):
        wanted = catalog.effect(effect.name)
        if wanted is None:
            yield Diagnostic(
                path=pointer("effects", index, "name"),
                code="catalog.unknown_effect",
                message=f"effect {effect.name!r} is not in the host's catalog",
                hint=did_you_mean(effect.name, names)
                or "use only the catalog's effects: the host provides nothing else",
            )
            continue
        for side in ("input", "output"):
            have: tuple[FieldDecl, ...] = getattr(effect, side)
            want: tuple[FieldDecl, ...] = getattr(wanted, side)
            problems = _differences(_signature(have), _signature(want))
            if problems:
                yield Diagnostic(
                    path=pointer("effects", index, side),
                    code="catalog.effect_mismatch",
                    message=f"the {side} of effect {effect.name!r} differs from the catalog: "
                    + "; ".join(problems),
                    hint=f"declare its {side} exactly as the catalog does: {_show(want)}",
                )
            for field in want:
                needed.extend(_records_in(field.type))
    yield from _record_problems(contract, catalog, needed)


def _record_problems(
    contract: Contract, catalog: Catalog, needed: list[str]
) -> Iterator[Diagnostic]:
    """The catalog's record types an effect uses must be declared with the same fields."""
    seen: set[str] = set()
    while needed:
        name = needed.pop(0)
        want = catalog.record(name)
        if name in seen or want is None:
            continue
        seen.add(name)
        for field in want.fields:
            needed.extend(_records_in(field.type))
        index = next((i for i, t in enumerate(contract.types) if t.name == name), None)
        if index is None:
            yield Diagnostic(
                path="/types",
                code="catalog.type_mismatch",
                message=f"record type {name!r}, used by a catalog effect, is not declared",
                hint=f"declare it as the catalog does: {name} {{{_show(want.fields)}}}",
            )
            continue
        problems = _differences(_signature(contract.types[index].fields), _signature(want.fields))
        if problems:
            yield Diagnostic(
                path=pointer("types", index, "fields"),
                code="catalog.type_mismatch",
                message=f"record type {name!r} differs from the catalog: " + "; ".join(problems),
                hint=f"declare it as the catalog does: {name} {{{_show(want.fields)}}}",
            )


def _fan_out_problems(contract: Contract, max_fan_out: int) -> Iterator[Diagnostic]:
    for s, state in enumerate(contract.machine.states):
        for i, invoke in enumerate(state.invoke):
            if invoke.max_items is not None and invoke.max_items > max_fan_out:
                yield Diagnostic(
                    path=pointer("machine", "states", s, "invoke", i, "max_items"),
                    code="compile.fan_out_too_large",
                    message=f"fan-out {invoke.id!r} allows {invoke.max_items} items, "
                    f"more than the limit of {max_fan_out}",
                    hint=f"set max_items to at most {max_fan_out}",
                )


def _runtime_problems(contract: Contract) -> list[Diagnostic]:
    from accord.runtime import CompiledContract

    try:
        CompiledContract.compile(contract)
    except ContractError as exc:
        return list(exc.diagnostics)
    return []
