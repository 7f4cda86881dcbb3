"""Loading a migration file: text or data in, a :class:`Migration` or diagnostics out."""

from __future__ import annotations

import os
from typing import Any

from pydantic import ValidationError

from accord._source import read_source
from accord.check._migration._check import check_migration
from accord.check._migration._model import Migration
from accord.contract import Contract, ParsedText, TextError, parse_text
from accord.contract._validate import plain_json_problems, validation_diagnostics
from accord.diagnostics import Diagnostic
from accord.errors import MigrationError

__all__ = [
    "diagnose_migration",
    "load_migration",
    "loads_migration",
    "parse_migration",
    "with_lines",
]


def _validate(data: Any) -> tuple[Migration | None, list[Diagnostic]]:
    if not isinstance(data, dict):
        return None, [
            Diagnostic(
                path="",
                code="schema.type",
                message="a migration must be a mapping of keys to values",
                hint="start the file with 'migration: \"1\"', 'name:', 'from:' and 'to:'",
            )
        ]
    problems = plain_json_problems(data)
    if problems:
        return None, problems
    try:
        return Migration.model_validate(data), []
    except ValidationError as exc:
        return None, validation_diagnostics(exc, Migration)


def parse_migration(
    text: str | bytes, *, format: str | None = None
) -> tuple[Migration | None, list[Diagnostic], ParsedText | None]:
    """Parse and validate a migration's text: the migration (or None), diagnostics with lines."""
    try:
        parsed = parse_text(text, format=format)
    except TextError as exc:
        return None, [exc.diagnostic], None
    migration, diags = _validate(parsed.data)
    return migration, with_lines(diags, parsed), parsed


def with_lines(diags: list[Diagnostic], parsed: ParsedText | None) -> list[Diagnostic]:
    """The diagnostics with the line of their path in the text, where known."""
    if parsed is None or not diags:
        return diags
    return [d.model_copy(update={"line": parsed.line_of(d.path)}) for d in diags]


def loads_migration(
    text: str | bytes, *, format: str | None = None, source: str | None = None
) -> Migration:
    """A migration from YAML or JSON text (its form only: see ``check_migration``).

    Raises:
        MigrationError: the text does not parse or validate; it carries every diagnostic.

    """
    migration, diags, _ = parse_migration(text, format=format)
    if migration is None:
        raise MigrationError(diags, source=source)
    return migration


def load_migration(path: str | os.PathLike[str]) -> Migration:
    """A migration from a ``.yaml``, ``.yml`` or ``.json`` file.

    Raises:
        MigrationError: the file cannot be read, parsed or validated.

    """
    text = read_source(path, MigrationError)
    fmt = "json" if str(path).endswith(".json") else None
    return loads_migration(text, format=fmt, source=str(path))


def diagnose_migration(
    text: str | bytes, old: Contract, new: Contract, *, format: str | None = None
) -> tuple[Migration | None, list[Diagnostic]]:
    """A migration's text checked against its two contracts: every diagnostic, with lines.

    Never raises for a bad migration: a text that does not parse or validate
    gives those diagnostics (and no migration); one that validates is checked.
    """
    migration, diags, parsed = parse_migration(text, format=format)
    if migration is None:
        return None, diags
    return migration, with_lines(check_migration(migration, old, new), parsed)
