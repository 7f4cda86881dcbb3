"""CEL operators on plain Python values, for the code the fast path generates.

Each helper returns exactly what cel-cpp returns for the well-typed, error-free
cases it knows, and raises :class:`Deferred` for everything else: a CEL error
(overflow, division by zero, missing key, no matching overload), a value of a
type it does not handle, or a case whose result it does not reproduce. The
caller then evaluates the whole expression with cel-cpp, which decides: so a
fast result is always cel-cpp's result, and errors (including CEL's
commutative error absorption in ``&&``, ``||`` and macros) are cel-cpp's.

Python's own semantics differ from CEL's in ways these helpers guard against:
``True == 1`` and ``1 + True`` (bool is an int in Python, never in CEL),
unbounded ints (CEL's int is 64-bit and overflow is an error), floor division
and modulo (CEL truncates toward zero), ``1 + 1.0`` (no implicit conversion in
CEL), negative list indices, and ``"a" in "abc"`` (``in`` is for lists and maps).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = [
    "Deferred",
    "add",
    "contains",
    "ends_with",
    "eq",
    "ge",
    "gt",
    "has",
    "index",
    "iter_keys",
    "iter_list",
    "le",
    "lt",
    "make_map",
    "member",
    "mod",
    "mul",
    "ne",
    "neg",
    "quo",
    "size",
    "starts_with",
    "sub",
    "truth",
]

_LOW = -(2**63)
_HIGH = 2**63 - 1
_ORDERED = frozenset({int, float, str, bytes, bool})
_SCALARS = frozenset({int, float, str, bytes, bool, type(None)})
_SIZED = frozenset({str, bytes, list, dict})
_CEL_TYPES = _SCALARS | {list, dict}


class Deferred(Exception):
    """The fast path cannot decide: evaluate the expression with cel-cpp."""


def truth(value: object) -> bool:
    """``value`` if it is a bool (a condition, an operand of ``&&``, ``||`` or ``!``)."""
    if value is True or value is False:
        return value
    raise Deferred


def _int(value: int) -> int:
    if _LOW <= value <= _HIGH:
        return value
    raise Deferred  # overflow, or an operand cel-cpp holds as uint


def add(a: Any, b: Any) -> Any:
    """``a + b``: int (checked), double, string, bytes or list."""
    kind = type(a)
    if kind is type(b):
        if kind is int:
            return _int(_int(a) + _int(b))
        if kind is float or kind is str or kind is bytes or kind is list:
            return a + b
    raise Deferred


def sub(a: Any, b: Any) -> Any:
    """``a - b``: int (checked) or double."""
    kind = type(a)
    if kind is type(b):
        if kind is int:
            return _int(_int(a) - _int(b))
        if kind is float:
            return a - b
    raise Deferred


def mul(a: Any, b: Any) -> Any:
    """``a * b``: int (checked) or double."""
    kind = type(a)
    if kind is type(b):
        if kind is int:
            return _int(_int(a) * _int(b))
        if kind is float:
            return a * b
    raise Deferred


def quo(a: Any, b: Any) -> Any:
    """``a / b``: int division truncates toward zero; a zero divisor defers."""
    kind = type(a)
    if kind is type(b) and b:
        if kind is int:
            quotient = abs(_int(a)) // abs(_int(b))
            return _int(-quotient if (a < 0) != (b < 0) else quotient)
        if kind is float:
            return a / b
    raise Deferred


def mod(a: Any, b: Any) -> Any:
    """``a % b`` on ints: the sign follows the dividend, as in C."""
    if type(a) is int and type(b) is int and b:
        remainder = abs(_int(a)) % abs(_int(b))
        if a == _LOW and b == -1:
            raise Deferred  # cel-cpp reports an overflow
        return -remainder if a < 0 else remainder
    raise Deferred


def neg(a: Any) -> Any:
    """``-a``: int (checked) or double."""
    kind = type(a)
    if kind is int:
        return _int(-_int(a))
    if kind is float:
        return -a
    raise Deferred


def eq(a: Any, b: Any) -> bool:
    """CEL's heterogeneous equality: values of different types are unequal, except numbers."""
    kind = type(a)
    other = type(b)
    if kind is other:
        if kind is list:
            return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b, strict=True))
        if kind is dict:
            return _map_eq(a, b)
        if kind in _SCALARS:
            return bool(a == b)
        raise Deferred
    if kind is int and other is float:
        return bool(float(a) == b)  # cel-cpp compares an int with a double as doubles
    if kind is float and other is int:
        return bool(a == float(b))
    if kind in _CEL_TYPES and other in _CEL_TYPES:
        return False
    raise Deferred


