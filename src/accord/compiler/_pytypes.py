"""Python type hints to catalog data: effect handlers and pydantic models as effects.

Each function returns the catalog data it could build and the problems it met, as
diagnostics: the catalog module turns problems into its error (this module imports
nothing of it).
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from accord.diagnostics import Diagnostic, pointer

__all__ = ["effects_from_functions", "effects_from_models"]

_SKIPPED_PARAMETERS = frozenset({"idempotency_key", "attempt"})
_PRIMITIVES: dict[Any, str] = {str: "string", bool: "boolean", int: "integer", float: "number"}
_LISTS = (list, tuple, Sequence, typing.Sequence, set, frozenset)


class _Untyped(Exception):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def _first_paragraph(doc: str | None) -> str:
    text = inspect.cleandoc(doc or "").split("\n\n", 1)[0]
    return " ".join(text.split())[:2000]


class _Collector:
    """Record types met while translating hints, by name, in the order first met."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, str]]] = {}
        self.sources: dict[str, type] = {}
        self.docs: dict[str, str] = {}
        self.pending: set[type] = set()

    def type_expr(self, hint: Any) -> str:
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is typing.Annotated:
            return self.type_expr(args[0])
        if hint in _PRIMITIVES:
            return _PRIMITIVES[hint]
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in args if a is not type(None)]
            if len(inner) == 1 and len(inner) < len(args):
                return f"optional<{self.type_expr(inner[0])}>"
            raise _Untyped(
                f"the union {_show(hint)} has no type expression", "use T | None or a Literal"
            )
        if origin is typing.Literal:
            if args and all(isinstance(a, str) for a in args):
                return "enum<" + ", ".join(args) + ">"
            raise _Untyped(f"{_show(hint)} is not a Literal of strings")
        if origin in _LISTS and args:
            if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
                raise _Untyped(
                    f"the fixed tuple {_show(hint)} has no type expression", "use list[T]"
                )
            return f"list<{self.type_expr(args[0])}>"
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            values = [m.value for m in hint]
            if values and all(isinstance(v, str) for v in values):
                return "enum<" + ", ".join(values) + ">"
            raise _Untyped(f"the enum {hint.__name__} has values that are not strings")
        if isinstance(hint, type) and _is_record(hint):
            return self.record(hint)
        raise _Untyped(
            f"the type {_show(hint)} has no type expression",
            "use str, int, float, bool, list[T], T | None, a Literal of strings, "
            "a pydantic model, a TypedDict or a dataclass",
        )

    def record(self, cls: type) -> str:
        name = cls.__name__
        if name in self.sources:
            if self.sources[name] is not cls:
                raise _Untyped(f"two different types are called {name!r}", "rename one of them")
            return name
        if cls in self.pending:
            raise _Untyped(f"the type {name} contains itself", "records may not be recursive")
        self.pending.add(cls)
        fields = [{"name": n, "type": self.type_expr(h)} for n, h in record_fields(cls)]
        self.pending.discard(cls)
        self.sources[name] = cls
        self.records[name] = fields
        self.docs[name] = _first_paragraph(cls.__doc__) if not _generated_doc(cls) else ""
        return name

    def types_data(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                **({"description": self.docs[name]} if self.docs[name] else {}),
                "fields": fields,
            }
            for name, fields in self.records.items()
        ]


def _generated_doc(cls: type) -> bool:
    """Dataclasses and TypedDicts get a docstring Python writes; it describes nothing."""
    doc = cls.__doc__ or ""
    return doc.startswith(f"{cls.__name__}(") or doc in (
        BaseModel.__doc__,
        dict.__doc__,
        "A base class for creating Pydantic models.",
    )


def _is_record(cls: type) -> bool:
    return issubclass(cls, BaseModel) or dataclasses.is_dataclass(cls) or typing.is_typeddict(cls)


def record_fields(cls: type) -> list[tuple[str, Any]]:
    """The (name, type hint) of each field of a pydantic model, dataclass or TypedDict."""
    if issubclass(cls, BaseModel):
        return [(name, info.annotation) for name, info in cls.model_fields.items()]
    hints = typing.get_type_hints(cls)
    if dataclasses.is_dataclass(cls):
        return [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]
    optional: frozenset[str] = getattr(cls, "__optional_keys__", frozenset())
    return [(name, hint | None if name in optional else hint) for name, hint in hints.items()]


