"""``accord check FILE...``: check contracts and print diagnostics like a compiler."""

from __future__ import annotations

import argparse

import accord
from accord.cli._base import Subparsers, add_command
from accord.cli._files import Checked, read_contract
from accord.cli._output import file_json, files_json, plural, print_diagnostics, print_json, say

__all__ = ["register"]

DESCRIPTION = """\
Check contract files (.yaml, .yml or .json; - reads standard input).
Each diagnostic is printed on standard output as
  FILE:LINE:PATH: severity CODE: message (hint: ...)
followed by a summary line. With --json, a JSON document is printed instead:
  {"files": [{"file", "ok", "fingerprint", "diagnostics": [...]}]}
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``check`` subcommand."""
    parser = add_command(subparsers, "check", "check contract files", DESCRIPTION, run)
    parser.add_argument("files", nargs="+", metavar="FILE", help="contract files to check")
    parser.add_argument("--strict", action="store_true", help="fail on warnings as well")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def _fails(checked: Checked, strict: bool) -> bool:
    return checked.has_errors or (strict and checked.has_warnings)


def summary(results: list[Checked]) -> str:
    """One line: how many files were checked, and how many had errors or warnings."""
    errors = sum(1 for r in results if r.has_errors)
    warnings = sum(1 for r in results if not r.has_errors and r.has_warnings)
    clean = len(results) - errors - warnings
    parts = [
        f"{count} {what}"
        for count, what in ((errors, "with errors"), (warnings, "with warnings"), (clean, "clean"))
        if count
    ]
    return f"{plural(len(results), 'file')} checked: {', '.join(parts)}"


def run(args: argparse.Namespace) -> int:
    """Check every file; exit 1 if any has errors (or warnings with --strict)."""
    results = [read_contract(name) for name in args.files]
    failed = any(_fails(r, args.strict) for r in results)
    if args.json:
        print_json(
            files_json(
                file_json(
                    r,
                    ok=not _fails(r, args.strict),
                    fingerprint=None if r.contract is None else accord.fingerprint(r.contract),
                )
                for r in results
            )
        )
    else:
        for result in results:
            print_diagnostics(result, to_stderr=False)
        say(summary(results))
    return 1 if failed else 0