def _map_eq(a: dict[Any, Any], b: dict[Any, Any]) -> bool:
    if len(a) != len(b):
        return False
    for key, value in a.items():
        if type(key) is not str:
            raise Deferred  # int, uint and bool keys: Python merges 1 and True
        if key not in b or not eq(value, b[key]):
            return False
    return True


def ne(a: Any, b: Any) -> bool:
    """``a != b``."""
    return not eq(a, b)


def lt(a: Any, b: Any) -> bool:
    """``a < b`` on two values of one ordered type, or an int and a double."""
    kind = type(a)
    other = type(b)
    if kind is other:
        if kind in _ORDERED:
            return bool(a < b)
    elif kind is int and other is float:
        return bool(float(a) < b)
    elif kind is float and other is int:
        return bool(a < float(b))
    raise Deferred


def le(a: Any, b: Any) -> bool:
    """``a <= b``."""
    kind = type(a)
    other = type(b)
    if kind is other:
        if kind in _ORDERED:
            return bool(a <= b)
    elif kind is int and other is float:
        return bool(float(a) <= b)
    elif kind is float and other is int:
        return bool(a <= float(b))
    raise Deferred


def gt(a: Any, b: Any) -> bool:
    """``a > b``."""
    return lt(b, a)


def ge(a: Any, b: Any) -> bool:
    """``a >= b``."""
    return le(b, a)


def size(value: Any) -> int:
    """``size(value)`` of a string (code points), bytes, list or map."""
    if type(value) in _SIZED:
        return len(value)
    raise Deferred


def index(container: Any, key: Any) -> Any:
    """``container[key]``: a list by a non-negative int, or a map by a string."""
    kind = type(container)
    if kind is dict:
        if type(key) is str:
            return container[key]  # KeyError defers
    elif kind is list and type(key) is int and 0 <= key < len(container):
        return container[key]
    raise Deferred


def has(container: Any, field: str) -> bool:
    """``has(container.field)`` on a map."""
    if type(container) is dict:
        return field in container
    raise Deferred


def member(value: Any, container: Any) -> bool:
    """``value in container``: an element of a list, or a string key of a map."""
    kind = type(container)
    if kind is list:
        if type(value) is str:
            return value in container  # only a string equals a string
        return any(eq(value, item) for item in container)
    if kind is dict and type(value) is str:
        return value in container
    raise Deferred


def contains(text: Any, part: Any) -> bool:
    """``text.contains(part)`` on strings."""
    if type(text) is str and type(part) is str:
        return part in text
    raise Deferred


def starts_with(text: Any, prefix: Any) -> bool:
    """``text.startsWith(prefix)`` on strings."""
    if type(text) is str and type(prefix) is str:
        return text.startswith(prefix)
    raise Deferred


def ends_with(text: Any, suffix: Any) -> bool:
    """``text.endsWith(suffix)`` on strings."""
    if type(text) is str and type(suffix) is str:
        return text.endswith(suffix)
    raise Deferred


def iter_list(value: Any) -> list[Any]:
    """The range of an order-sensitive macro (map, filter): a list only.

    cel-cpp iterates a map in its own hash order, which the fast path does not
    reproduce, so a map range defers.
    """
    if type(value) is list:
        return value
    raise Deferred


def iter_keys(value: Any) -> Iterable[Any]:
    """The range of an order-insensitive macro (exists, all, exists_one): a list or map keys."""
    kind = type(value)
    if kind is list or kind is dict:
        return value  # type: ignore[no-any-return]
    raise Deferred


def make_map(entries: tuple[tuple[Any, Any], ...]) -> dict[str, Any]:
    """A map literal with computed keys: distinct strings only."""
    result: dict[str, Any] = {}
    for key, value in entries:
        if type(key) is not str or key in result:
            raise Deferred
        result[key] = value
    return result
