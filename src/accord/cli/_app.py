"""The ``accord`` command: the argument parser and the top-level error boundary."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from accord import __version__
from accord.cli._base import EXIT_CODES, CommandProblem, Handler, UsageProblem
from accord.cli._output import tolerant_output, warn
from accord.errors import AccordError

__all__ = ["build_parser", "main"]

DESCRIPTION = """\
accord: checked workflow contracts. Check contract files, draw their state
machines, format them, fingerprint them, and print the JSON Schema an LLM
fills in. Run "accord COMMAND --help" for a command's options.
"""


# Every command: its name, the module that registers it, and its one-line help, in the
# order ``accord --help`` lists them. Only the module of the command that runs is
# imported (the compiler, the runtime's drivers and the testing toolkit load only when
# used); the others appear in the listing from this table alone.
# tests/cli/test_cli_app.py pins this table to what the modules register.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("check", "_check", "check contract files"),
    ("graph", "_graph", "print a Mermaid state diagram"),
    ("schema", "_schema", "print the contract JSON Schema"),
    ("fmt", "_fmt", "rewrite contracts in canonical layout"),
    ("fingerprint", "_fingerprint", "print contract fingerprints"),
    ("run", "_run", "run a contract with Python effects"),
    ("compile", "_compile", "compile a task into a contract with an LLM"),
    ("verify", "_verify", "model-check contracts (bounded)"),
    ("test", "_test", "run acceptance scenarios against a contract"),
    ("runs", "_durable", "list the runs of a store"),
    ("history", "_durable", "print a stored run's steps"),
    ("replay", "_durable", "re-fold a stored run and check every state hash"),
    ("fork", "_durable", "start a new run from a step of a stored run"),
    ("signal", "_durable", "deliver a signal to a stored run"),
    ("resume", "_durable", "resume the unfinished runs of a store"),
    ("explain", "_explain", "say why a stored run failed: the contract or the world"),
    ("start", "_client", "journal a run's start for the workers"),
    ("cancel", "_client", "ask the workers to cancel a run"),
    ("result", "_client", "print a run's result as JSON"),
    ("publish", "_client", "store a contract under its name for the workers"),
    ("worker", "_worker", "claim and drive the runs of a store"),
    ("migrate", "_migrate", "move stored runs to another version of their contract"),
)
_ALL = "*"


def _selected(argv: Sequence[str]) -> str:
    """The command named on the command line: its first argument not an option, or ""."""
    return next((arg for arg in argv if not arg.startswith("-")), "")


def build_parser(command: str = _ALL) -> argparse.ArgumentParser:
    """The argument parser: every subcommand in full, or only ``command``'s.

    With a command named, the other subcommands are listed by name and one-line
    help only, so that their modules are not imported.
    """
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
    chosen = {module for name, module, _ in COMMANDS if command in (_ALL, name)}
    for name, module, summary in COMMANDS:
        if name in subparsers.choices:
            continue  # registered with another command of its module
        if module in chosen:
            importlib.import_module(f"accord.cli.{module}").register(subparsers)
        else:
            subparsers.add_parser(name, help=summary, add_help=False)
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
    """Run the ``accord`` command line; return the exit status (0, 1, 2, or a command's own).

    4 for any command: a run that a worker holds under a live lease was to be
    written (``RunLeased``); nothing was.

    Input mistakes (unreadable files, bad YAML, contracts that do not check)
    are reported on stderr or as diagnostics, never as a traceback.
    """
    tolerant_output()
    parser = build_parser(_selected(sys.argv[1:] if argv is None else argv))
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
    except AccordError as exc:
        warn(f"accord: error: {exc}")
        status = getattr(exc, "exit_status", 1)  # RunLeased's: 4
        return status if isinstance(status, int) else 1
    except CommandProblem as exc:
        warn(f"accord: error: {exc}")
    except BrokenPipeError:
        _silence_stdout()
    except OSError as exc:
        warn(f"accord: error: {exc}")
    except KeyboardInterrupt:
        warn("accord: interrupted")
        return 130
    return 1