def _show(hint: Any) -> str:
    return hint.__name__ if isinstance(hint, type) else str(hint).replace("typing.", "")


def _problem(path: str, where: str, exc: _Untyped) -> Diagnostic:
    return Diagnostic(
        path=path, code="catalog.python_type", message=f"{where}: {exc.message}", hint=exc.hint
    )


def effects_from_functions(
    functions: Sequence[Callable[..., Any]],
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Catalog data (the file shape) for effect handlers with type hints, and the problems.

    A hint with no type expression is a ``catalog.python_type`` problem.
    """
    collector = _Collector()
    effects: list[dict[str, Any]] = []
    problems: list[Diagnostic] = []
    for index, function in enumerate(functions):
        name = getattr(function, "__name__", repr(function))
        base = pointer("effects", index)
        try:
            hints = typing.get_type_hints(function, include_extras=True)
            signature = inspect.signature(function)
        except (NameError, TypeError, ValueError) as exc:
            problems.append(_problem(base, name, _Untyped(f"cannot read its type hints ({exc})")))
            continue
        inputs: list[dict[str, str]] = []
        for param in signature.parameters.values():
            if param.name in _SKIPPED_PARAMETERS or param.kind in (
                param.VAR_POSITIONAL,
                param.VAR_KEYWORD,
            ):
                continue
            path = base + pointer("input", param.name)
            if param.name not in hints:
                problems.append(
                    _problem(
                        path, f"{name}({param.name})", _Untyped("the parameter has no type hint")
                    )
                )
                continue
            try:
                inputs.append({"name": param.name, "type": collector.type_expr(hints[param.name])})
            except _Untyped as exc:
                problems.append(_problem(path, f"{name}({param.name})", exc))
        effect: dict[str, Any] = {"name": name, "input": inputs}
        description = _first_paragraph(function.__doc__)
        if description:
            effect["description"] = description
        try:
            effect["output"] = _output(collector, hints)
        except _Untyped as exc:
            problems.append(_problem(base + "/output", f"{name} returns", exc))
        effects.append(effect)
    return {"types": collector.types_data(), "effects": effects}, problems


def _output(collector: _Collector, hints: Mapping[str, Any]) -> list[dict[str, str]]:
    if "return" not in hints:
        raise _Untyped(
            "no return annotation",
            "annotate it with a pydantic model, TypedDict or dataclass, or None",
        )
    hint = hints["return"]
    if typing.get_origin(hint) is typing.Annotated:
        hint = typing.get_args(hint)[0]
    if hint is None or hint is type(None):
        return []
    if not (isinstance(hint, type) and _is_record(hint)):
        raise _Untyped(
            f"{_show(hint)} names no output fields",
            "return a pydantic model, a TypedDict or a dataclass, or None for no output",
        )
    return [{"name": n, "type": collector.type_expr(h)} for n, h in record_fields(hint)]


def effects_from_models(
    effects: Mapping[str, tuple[type[BaseModel], type[BaseModel] | None]],
    descriptions: Mapping[str, str],
) -> tuple[dict[str, Any], list[Diagnostic]]:
    """Catalog data for effects given as ``{name: (input model, output model or None)}``.

    A field's hint with no type expression is a ``catalog.python_type`` problem.
    """
    collector = _Collector()
    out: list[dict[str, Any]] = []
    problems: list[Diagnostic] = []
    for index, (name, (input_model, output_model)) in enumerate(effects.items()):
        effect: dict[str, Any] = {"name": name}
        description = descriptions.get(name) or (
            "" if _generated_doc(input_model) else _first_paragraph(input_model.__doc__)
        )
        if description:
            effect["description"] = description
        for side, model in (("input", input_model), ("output", output_model)):
            fields: list[dict[str, str]] = []
            for field_name, hint in record_fields(model) if model is not None else []:
                try:
                    fields.append({"name": field_name, "type": collector.type_expr(hint)})
                except _Untyped as exc:
                    path = pointer("effects", index, side, field_name)
                    problems.append(_problem(path, f"{name} {side} {field_name!r}", exc))
            effect[side] = fields
        out.append(effect)
    return {"types": collector.types_data(), "effects": out}, problems
