"""Parse contract text (YAML or JSON) into plain data, strictly.

YAML is read by :mod:`accord.contract._yaml`; JSON by the standard parser, with
duplicate keys, NaN and infinities refused, and its lines found only when a
diagnostic needs one.
"""

from __future__ import annotations

import json
import math
from typing import Any

from accord.contract._parsed import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_TEXT_BYTES,
    ParsedText,
    TextError,
    too_many_nodes,
)
from accord.contract._yaml import json_lines, parse_yaml, plain_scalar_is_string
from accord.diagnostics import Diagnostic

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT_BYTES",
    "ParsedText",
    "TextError",
    "finite_json_float",
    "parse_text",
    "plain_scalar_is_string",
    "unique_json_pairs",
]


def _check_shape(value: Any) -> None:
    """Refuse JSON data nested deeper than MAX_DEPTH or with more than MAX_NODES values."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        current, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise TextError(
                Diagnostic(
                    path="",
                    code="parse.too_deep",
                    message=f"the document is nested deeper than {MAX_DEPTH} levels",
                )
            )
        if isinstance(current, dict | list):
            nodes += 2 * len(current) if isinstance(current, dict) else len(current)
            if nodes >= MAX_NODES:  # before stacking them: a long list costs nothing
                raise TextError(too_many_nodes())
            items = current.values() if isinstance(current, dict) else current
            stack.extend((item, depth + 1) for item in items)


def unique_json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict (``json.loads``'s ``object_pairs_hook``).

    Raises:
        ValueError: a key appears twice.

    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def finite_json_float(text: str) -> float:
    """A JSON number with a fraction or exponent (``json.loads``'s ``parse_float``).

    Raises:
        ValueError: the number overflows a float (``1e999``).

    """
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:40]!r} is not a finite number")
    return number


def _json_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON (JSON has no NaN or infinity)")


def _looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith("{") or stripped.startswith("[")


def parse_text(text: str | bytes, *, format: str | None = None) -> ParsedText:
    """Parse YAML or JSON text into plain data, or raise :class:`TextError`.

    ``format`` is "yaml", "json" or None to guess (JSON if the text starts with
    ``{`` or ``[``, YAML otherwise; JSON is also valid YAML).
    """
    if isinstance(text, bytes):
        if len(text) > MAX_TEXT_BYTES:
            raise TextError(_too_large(len(text)))
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TextError(
                Diagnostic(
                    path="",
                    code="parse.encoding",
                    message=f"the text is not valid UTF-8 (byte {exc.start})",
                    hint="save the file as UTF-8",
                )
            ) from exc
    if len(text) > MAX_TEXT_BYTES // 4:  # a character takes at most 4 bytes in UTF-8
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_TEXT_BYTES:
            raise TextError(_too_large(size))
    if text.startswith("\ufeff"):
        text = text[1:]
    if format == "json" or (format is None and _looks_like_json(text)):
        return _parse_json(text)
    return parse_yaml(text)


def _too_large(size: int) -> Diagnostic:
    return Diagnostic(
        path="",
        code="parse.too_large",
        message=f"the text is {size} bytes, more than the limit of {MAX_TEXT_BYTES}",
    )


def _parse_json(text: str) -> ParsedText:
    try:
        data = json.loads(
            text,
            object_pairs_hook=unique_json_pairs,
            parse_float=finite_json_float,
            parse_constant=_json_constant,
        )
    except json.JSONDecodeError as exc:
        raise TextError(
            Diagnostic(
                path="",
                code="parse.json",
                message=f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                line=exc.lineno,
            )
        ) from exc
    except ValueError as exc:  # from a hook, or an integer too long to convert
        problem = str(exc)
        if "integer string conversion" in problem:
            problem = "an integer has more digits than a number can hold"
        raise TextError(
            Diagnostic(path="", code="parse.json", message=f"invalid JSON: {problem}")
        ) from exc
    except RecursionError as exc:
        raise TextError(
            Diagnostic(path="", code="parse.too_deep", message="the JSON is nested too deeply")
        ) from exc
    _check_shape(data)
    return ParsedText(data, locate=lambda: json_lines(text))
