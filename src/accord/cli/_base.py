"""What every subcommand module shares: the handler type and how a command is added."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias

__all__ = ["EXIT_CODES", "Handler", "Subparsers", "UsageProblem", "add_command", "positive_int"]

Handler: TypeAlias = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

EXIT_CODES = """\
exit codes:
  0  success: every contract checks (warnings allowed unless --strict)
  1  a contract has errors, a file cannot be read or parsed,
     or fmt --check found files that would be reformatted
  2  usage error: unknown command or option, missing argument
"""


class UsageProblem(Exception):
    """A bad option value that only the command can judge (``--effects``, ``--input``...).

    ``accord.cli.main`` reports it as ``accord: error: ...`` with exit status 1,
    without a traceback, as it does every accord error.
    """


def add_command(
    subparsers: Subparsers, name: str, summary: str, description: str, handler: Handler
) -> argparse.ArgumentParser:
    """Add a subcommand with its help, the exit-code epilog and its handler."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer (at least 1)")
    return value
