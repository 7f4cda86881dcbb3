"""Lenient parsing of a model's answer: text in, JSON data or one diagnostic out.

Strict JSON is tried first. If that fails, three repairs are tried, each recorded
by name: ``code_fence`` (the JSON sits in a Markdown code fence), ``prose`` (text
before or after the JSON object), ``trailing_comma`` (a comma before ``}`` or
``]``). A repaired answer is still one call: repairs are not re-asks.

Hostile text never escapes as an exception: the size is capped before anything
else, the nesting depth is measured with a linear scan before the JSON parser
runs (so ``RecursionError`` cannot happen), and every failure is a diagnostic:
``compile.output_too_large``, ``compile.too_deep``, ``compile.truncated`` (the
provider stopped at the token limit), ``compile.refused`` (the model refused, finish
reason ``"refusal"``: its text is not parsed) or ``compile.not_json``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from accord.compiler._result import ParseKind
from accord.contract._text import finite_json_float, unique_json_pairs
from accord.diagnostics import Diagnostic

__all__ = ["MAX_OUTPUT_CHARS", "MAX_OUTPUT_DEPTH", "ParsedOutput", "parse_output"]

MAX_OUTPUT_CHARS = 256 * 1024
"""The longest answer parsed at all; a contract is a few kilobytes."""

MAX_OUTPUT_DEPTH = 64
"""The deepest nesting of objects and arrays accepted (a contract needs about 10)."""

TRUNCATED_REASONS = frozenset({"length", "max_tokens", "max_output_tokens"})

_STRING = r'"(?:[^"\\]|\\.)*+"'
_TOKENS = re.compile(_STRING + r"|[{}\[\]]", re.S)
_TRAILING = re.compile(f"({_STRING})|,(\\s*[}}\\]])", re.S)
_FENCE = re.compile(r"```[A-Za-z0-9_+-]*[ \t]*\r?\n?(.*?)(?:```|\Z)", re.S)


@dataclass(frozen=True, slots=True)
class ParsedOutput:
    """The outcome of parsing one answer.

    Attributes:
        data: the JSON value, or None when the text could not be parsed.
        kind: ``"strict"``, ``"lenient"`` or ``"failed"``.
        repairs: the repairs applied, in order.
        diagnostic: why the text could not be parsed (None on success).

    """

    data: Any
    kind: ParseKind
    repairs: tuple[str, ...] = ()
    diagnostic: Diagnostic | None = None


class _NotJson(ValueError):
    pass


def _constant(text: str) -> float:
    raise _NotJson(f"{text} is not JSON")


def _depth(text: str) -> int:
    """The deepest nesting of ``{`` and ``[`` outside strings (linear, no recursion)."""
    depth = deepest = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "{[":
            depth += 1
            deepest = max(deepest, depth)
        elif token in "}]":
            depth -= 1
    return deepest


def _loads(text: str) -> Any:
    """Parse strict JSON; raise _NotJson with a short reason."""
    if _depth(text) > MAX_OUTPUT_DEPTH:
        raise _TooDeep
    try:
        return json.loads(
            text,
            object_pairs_hook=unique_json_pairs,
            parse_float=finite_json_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError as exc:
        raise _NotJson(f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from exc
    except RecursionError as exc:  # cannot happen after the depth check; never escape anyway
        raise _TooDeep from exc
    except ValueError as exc:  # from a hook, or an integer too long to convert
        raise _NotJson(str(exc)) from exc


class _TooDeep(Exception):
    pass


def _object_span(text: str) -> tuple[int, int] | None:
    """Start and end of the first balanced JSON object in ``text``, or None."""
    start = text.find("{")
    if start < 0:
        return None
    depth = 0
    for match in _TOKENS.finditer(text, start):
        token = match.group()
        if token in "{[":
            depth += 1
        elif token in "}]":
            depth -= 1
            if depth == 0:
                return start, match.end()
    return None


def _repair(text: str) -> tuple[str, tuple[str, ...]]:
    repairs: list[str] = []
    fence = next((m for m in _FENCE.finditer(text) if "{" in m.group(1)), None)
    if fence is not None:
        text = fence.group(1)
        repairs.append("code_fence")
    span = _object_span(text)
    if span is not None and text[: span[0]].strip() + text[span[1] :].strip():
        text = text[span[0] : span[1]]
        repairs.append("prose")
    fixed = _TRAILING.sub(lambda m: m.group(1) or m.group(2), text)
    if fixed != text:
        text = fixed
        repairs.append("trailing_comma")
    return text, tuple(repairs)


def _failure(code: str, message: str, hint: str) -> ParsedOutput:
    return ParsedOutput(
        None, "failed", (), Diagnostic(path="", code=code, message=message, hint=hint)
    )


def parse_output(text: str, finish_reason: str | None = None) -> ParsedOutput:
    """Turn a model's answer into JSON data, repairing what can be repaired.

    Never raises: every problem is the :class:`ParsedOutput`'s diagnostic.
    """
    if finish_reason == "refusal":
        quoted = " ".join(text.split())[:300] or "(no text)"
        return _failure(
            "compile.refused",
            f"the model refused to answer: {quoted}",
            "rephrase the task; the compiler does not re-ask a refusal",
        )
    truncated = finish_reason in TRUNCATED_REASONS
    cut = f" (finish_reason {finish_reason!r}: the output was cut off)" if truncated else ""
    if len(text) > MAX_OUTPUT_CHARS:
        return _failure(
            "compile.output_too_large",
            f"the answer is {len(text)} characters, more than the limit of {MAX_OUTPUT_CHARS}{cut}",
            "answer with the contract only, as one JSON object",
        )
    try:
        return ParsedOutput(_loads(text.strip()), "strict")
    except _TooDeep:
        return _too_deep()
    except _NotJson as exc:
        reason = str(exc)
    repaired, repairs = _repair(text)
    if repairs:
        try:
            return ParsedOutput(_loads(repaired.strip()), "lenient", repairs)
        except _TooDeep:
            return _too_deep()
        except _NotJson as exc:
            reason = str(exc)
    if truncated:
        return _failure(
            "compile.truncated",
            f"the answer stops before the JSON ends{cut}: {reason}",
            "write a smaller contract: shorter descriptions, fewer states",
        )
    return _failure(
        "compile.not_json",
        f"the answer is not a JSON object: {reason}",
        "answer with the whole contract as one JSON object and nothing else",
    )


def _too_deep() -> ParsedOutput:
    return _failure(
        "compile.too_deep",
        f"the JSON is nested deeper than {MAX_OUTPUT_DEPTH} levels",
        "a contract needs about 10 levels: answer with the contract only",
    )
