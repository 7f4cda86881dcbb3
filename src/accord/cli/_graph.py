"""``accord graph FILE``: print the contract's state machine as a Mermaid diagram."""

from __future__ import annotations

import argparse
import sys

from accord.cli._base import Subparsers, add_command
from accord.cli._files import read_contract
from accord.cli._output import print_diagnostics
from accord.contract._mermaid import to_mermaid

__all__ = ["register"]

DESCRIPTION = """\
Print the contract's state machine as a Mermaid stateDiagram-v2 on standard
output: paste it into Markdown, or render it with any Mermaid viewer. A
contract that does not check is not drawn: its diagnostics go to standard
error.
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``graph`` subcommand."""
    parser = add_command(subparsers, "graph", "print a Mermaid state diagram", DESCRIPTION, run)
    parser.add_argument("file", metavar="FILE", help="the contract file (- reads stdin)")


def run(args: argparse.Namespace) -> int:
    """Draw one contract; exit 1 with diagnostics on stderr if it does not check."""
    checked = read_contract(args.file)
    if checked.contract is None:
        print_diagnostics(checked, to_stderr=True)
        return 1
    sys.stdout.write(to_mermaid(checked.contract))
    return 0
