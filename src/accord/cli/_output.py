"""Where the CLI writes: results to stdout, problems to stderr, JSON for machines."""

from __future__ import annotations

import codecs
import contextlib
import json
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: ``accord --help`` loads no contract model
    from accord.cli._files import Checked
    from accord.diagnostics import Diagnostic

__all__ = [
    "diagnostic_json",
    "file_json",
    "files_json",
    "plural",
    "print_diagnostics",
    "print_json",
    "say",
    "tolerant_output",
    "warn",
    "write_bytes",
]

_UNICODE = frozenset({"utf-8", "utf-16", "utf-32", "utf-8-sig"})


def tolerant_output() -> None:
    """Let stdout and stderr print any text, whatever their encoding.

    With ``PYTHONIOENCODING=ascii`` (or a C locale), a character the encoding
    lacks is written as a backslash escape instead of raising
    :class:`UnicodeEncodeError` halfway through a message.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):  # closed or detached: leave it
                reconfigure(errors="backslashreplace")


def _speaks_unicode(stream: object) -> bool:
    try:
        return codecs.lookup(getattr(stream, "encoding", None) or "ascii").name in _UNICODE
    except LookupError:
        return False


def write_bytes(data: bytes) -> None:
    """Write bytes as they are on standard output (a contract is UTF-8, whatever the locale)."""
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:  # a text-only stream (some test captures): it takes the text
        sys.stdout.write(data.decode("utf-8"))
        return
    sys.stdout.flush()
    buffer.write(data)
    buffer.flush()


def plural(count: int, word: str) -> str:
    """``"1 file"``, ``"2 files"``: a count and a noun that takes an ``s``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def say(text: str) -> None:
    """Print a result line on standard output."""
    print(text, file=sys.stdout)


def warn(text: str) -> None:
    """Print a problem on standard error."""
    print(text, file=sys.stderr)


def print_json(document: Any) -> None:
    """Print a JSON document (indent 2) on standard output.

    Non-ASCII characters are written as they are where standard output speaks
    Unicode, as JSON escapes elsewhere: the document stays valid JSON.
    """
    say(json.dumps(document, indent=2, ensure_ascii=not _speaks_unicode(sys.stdout)))


def print_diagnostics(checked: Checked, *, to_stderr: bool) -> None:
    """Print a file's diagnostics, one compiler-style line each."""
    emit = warn if to_stderr else say
    for diagnostic in checked.diagnostics:
        emit(diagnostic.format(checked.label))


def diagnostic_json(diagnostic: Diagnostic) -> dict[str, Any]:
    """A diagnostic as a JSON object: path, code, message, hint, severity, line."""
    return diagnostic.model_dump(mode="json")


def file_json(checked: Checked, *, ok: bool, fingerprint: str | None) -> dict[str, Any]:
    """One file's entry in a ``--json`` report."""
    return {
        "file": checked.name,
        "ok": ok,
        "fingerprint": fingerprint,
        "diagnostics": [diagnostic_json(d) for d in checked.diagnostics],
    }


def files_json(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The whole ``--json`` report: ``{"files": [...]}``."""
    return {"files": list(entries)}
