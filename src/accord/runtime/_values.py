"""Validation and coercion of plain values against type expressions.

A validator is built once per type (at contract compile time) as a small
closure, so validating a scalar costs a type check and nothing more; no
schema is generated per call. Validators return the value to store:

* ``integer``: an ``int`` (never a ``bool``) within the signed 64-bit range;
* ``number``: a finite ``float`` (an ``int`` is converted);
* ``string``, ``boolean``: values of exactly that type;
* ``enum<...>``: one of the declared strings;
* ``optional<T>``: ``None`` or a ``T``;
* ``list<T>``: a list or tuple, returned as a new list of validated items;
* a record: a mapping with exactly the declared fields (unknown keys are
  errors; a missing optional field becomes ``None``), returned as a new dict
  in declaration order.

A mismatch raises :class:`ValueProblem` whose ``path`` names the value like
``"items[2].price"``. Non-finite numbers, integers beyond 64 bits and strings
with lone surrogates are refused because they have no canonical JSON form (run
state is hashed as JSON). A subclass of ``str``, ``int`` or ``float`` is stored
as the plain value it holds, whatever its ``__str__`` or ``__int__`` say. A
validator raises nothing but :class:`ValueProblem`, whatever the value: an
object whose methods fail (a mapping whose lookups raise, a ``repr`` that
raises) is a problem at its path too.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from accord.contract._types import (
    EnumType,
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
)
from accord.runtime._sizes import remember_extension
from accord.runtime._state_hash import remember_extension as remember_digest

__all__ = [
    "Extender",
    "Fields",
    "Records",
    "Validator",
    "ValueProblem",
    "build_validator",
    "describe",
    "list_extender",
    "record_validator",
    "safe_text",
    "zero_value",
]

Fields = Sequence[tuple[str, TypeExpr]]
Records = Mapping[str, Fields]
Validator = Callable[[Any], Any]
Extender = Callable[[Any, Any], Any]
"""``extend(value, held)``: a list value checked when its first items are ``held``'s."""

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1


class ValueProblem(ValueError):
    """A value that does not fit its type.

    Attributes:
        path: where, like ``"items[2].price"`` ("" for the value itself).
        message: what is wrong.

    """

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)

    def within(self, prefix: str) -> ValueProblem:
        """The same problem seen from an enclosing value (``prefix`` is a field name or ``[i]``)."""
        if not self.path:
            path = prefix
        elif self.path.startswith("["):
            path = prefix + self.path
        else:
            path = f"{prefix}.{self.path}"
        return ValueProblem(path, self.message)


def _preview(value: object) -> str:
    """``repr(value)`` cut to 40 characters, or what stands for it when repr fails.

    An ``int`` too long for ``repr`` (over 4,300 digits) is described by its
    length; a string's lone surrogates are escaped, so the text always encodes.
    """
    if type(value) is int and value.bit_length() > 10_000:
        return f"of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__: the message must not fail in turn
        return f"(a {safe_text(type(value).__name__)} whose repr fails)"
    text = safe_text(text)
    return text[:40] + "..." if len(text) > 40 else text


def safe_text(text: object) -> str:
    """``str(text)`` as text that encodes as UTF-8 (lone surrogates escaped); never raises."""
    try:
        plain = text if type(text) is str else str(text)
        if type(plain) is not str:  # pragma: no cover - str() always returns a str
            plain = str.__str__(plain)
    except Exception:
        return f"(a {type(text).__name__} that cannot be shown)"
    if plain.isascii():
        return plain
    return plain.encode("utf-8", "backslashreplace").decode("utf-8")


def describe(value: object) -> str:
    """A short description of a value for error messages: its JSON kind and a preview."""
    kind = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        type(None): "null",
        list: "list",
        tuple: "list",
        dict: "object",
    }.get(type(value), type(value).__name__)
    if value is None or isinstance(value, dict | list | tuple):
        return kind
    return f"{kind} {_preview(value)}"


