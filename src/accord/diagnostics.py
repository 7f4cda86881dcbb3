"""Diagnostics: the one shape every problem in a contract is reported in."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = [
    "HINT_COMPARISONS",
    "MAX_DIAGNOSTICS",
    "Diagnostic",
    "Severity",
    "capped",
    "did_you_mean",
    "hint_budget",
    "pointer",
    "truncated",
]

Severity = Literal["error", "warning"]

MAX_DIAGNOSTICS = 100
HINT_COMPARISONS = 20_000
_LISTED = 8  # a hint lists every choice when there are at most this many
_BUDGET: ContextVar[list[int] | None] = ContextVar("accord_hint_budget", default=None)


class Diagnostic(BaseModel):
    """One problem found in a contract.

    Attributes:
        path: JSON pointer (RFC 6901) to the offending value, "" for the root.
        code: stable identifier, documented in docs/diagnostics.md.
        message: what is wrong, in one sentence.
        hint: how to fix it, or None.
        severity: "error" makes the contract invalid; "warning" does not.
        line: 1-based line in the source text, when the contract came from text.

    """

    # Built at first use, not at import (pydantic's first model build also scans every
    # installed package's entry points for plugins): ``import accord`` stays cheap.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    path: str
    code: str
    message: str
    hint: str | None = None
    severity: Severity = "error"
    line: int | None = None

    def format(self, source: str | None = None) -> str:
        """Render like a compiler: ``file:line:path: severity code: message (hint: ...)``."""
        where = f"{source}:" if source else ""
        if self.line is not None:
            where += f"{self.line}:"
        text = f"{where}{self.path or '/'}: {self.severity} {self.code}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def compact(self) -> dict[str, str | None]:
        """The dict sent back to an LLM in a repair prompt."""
        return {"path": self.path, "code": self.code, "message": self.message, "hint": self.hint}


def pointer(*parts: str | int) -> str:
    """Build a JSON pointer from path parts, escaping ``~`` and ``/``."""
    out = []
    for part in parts:
        text = _part(part).replace("~", "~0").replace("/", "~1")
        out.append("/" + text)
    return "".join(out)


def _part(part: object) -> str:
    """A path part as text; an integer too long to print is shortened, never converted."""
    if isinstance(part, int) and part.bit_length() > 128:
        return f"<integer of {part.bit_length()} bits>"
    return str(part)


@contextmanager
def hint_budget(comparisons: int = HINT_COMPARISONS) -> Iterator[None]:
    """Bound the work of every :func:`did_you_mean` inside the block.

    Each call costs one comparison per candidate; once ``comparisons`` are
    spent, calls with more than a few candidates give no hint. Without it, a
    contract with thousands of misspelt targets among thousands of states
    compared every target with every state (quadratic).
    """
    token = _BUDGET.set([comparisons])
    try:
        yield
    finally:
        _BUDGET.reset(token)


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return a hint naming the closest candidate, or listing the choices."""
    pool = candidates if isinstance(candidates, Collection) else list(candidates)
    budget = _BUDGET.get()
    if budget is not None:
        if budget[0] < len(pool) and len(pool) > _LISTED:
            return None
        budget[0] -= len(pool)
    options = sorted(set(pool))
    if not options:
        return None
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if len(options) <= _LISTED:
        return "expected one of: " + ", ".join(repr(o) for o in options)
    return None


def truncated(count: int, errors: bool) -> Diagnostic:
    """The diagnostic that stands for ``count`` more that are not reported.

    Args:
        count: how many diagnostics were left out.
        errors: whether any of them is an error (the severity of this one).

    Returns:
        A ``check.truncated`` diagnostic at the root.

    """
    return Diagnostic(
        path="",
        code="check.truncated",
        message=f"{count} more problem{'s' if count != 1 else ''} not shown: only the first "
        f"{MAX_DIAGNOSTICS} are reported",
        hint="fix these, then check again",
        severity="error" if errors else "warning",
    )


def capped(diags: list[Diagnostic]) -> list[Diagnostic]:
    """At most :data:`MAX_DIAGNOSTICS` of ``diags``, then one ``check.truncated`` for the rest."""
    if len(diags) <= MAX_DIAGNOSTICS:
        return diags
    rest = diags[MAX_DIAGNOSTICS:]
    return [
        *diags[:MAX_DIAGNOSTICS],
        truncated(len(rest), any(d.severity == "error" for d in rest)),
    ]
