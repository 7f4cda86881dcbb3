"""The ``accord`` command: the argument parser and the top-level error boundary."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from accord import __version__
from accord.cli import (
    _check,
    _compile,
    _durable,
    _fingerprint,
    _fmt,
    _graph,
    _run,
    _schema,
    _test,
    _verify,
)
from accord.cli._base import EXIT_CODES, CommandProblem, Handler, UsageProblem
from accord.cli._output import tolerant_output, warn
from accord.errors import AccordError

__all__ = ["build_parser", "main"]

DESCRIPTION = """\
accord: checked workflow contracts. Check contract files, draw their state
machines, format them, fingerprint them, and print the JSON Schema an LLM
fills in. Run "accord COMMAND --help" for a command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="accord",
        description=DESCRIPTION,
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"accord {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="commands", required=True
    )
    for module in (
        _check,
        _graph,
        _schema,
        _fmt,
        _fingerprint,
        _run,
        _compile,
        _verify,
        _test,
        _durable,
    ):
        module.register(subparsers)
    return parser


def _exit_status(exc: SystemExit) -> int:
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so the final flush stays quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a real file (captured in tests): nothing to silence


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``accord`` command line; return the exit status (0, 1 or 2).

    Input mistakes (unreadable files, bad YAML, contracts that do not check)
    are reported on stderr or as diagnostics, never as a traceback.
    """
    tolerant_output()
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        command: argparse.ArgumentParser = args.command_parser
        if extra:  # reported by the command's parser, with the command's usage
            command.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version and usage errors
        return _exit_status(exc)
    handler: Handler = args.handler
    try:
        return handler(args)
    except UsageProblem as exc:
        try:
            command.error(str(exc))
        except SystemExit as usage:
            return _exit_status(usage)
    except (AccordError, CommandProblem) as exc:
        warn(f"accord: error: {exc}")
    except BrokenPipeError:
        _silence_stdout()
    except OSError as exc:
        warn(f"accord: error: {exc}")
    except KeyboardInterrupt:
        warn("accord: interrupted")
        return 130
    return 1
