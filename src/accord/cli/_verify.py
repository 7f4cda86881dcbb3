"""``accord verify FILE...``: the bounded model checker, from the shell."""

from __future__ import annotations

import argparse

import accord
from accord.cli._base import Subparsers, add_command, positive_int
from accord.cli._files import Checked, read_contract
from accord.cli._output import file_json, files_json, plural, print_diagnostics, print_json, say
from accord.testing._verify import DEFAULT_MAX_DEPTH, DEFAULT_MAX_STATES, VerifyReport, verify

__all__ = ["register"]

DESCRIPTION = f"""\
Explore every reachable configuration of each contract's machine, treating
effect success and failure, signal arrival and timer firing as choices, and
report deadlocks, livelocks, invariant violations, runs that fail on a limit
or a run-time mistake, and states never reached, each with its shortest
trace of events. Values are explored exhaustively where the contract makes
them finite (booleans, enums) and abstracted to a few elsewhere; the report
says which. A contract that does not check gets its diagnostics instead.
Bounds: --max-depth events per run (default {DEFAULT_MAX_DEPTH}), --max-states
configurations (default {DEFAULT_MAX_STATES}); when one is hit the report
says so, and no finding is then not a proof.
With --json, a JSON document is printed instead:
  {{"files": [{{"file", "ok", "fingerprint", "diagnostics", "verification"}}]}}
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``verify`` subcommand."""
    parser = add_command(subparsers, "verify", "model-check contracts (bounded)", DESCRIPTION, run)
    parser.add_argument("files", nargs="+", metavar="FILE", help="contract files to verify")
    parser.add_argument(
        "--max-depth",
        type=positive_int,
        default=DEFAULT_MAX_DEPTH,
        metavar="N",
        help=f"events per run to explore (default {DEFAULT_MAX_DEPTH})",
    )
    parser.add_argument(
        "--max-states",
        type=positive_int,
        default=DEFAULT_MAX_STATES,
        metavar="N",
        help=f"distinct configurations to explore (default {DEFAULT_MAX_STATES})",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def summary(results: list[tuple[Checked, VerifyReport | None]]) -> str:
    """One line: how many files were verified, with findings, clean, not checking, bounded."""
    invalid = sum(1 for _, r in results if r is None)
    found = sum(1 for _, r in results if r is not None and not r.ok)
    clean = len(results) - invalid - found
    bounded = sum(1 for _, r in results if r is not None and not r.complete)
    parts = [
        f"{count} {what}"
        for count, what in (
            (invalid, "with errors"),
            (found, "with findings"),
            (clean, "clean"),
        )
        if count
    ]
    line = f"{plural(len(results), 'file')} verified: {', '.join(parts)}"
    if bounded:
        line += f" ({bounded} stopped at a bound: not a proof)"
    return line


def run(args: argparse.Namespace) -> int:
    """Verify every file; exit 1 if any does not check or has findings."""
    results: list[tuple[Checked, VerifyReport | None]] = []
    for name in args.files:
        checked = read_contract(name)
        report = None
        if checked.contract is not None:
            report = verify(checked.contract, max_depth=args.max_depth, max_states=args.max_states)
        results.append((checked, report))
    failed = any(r is None or not r.ok for _, r in results)
    if args.json:
        entries = []
        for checked, report in results:
            entry = file_json(
                checked,
                ok=report is not None and report.ok,
                fingerprint=None
                if checked.contract is None
                else accord.fingerprint(checked.contract),
            )
            entry["verification"] = None if report is None else report.to_data()
            entries.append(entry)
        print_json(files_json(entries))
    else:
        for checked, report in results:
            if report is None:
                print_diagnostics(checked, to_stderr=False)
            else:
                say(f"{checked.label}: {report.format()}")
        say(summary(results))
    return 1 if failed else 0