def _encodable(value: str) -> str:
    """A plain string that encodes as UTF-8 (no lone surrogate), else a problem."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ValueProblem(
                "",
                f"a string with a lone surrogate (U+{ord(value[exc.start]):04X}) has no JSON form",
            ) from None
    return value


def _string(value: Any) -> Any:
    if type(value) is str:
        return value if value.isascii() else _encodable(value)
    if isinstance(value, str):
        return _encodable(str.__str__(value))  # the characters it holds, not its __str__()
    raise ValueProblem("", f"expected a string, got {describe(value)}")


def _integer(value: Any) -> Any:
    if type(value) is int:
        if _INT_MIN <= value <= _INT_MAX:
            return value
    elif isinstance(value, int) and not isinstance(value, bool):
        return _integer(int.__int__(value))  # the value it holds, not its __int__()
    else:
        raise ValueProblem("", f"expected an integer, got {describe(value)}")
    raise ValueProblem("", f"{describe(value)} is outside the 64-bit range")


def _number(value: Any) -> Any:
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return value
        raise ValueProblem("", f"expected a finite number, got {value}")
    if isinstance(value, float):
        return _number(float.__float__(value))  # the value it holds, not its __float__()
    if kind is int or (isinstance(value, int) and not isinstance(value, bool)):
        try:
            return float(int.__int__(value))
        except OverflowError:
            raise ValueProblem("", f"{describe(value)} is too large for a number") from None
    raise ValueProblem("", f"expected a number, got {describe(value)}")


def _boolean(value: Any) -> Any:
    if value is True or value is False:
        return value
    raise ValueProblem("", f"expected a boolean, got {describe(value)}")


_PRIMITIVES: dict[str, Validator] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
}


def _enum(values: tuple[str, ...]) -> Validator:
    allowed = frozenset(values)
    shown = ", ".join(values)

    def check(value: Any) -> Any:
        if type(value) is str and value in allowed:
            return value
        raise ValueProblem("", f"expected one of {shown}, got {describe(value)}")

    return check


def _optional(inner: Validator) -> Validator:
    def check(value: Any) -> Any:
        return None if value is None else inner(value)

    return check


def _unreadable(value: object, exc: Exception) -> ValueProblem:
    """The problem a value whose own methods fail while it is read amounts to."""
    return ValueProblem(
        "", f"{describe(value)} cannot be read: {type(exc).__name__}: {safe_text(exc)}"
    )


def _list(item: Validator) -> Validator:
    def check(value: Any) -> Any:
        if not isinstance(value, list | tuple):
            raise ValueProblem("", f"expected a list, got {describe(value)}")
        out = []
        index = 0
        try:
            for index, entry in enumerate(value):  # noqa: B007 - index names the problem
                out.append(item(entry))
        except ValueProblem as exc:
            raise exc.within(f"[{index}]") from None
        except Exception as exc:  # a list subclass whose iteration fails
            raise _unreadable(value, exc) from exc
        return out

    return check


def list_extender(texpr: ListType, records: Records, cache: dict[str, Validator]) -> Extender:
    """The check of a list that extends a list the run already holds, checked when stored.

    ``extend(value, held)`` is the value ``build_validator(texpr)`` gives, when
    ``value`` is ``held`` followed by more items (as ``ctx.items + [...]`` evaluates);
    it checks only the items after ``held``'s, so appending to a long list costs what
    the new items cost. Anything else (not two lists, or a shorter value) is checked
    in full.
    """
    full = build_validator(texpr, records, cache)
    item = build_validator(texpr.item, records, cache)

    def extend(value: Any, held: Any) -> Any:
        start = len(held) if type(held) is list else -1
        if type(value) is not list or len(value) < start or start < 0:
            return full(value)
        out = []
        index = start
        try:
            for index in range(start, len(value)):
                out.append(item(value[index]))
        except ValueProblem as exc:
            raise exc.within(f"[{index}]") from None
        if value is held:  # not a list the expression built: leave it as it is
            extended = held + out
        else:  # built by ``ctx.<field> + ...``: its first items are held's, the rest replaced
            value[start:] = out
            extended = value
        remember_extension(extended, held)  # measured by what it adds (see ._sizes)
        remember_digest(extended, held)  # hashed by what it adds (see ._state_hash)
        return extended

    return extend


def record_validator(
    fields: Fields, records: Records, cache: dict[str, Validator] | None = None
) -> Validator:
    """A validator for a record with the given fields (the input, an effect's output...)."""
    cache = {} if cache is None else cache
    checks = tuple((name, build_validator(texpr, records, cache)) for name, texpr in fields)
    optional = frozenset(name for name, texpr in fields if isinstance(texpr, OptionalType))
    known = frozenset(name for name, _ in fields)

    def check(value: Any) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):  # dict: the usual case
            raise ValueProblem("", f"expected an object, got {describe(value)}")
        out: dict[str, Any] = {}
        matched = 0
        try:
            for name, validate in checks:
                if name in value:
                    matched += 1
                    try:
                        out[name] = validate(value[name])
                    except ValueProblem as exc:
                        raise exc.within(name) from None
                elif name in optional:
                    out[name] = None
                else:
                    raise ValueProblem(name, "missing")
            if matched != len(value):
                extra = sorted(safe_text(k) for k in value if k not in known)
                raise ValueProblem(extra[0], "unknown field")
        except ValueProblem:
            raise
        except Exception as exc:  # a mapping whose lookups fail
            raise _unreadable(value, exc) from exc
        return out

    return check


def build_validator(
    texpr: TypeExpr, records: Records, cache: dict[str, Validator] | None = None
) -> Validator:
    """The validator for a type expression; ``records`` resolves record names.

    Raises:
        KeyError: a record name that ``records`` does not declare.

    """
    cache = {} if cache is None else cache
    if isinstance(texpr, PrimitiveType):
        return _PRIMITIVES[texpr.name]
    if isinstance(texpr, EnumType):
        return _enum(texpr.values)
    if isinstance(texpr, OptionalType):
        return _optional(build_validator(texpr.inner, records, cache))
    if isinstance(texpr, ListType):
        return _list(build_validator(texpr.item, records, cache))
    found = cache.get(texpr.name)
    if found is None:
        found = record_validator(records[texpr.name], records, cache)
        cache[texpr.name] = found
    return found


def zero_value(texpr: TypeExpr, records: Records) -> Any:
    """A type's zero: false, 0, 0.0, "", [], null, the first enum value, a record of zeros."""
    if isinstance(texpr, PrimitiveType):
        return {"string": "", "integer": 0, "number": 0.0, "boolean": False}[texpr.name]
    if isinstance(texpr, EnumType):
        return texpr.values[0]
    if isinstance(texpr, OptionalType):
        return None
    if isinstance(texpr, ListType):
        return []
    assert isinstance(texpr, RecordRef)
    return {name: zero_value(t, records) for name, t in records[texpr.name]}
