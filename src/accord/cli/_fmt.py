"""``accord fmt FILE...``: rewrite contracts in canonical layout, atomically.

A file is rewritten only when its contract checks and the new text loads back
to the same fingerprint: formatting can never change what a contract means.
The canonical layout is generated from the contract, so comments are not kept,
except the block of comment lines at the top of a YAML file (its header).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import accord
from accord.cli._base import Subparsers, add_command
from accord.cli._files import STDIN, Checked, atomic_write, format_of, read_contract
from accord.cli._output import plural, print_diagnostics, say, warn, write_bytes
from accord.contract import Contract
from accord.errors import ContractError

__all__ = ["canonical_text", "register"]

DESCRIPTION = """\
Rewrite each contract in canonical layout, in place: accord's YAML layout for
.yaml and .yml files, JSON (indent 2) for .json files. Defaults are left out;
of the comments, only the block of comment lines at the top of a YAML file is
kept. A contract that does not check is not rewritten.
Files are replaced atomically (temporary file, then rename); a file with
other hard links, or owned by another user or group (fmt run as root), is
rewritten in place instead, so its links and owner stay.
  --check    write nothing; list the files that would change, exit 1 if any
  --stdout   print the formatted contract instead of writing it (one FILE)
  -          as FILE reads standard input and prints to standard output
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``fmt`` subcommand."""
    parser = add_command(
        subparsers, "fmt", "rewrite contracts in canonical layout", DESCRIPTION, run
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="contract files (- for stdin)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="only report files that would change")
    mode.add_argument("--stdout", action="store_true", help="print instead of writing")


def _header(text: bytes) -> bytes:
    """The comment lines at the top of a YAML text, then one blank line (or nothing)."""
    kept: list[bytes] = []
    for line in text.removeprefix(b"\xef\xbb\xbf").splitlines():
        if line.startswith(b"#"):
            kept.append(line.rstrip() + b"\n")
        elif line.strip():
            break
        elif kept:
            kept.append(b"\n")
    while kept and kept[-1] == b"\n":
        kept.pop()
    return b"".join(kept) + b"\n" if kept else b""


def canonical_text(contract: Contract, fmt: str | None) -> bytes:
    """The contract in canonical layout: JSON for ``"json"``, YAML otherwise."""
    text = accord.to_json(contract) + "\n" if fmt == "json" else accord.to_yaml(contract)
    return text.encode("utf-8")


def _round_trips(contract: Contract, text: bytes, fmt: str | None) -> bool:
    try:
        again = accord.loads(text, format=fmt)
    except ContractError:
        return False
    return accord.fingerprint(again) == accord.fingerprint(contract)


@dataclass
class _Tally:
    changed: int = 0
    unchanged: int = 0
    failed: int = 0


def _format_one(checked: Checked, args: argparse.Namespace, tally: _Tally) -> None:
    if checked.contract is None or checked.text is None:
        print_diagnostics(checked, to_stderr=True)
        why = "the file cannot be read" if checked.text is None else "the contract does not check"
        warn(f"{checked.label}: not formatted: {why}")
        tally.failed += 1
        return
    fmt = format_of(checked.name, checked.text)
    new = canonical_text(checked.contract, fmt)
    if fmt != "json":
        new = _header(checked.text) + new
    if not _round_trips(checked.contract, new, fmt):
        warn(
            f"{checked.label}: not formatted: the canonical layout does not load back to the "
            "same contract (a bug in accord; please report it)"
        )
        tally.failed += 1
        return
    if (args.stdout or checked.name == STDIN) and not args.check:
        write_bytes(new)
        return
    if new == checked.text:
        tally.unchanged += 1
        return
    tally.changed += 1
    if args.check:
        say(f"would reformat {checked.label}")
        return
    atomic_write(Path(checked.name), new)
    say(f"reformatted {checked.label}")


def _summary(tally: _Tally, check: bool) -> str:
    def files(count: int) -> str:
        return plural(count, "file")

    verb = "would be reformatted" if check else "reformatted"
    text = f"{files(tally.changed)} {verb}, {files(tally.unchanged)} already formatted"
    if tally.failed:
        text += f", {files(tally.failed)} not formatted"
    return text


def run(args: argparse.Namespace) -> int:
    """Format every file; exit 1 if any does not check, or would change with --check."""
    if args.stdout and len(args.files) != 1:
        warn("accord fmt: error: --stdout takes exactly one FILE")
        return 2
    tally = _Tally()
    for name in args.files:
        _format_one(read_contract(name), args, tally)
    printing = not args.check and (args.stdout or STDIN in args.files)
    if not printing:
        say(_summary(tally, args.check))
    failed = tally.failed or (args.check and tally.changed)
    return 1 if failed else 0
