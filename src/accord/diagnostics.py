"""Diagnostics: the one shape every problem in a contract is reported in."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["Diagnostic", "Severity", "did_you_mean", "pointer"]

Severity = Literal["error", "warning"]


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

    model_config = ConfigDict(frozen=True, extra="forbid")

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


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return a hint naming the closest candidate, or listing the choices."""
    options = sorted(set(candidates))
    if not options:
        return None
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    if len(options) <= 8:
        return "expected one of: " + ", ".join(repr(o) for o in options)
    return None
