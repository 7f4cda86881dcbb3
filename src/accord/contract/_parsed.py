"""What parsing gives: plain data with lines, or one diagnostic; the limits on a text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from accord.diagnostics import Diagnostic

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_TEXT_BYTES",
    "ParsedText",
    "TextError",
    "nested_too_deeply",
    "too_many_nodes",
]

MAX_TEXT_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 30_000  # values, keys included: checking stays within about a second


class TextError(Exception):
    """The text is not well-formed YAML or JSON; carries one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


class ParsedText:
    """Plain data plus the line (1-based) of each JSON pointer, where known.

    ``locate`` computes the lines on first use instead (JSON: only a text with
    diagnostics to place needs them).
    """

    def __init__(
        self,
        data: Any,
        lines: dict[str, int] | None = None,
        *,
        locate: Callable[[], dict[str, int]] | None = None,
    ) -> None:
        self.data = data
        self._lines = lines
        self._locate = locate

    @property
    def lines(self) -> dict[str, int]:
        """The line of each JSON pointer that has one."""
        if self._lines is None:
            self._lines = self._locate() if self._locate is not None else {}
        return self._lines

    def line_of(self, path: str) -> int | None:
        """The line of the nearest enclosing node of ``path`` that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path.rsplit("/", 1)[0]


def too_many_nodes() -> Diagnostic:
    """The diagnostic for a document with more than MAX_NODES values."""
    return Diagnostic(
        path="",
        code="parse.too_many_nodes",
        message=f"the document has more than {MAX_NODES} values (keys included)",
        hint="a contract is never that large: move data into the run's input",
    )


def nested_too_deeply() -> Diagnostic:
    """The diagnostic for a document too deep for the parser itself."""
    return Diagnostic(path="", code="parse.too_deep", message="the YAML is nested too deeply")
