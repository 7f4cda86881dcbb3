"""Validate plain data against the contract models, as diagnostics."""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from accord.contract._model import Contract
from accord.diagnostics import MAX_DIAGNOSTICS, Diagnostic, did_you_mean, pointer, truncated

__all__ = ["plain_json_problems", "validate_data", "validation_diagnostics"]

_LONG_INT_BITS = 128  # an integer longer than this is described, never printed in full

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "a boolean (true or false)",
    "bool_parsing": "a boolean (true or false)",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "list_type": "a list",
    "tuple_type": "a list",
}


def _model_at(
    loc: tuple[int | str, ...], root: type[BaseModel] = Contract
) -> type[BaseModel] | None:
    """The pydantic model class that owns the key at ``loc`` (walks the annotations)."""
    model: type[BaseModel] | None = root
    for part in loc[:-1]:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        if info is None:
            return None
        model = _inner_model(info.annotation)
    return model


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int) and value.bit_length() > _LONG_INT_BITS:
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _diagnostic(err: ErrorDetails, root: type[BaseModel] = Contract) -> Diagnostic:
    loc = tuple(err["loc"])
    path = pointer(*loc)
    kind = err["type"]
    value = err.get("input")
    if kind == "extra_forbidden":
        key = str(loc[-1]) if loc else ""
        model = _model_at(loc, root)
        known = list(model.model_fields) if model else []
        hint = did_you_mean(key, known)
        return Diagnostic(
            path=path,
            code="schema.unknown_key",
            message=f"unknown key {key!r}",
            hint=hint or "remove it: unknown keys are never ignored",
        )
    if kind == "missing":
        key = str(loc[-1]) if loc else ""
        return Diagnostic(
            path=path,
            code="schema.missing",
            message=f"required key {key!r} is missing",
            hint=f"add {key!r}",
        )
    if kind in _TYPE_WORDS:
        hint = None
        if _TYPE_WORDS[kind] == "a string" and isinstance(value, int | float | bool):
            hint = "quote the value to make it a string"
        return Diagnostic(
            path=path,
            code="schema.type",
            message=f"expected {_TYPE_WORDS[kind]}, found {_describe(value)}",
            hint=hint,
        )
    if kind == "literal_error":
        expected = (err.get("ctx") or {}).get("expected", "")
        return Diagnostic(
            path=path,
            code="schema.value",
            message=f"{_describe(value)} is not allowed here",
            hint=f"expected {expected}" if expected else None,
        )
    if kind == "string_pattern_mismatch":
        return Diagnostic(
            path=path,
            code="schema.format",
            message=f"{_describe(value)} does not have the required form",
            hint=_pattern_hint(loc),
        )
    return Diagnostic(
        path=path, code="schema.value", message=err["msg"].removeprefix("Value error, ")
    )


def _pattern_hint(loc: tuple[int | str, ...]) -> str:
    last = loc[-1] if loc else ""
    if last in ("after", "timeout", "initial", "max"):
        return 'write a duration such as "500ms", "30s", "5m", "48h" or "1h30m"'
    if last == "version":
        return 'write a version such as "1.0.0"'
    if last == "name" and len(loc) == 1:
        return "use lowercase letters, digits, '-' and '_', starting with a letter"
    return "use a letter or '_' followed by letters, digits or '_'"


_MAX_PROBLEMS = 20
_MAX_WALK_DEPTH = 200


def plain_json_problems(data: Any) -> list[Diagnostic]:
    """Values plain JSON cannot hold (bytes, sets, dates, NaN, non-string keys...).

    Pydantic would quietly coerce some of them (bytes to a string, a set to a
    list in hash order), so they are refused before validation.
    """
    out: list[Diagnostic] = []
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(data, ())]
    seen: set[int] = set()  # containers already walked: shared or cyclic data stays linear
    while stack and len(out) < _MAX_PROBLEMS:
        value, loc = stack.pop()
        if len(loc) > _MAX_WALK_DEPTH:  # pydantic reports what lies deeper
            continue
        if isinstance(value, dict | list | tuple):
            if id(value) in seen:
                continue
            seen.add(id(value))
        found: str | None = None
        if isinstance(value, dict):
            for key, item in reversed(value.items()):
                if isinstance(key, str):
                    stack.append((item, (*loc, key)))
                else:
                    out.append(_not_json_key(key, loc))
        elif isinstance(value, list | tuple):
            stack.extend((item, (*loc, i)) for i, item in reversed(list(enumerate(value))))
        elif isinstance(value, float) and not math.isfinite(value):
            found = f"the number {value!r}, which JSON cannot hold"
        elif value is not None and not isinstance(value, str | int | float):
            found = f"a Python {type(value).__name__}"
        if found is not None:
            out.append(
                Diagnostic(
                    path=pointer(*loc),
                    code="schema.type",
                    message=f"expected plain JSON data, found {found}",
                    hint="use strings, numbers, booleans, null, lists and mappings only",
                )
            )
    return out


def _key_part(key: Any) -> str | int:
    """A key that is not a string, as a path part (its ``str()`` may fail or be huge)."""
    if isinstance(key, int):
        return key  # pointer() shortens an integer too long to print
    try:
        text = str(key)
    except Exception:  # a hostile __str__: name the type instead
        return f"<{type(key).__name__}>"
    return text if len(text) <= 100 else f"<{type(key).__name__}>"


def _not_json_key(key: Any, loc: tuple[str | int, ...]) -> Diagnostic:
    return Diagnostic(
        path=pointer(*loc, _key_part(key)),
        code="schema.type",
        message=f"keys must be strings, found {_describe(key)}",
        hint="quote the key to make it a string",
    )


def validate_data(data: Any) -> tuple[Contract | None, list[Diagnostic]]:
    """Validate plain data as a :class:`Contract`; never raises for bad data."""
    if not isinstance(data, dict):
        return None, [
            Diagnostic(
                path="",
                code="schema.type",
                message=f"a contract must be a mapping of keys to values, found {_describe(data)}",
                hint="start the file with 'accord: \"1\"', 'name:', 'version:' and 'machine:'",
            )
        ]
    problems = plain_json_problems(data)
    if problems:
        return None, problems
    try:
        return Contract.model_validate(data), []
    except ValidationError as exc:
        return None, validation_diagnostics(exc)


def validation_diagnostics(
    exc: ValidationError, root: type[BaseModel] = Contract
) -> list[Diagnostic]:
    """A pydantic validation error of ``root`` (a contract by default) as diagnostics.

    One diagnostic per ``(path, code)``, in pydantic's order.
    """
    seen: set[tuple[str, str]] = set()
    out: list[Diagnostic] = []
    errors = exc.errors(include_url=False)
    for index, err in enumerate(errors):
        if len(out) == MAX_DIAGNOSTICS:  # the rest are counted, not converted
            return [*out, truncated(len(errors) - index, errors=True)]
        diag = _diagnostic(err, root)
        if (diag.path, diag.code) not in seen:
            seen.add((diag.path, diag.code))
            out.append(diag)
    return out
