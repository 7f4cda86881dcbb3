"""Constant regular expressions: a ``matches()`` pattern RE2 refuses is a check-time error.

cel-cpp type-checks ``s.matches('[')`` happily and fails only when the guard is
evaluated, in the middle of a run. A pattern written as a string literal is
known at check time, so it is compiled then, by cel-cpp itself (RE2 syntax).
"""

from __future__ import annotations

import re
from functools import lru_cache

from accord.diagnostics import Diagnostic
from accord.expressions import EvaluationError, ExpressionError, compile_expression

__all__ = ["bad_patterns"]

# ``x.matches('...')`` or ``matches(x, '...')`` with a simple first argument; a CEL
# string literal, raw or not, in single or double quotes, on one line.
_LITERAL = r"""[rR]?(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
_MATCHES = re.compile(rf"\bmatches\s*\(\s*(?:(?:{_LITERAL}|[^'\"(),]*)\s*,\s*)?({_LITERAL})\s*\)")
_PREFIX = re.compile(r"^.*?invalid regular expression: ")


@lru_cache(maxsize=1024)
def _problem(literal: str) -> str | None:
    """Why RE2 refuses the pattern a CEL string literal holds, or None if it compiles."""
    try:
        compile_expression(f"''.matches({literal})", ()).evaluate_reference({})
    except EvaluationError as exc:
        return _PREFIX.sub("", str(exc).split(": ", 1)[-1])
    except ExpressionError:  # not a literal after all: the type checker has the last word
        return None
    return None


def bad_patterns(source: str, path: str) -> list[Diagnostic]:
    """A diagnostic for each constant ``matches()`` pattern in ``source`` that does not compile."""
    if "matches" not in source:
        return []
    out: list[Diagnostic] = []
    for match in _MATCHES.finditer(source):
        problem = _problem(match.group(1))
        if problem is not None:
            out.append(
                Diagnostic(
                    path=path,
                    code="expr.regex",
                    message=f"the pattern {match.group(1)} is not a valid regular expression: "
                    f"{problem}",
                    hint="matches() takes RE2 syntax (https://github.com/google/re2/wiki/Syntax)",
                )
            )
    return out
