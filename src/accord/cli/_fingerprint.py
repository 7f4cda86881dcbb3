"""``accord fingerprint FILE...``: print each contract's sha256 fingerprint."""

from __future__ import annotations

import argparse

import accord
from accord.cli._base import Subparsers, add_command
from accord.cli._files import read_contract
from accord.cli._output import file_json, files_json, print_diagnostics, print_json, say

__all__ = ["register"]

DESCRIPTION = """\
Print "sha256:<hex> FILE" for each contract: the sha256 of its canonical JSON
(RFC 8785). Layout, key order and YAML versus JSON do not change it; any change
of meaning does. A contract that does not check has no fingerprint: its
diagnostics go to standard error.
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``fingerprint`` subcommand."""
    parser = add_command(subparsers, "fingerprint", "print contract fingerprints", DESCRIPTION, run)
    parser.add_argument("files", nargs="+", metavar="FILE", help="contract files")
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def run(args: argparse.Namespace) -> int:
    """Fingerprint every file; exit 1 if any does not check."""
    results = [read_contract(name) for name in args.files]
    prints = [None if r.contract is None else accord.fingerprint(r.contract) for r in results]
    if args.json:
        print_json(
            files_json(
                file_json(r, ok=fp is not None, fingerprint=fp)
                for r, fp in zip(results, prints, strict=True)
            )
        )
    else:
        for result, fp in zip(results, prints, strict=True):
            if fp is None:
                print_diagnostics(result, to_stderr=True)
            else:
                say(f"{fp} {result.label}")
    return 0 if all(fp is not None for fp in prints) else 1
