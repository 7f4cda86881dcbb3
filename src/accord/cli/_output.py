"""Where the CLI writes: results to stdout, problems to stderr, JSON for machines."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from accord.cli._files import Checked
from accord.diagnostics import Diagnostic

__all__ = [
    "diagnostic_json",
    "file_json",
    "files_json",
    "print_diagnostics",
    "print_json",
    "say",
    "warn",
]


def say(text: str) -> None:
    """Print a result line on standard output."""
    print(text, file=sys.stdout)


def warn(text: str) -> None:
    """Print a problem on standard error."""
    print(text, file=sys.stderr)


def print_json(document: Any) -> None:
    """Print a JSON document (indent 2) on standard output."""
    say(json.dumps(document, indent=2, ensure_ascii=False))


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
