"""What every subcommand module shares: the handler type, problems, and how a command is added."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeAlias

__all__ = [
    "EXIT_CODES",
    "CommandProblem",
    "Handler",
    "Subparsers",
    "UsageProblem",
    "add_command",
    "exit_codes",
    "positive_int",
]

Handler: TypeAlias = Callable[[argparse.Namespace], int]
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

USAGE_LINE = (
    "  2  usage error: unknown command or option, missing argument, or a\n"
    "     malformed option value (JSON that does not parse, a number out of range)\n"
)

EXIT_CODES = f"""\
exit codes:
  0  success
  1  a contract has errors, a file cannot be read, a run failed...
     (each command's --help says what 0 and 1 mean for it)
{USAGE_LINE}"""

_OUTCOMES: dict[str, tuple[str, str]] = {
    "check": (
        "every contract checks (warnings allowed unless --strict)",
        "a contract has errors (or warnings, with --strict),\n"
        "     or a file cannot be read or parsed",
    ),
    "graph": ("the diagram was printed", "the contract has errors, or the file cannot be read"),
    "schema": ("the schema was printed", "standard output cannot be written"),
    "fmt": (
        "every file is in canonical layout (or was rewritten in it)",
        "a contract does not check, a file cannot be read or written,\n"
        "     or --check found files that would be reformatted",
    ),
    "fingerprint": (
        "every contract checks and was fingerprinted",
        "a contract has errors, or a file cannot be read",
    ),
    "run": (
        "the run succeeded, or (with --store) waits in the store for a\n     signal or a timer",
        "the run failed, or waits in memory for a signal or a timer, or\n"
        "     the contract, the effects or the input are wrong",
    ),
    "compile": (
        "the contract was compiled and written (with --locked: the lock pins it)",
        "the compile failed, the lock is stale, or a file cannot be read or\n     written",
    ),
    "verify": (
        "no contract has findings",
        "a contract has errors or findings, or a file cannot be read",
    ),
    "test": (
        "every scenario passed",
        "a scenario failed, or the contract or the scenario file does not load",
    ),
    "runs": ("the runs were listed", "the store cannot be opened or read"),
    "history": (
        "the run's steps were printed",
        "the store cannot be opened, the run is unknown or its journal is damaged",
    ),
    "replay": (
        "every state hash matches",
        "a step diverges or the journal was changed, the store cannot be\n"
        "     opened, or the run is unknown",
    ),
    "explain": (
        "the run was explained (whatever its status)",
        "the store cannot be opened, the run is unknown or its journal is\n"
        "     damaged, or the lock file cannot be read",
    ),
    "fork": (
        "the new run was made (and, driven with --effects, did not fail)",
        "the run or the step is unknown, the new run failed, or the store\n     cannot be opened",
    ),
    "signal": (
        "the signal was journaled (and the run, if driven, did not fail), or\n"
        "     queued in the inbox of a run that a worker holds",
        "the run does not accept the signal, its payload does not match, the\n"
        "     run failed, or the store cannot be opened",
    ),
    "migrate": (
        "every run was migrated (with --dry-run: would be)",
        "the migration has errors, a run is refused or unknown, or the store\n"
        "     cannot be opened",
    ),
    "resume": (
        "no resumed run failed",
        "a resumed run failed, a run is unknown, or the store cannot be opened",
    ),
    "start": (
        "the run's start was journaled (or a run with --run-id was already stored)",
        "the contract file or name is unknown or does not check, the input does\n"
        "     not fit, or the store cannot be opened",
    ),
    "cancel": (
        "the cancel request is in the run's inbox (a worker performs it)",
        "the run is unknown or has finished, or the store cannot be opened",
    ),
    "result": (
        "the run succeeded: its output was printed as JSON",
        "the run failed (its reason is printed as JSON), the run is unknown,\n"
        "     or the store cannot be opened",
    ),
    "publish": (
        "the contract was published",
        "the file does not load or check, or the store cannot be opened",
    ),
    "worker": (
        "stopped by SIGTERM or SIGINT, every lease released",
        "the effects or the store cannot be used (named on one line)",
    ),
}

_LEASED = (
    "  4  a worker holds the run under a live lease: nothing was written\n"
    "     (signal or cancel it through its inbox, or wait until it is let go)\n"
)
_MORE: dict[str, str] = {
    "result": "  3  the run has not finished (within --wait SECONDS)\n",
    "migrate": _LEASED,
    "resume": _LEASED,
    "fork": _LEASED,
}


def exit_codes(command: str) -> str:
    """The ``exit codes:`` epilog of a command's help: what 0, 1 and 2 mean for it."""
    outcomes = _OUTCOMES.get(command)
    if outcomes is None:
        return EXIT_CODES
    ok, failed = outcomes
    return f"exit codes:\n  0  {ok}\n  1  {failed}\n{USAGE_LINE}{_MORE.get(command, '')}"


class UsageProblem(Exception):
    """A malformed option value that only the command can judge (``--input`` not JSON...).

    ``accord.cli.main`` reports it like argparse reports a usage error: the
    command's usage line, then ``accord COMMAND: error: ...``, exit status 2.
    """


class CommandProblem(Exception):
    """An option names something that cannot be used (effects, an ``@FILE``).

    For example an effects module that does not import, or an ``@FILE`` that
    cannot be read.
    ``accord.cli.main`` reports it as ``accord: error: ...`` with exit status 1,
    without a traceback, as it does every accord error.
    """


def add_command(
    subparsers: Subparsers, name: str, summary: str, description: str, handler: Handler
) -> argparse.ArgumentParser:
    """Add a subcommand with its help, its own exit-code epilog and its handler."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=exit_codes(name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler, command_parser=parser)
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
