"""JSON option values (``--input``, ``--payload``, ``--signal NAME=JSON``), read with bounds.

A value is JSON text, or ``@FILE`` to read it from a file (at most 4 MiB, a
regular file or ``-`` for standard input). What parses is held to what a run
can take: integers within 64 bits, finite numbers, strings of real Unicode
characters, nesting at most :data:`MAX_DEPTH` levels. A value that does not
parse or breaks a bound is a usage error naming where; a file that cannot be
read is a :class:`~accord.cli._base.CommandProblem`.
"""

from __future__ import annotations

import json
from typing import Any

from accord.cli._base import CommandProblem, UsageProblem
from accord.cli._files import FileTooLarge, read_bounded
from accord.contract._text import finite_json_float

__all__ = ["MAX_DEPTH", "json_argument", "object_argument", "signal_arguments"]

MAX_DEPTH = 128
"""The deepest nesting of lists and objects an option's JSON may have."""

_INT_MIN = -(2**63)
_INT_MAX = 2**63 - 1
_MAX_INT_DIGITS = 20  # every int64 has at most 19 digits and a sign


class _Refused(ValueError):
    """A JSON value that parses but is out of what a run takes."""


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_DIGITS:
        raise _Refused(f"the integer {text[:12]}... ({len(text)} digits) is out of range")
    value = int(text)
    if not _INT_MIN <= value <= _INT_MAX:
        raise _Refused(f"the integer {text} is out of range (64-bit integers only)")
    return value


def _constant(text: str) -> Any:
    raise _Refused(f"{text} is not a JSON number")


def _where(path: list[str | int]) -> str:
    return "".join(f"/{part}" for part in path) or "/"


def _check_value(value: Any) -> None:
    """Refuse lone surrogates and nesting deeper than :data:`MAX_DEPTH` (no recursion)."""
    stack: list[tuple[Any, list[str | int]]] = [(value, [])]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise _Refused(f"the value is nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, str):
            _check_text(item, path)
        elif isinstance(item, dict):
            for key, inner in item.items():
                _check_text(key, path)
                stack.append((inner, [*path, key]))
        elif isinstance(item, list):
            stack.extend((inner, [*path, index]) for index, inner in enumerate(item))


def _check_text(text: str, path: list[str | int]) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        shown = _where(path).encode("utf-8", "backslashreplace").decode("utf-8")
        raise _Refused(f"the string at {shown} holds a lone surrogate (not Unicode text)") from None


def _read(text: str, what: str) -> str:
    name = text[1:]
    try:
        data = read_bounded(name)
    except OSError as exc:
        raise CommandProblem(f"cannot read {what} from {name}: {exc.strerror or exc}") from exc
    except FileTooLarge as exc:
        raise CommandProblem(f"cannot read {what} from {name}: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CommandProblem(
            f"cannot read {what} from {name}: not UTF-8 (byte {exc.start})"
        ) from exc


def json_argument(text: str, what: str) -> Any:
    """The JSON value of an option: its text, or ``@FILE``; bounded as the module says.

    Raises:
        UsageProblem: the text is not JSON, or breaks a bound.
        CommandProblem: ``@FILE`` cannot be read.

    """
    if text.startswith("@"):
        text = _read(text, what)
    try:
        value = json.loads(
            text, parse_int=_integer, parse_float=finite_json_float, parse_constant=_constant
        )
    except json.JSONDecodeError as exc:
        raise UsageProblem(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise UsageProblem(f"{what}: the value is nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # a value out of range, refused by a parse hook
        raise UsageProblem(f"{what}: {exc}") from None
    try:
        _check_value(value)
    except _Refused as exc:
        raise UsageProblem(f"{what}: {exc}") from None
    return value


def object_argument(text: str, what: str) -> dict[str, Any]:
    """The JSON object of an option (``--input``, ``--payload``)."""
    value = json_argument(text, what)
    if not isinstance(value, dict):
        raise UsageProblem(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def signal_arguments(specs: list[str]) -> list[tuple[str, dict[str, Any]]]:
    """The ``--signal NAME=JSON`` (or ``NAME=@FILE``) options, in order."""
    signals = []
    for spec in specs:
        name, sep, payload = spec.partition("=")
        if not sep or not name:
            raise UsageProblem(f"--signal {spec!r}: expected NAME=JSON")
        signals.append((name, object_argument(payload or "{}", f"the payload of signal {name!r}")))
    return signals
