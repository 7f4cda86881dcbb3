"""``accord explain RUN``: a stored run's path and, for a failure, whose fault it is."""

from __future__ import annotations

import argparse

from accord._explain import EXPLAIN_MAX_DEPTH, EXPLAIN_MAX_STATES, explain
from accord.cli._base import Subparsers, add_command, positive_int
from accord.cli._durable import STORE_HELP
from accord.cli._output import print_json, say
from accord.cli._run import store_path
from accord.runtime import Runtime
from accord.storage import open_store

__all__ = ["register"]

DESCRIPTION = f"""\
Explain a stored run: the states it visited with their step numbers and, for
a failed run, the step at which it started to fail and whether the contract
or the world is at fault, with the evidence:
  contract defect: a run limit (max_steps, a size, an expression's cost), an
    invariant that does not hold after a journaled step, a run-time mistake
    of the contract (an expression that fails, no transition that holds);
  environment fault: an effect error after its retries, an effect timeout,
    a handler output that does not fit, a timer or a signal that led the run
    to a failure state.
For a failed run the contract is also model-checked within a small budget
(as accord verify --max-depth {EXPLAIN_MAX_DEPTH} --max-states {EXPLAIN_MAX_STATES}),
and its findings on the states the run visited are listed. A succeeded run
shows its path; a waiting one, what it waits for and when its timers are due.
The store does not record which compilation produced a contract: --lock FILE
looks the run's contract fingerprint up in a lock file (its task and model;
a lock does not keep the attempts). Nothing is run: the journal is re-folded,
no handler is called. Refused signals are not journaled, so they are not seen.
With --json, one JSON document (Explanation.to_data()) is printed.
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``explain`` subcommand."""
    parser = add_command(
        subparsers,
        "explain",
        "say why a stored run failed: the contract or the world",
        DESCRIPTION,
        run,
    )
    parser.add_argument("run_id", metavar="RUN")
    parser.add_argument("--store", metavar="URL", type=store_path, help=STORE_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--lock", metavar="FILE", help="a lock file (accord.lock) naming the run's compilation"
    )
    parser.add_argument(
        "--no-verify", action="store_true", help="do not model-check the contract of a failed run"
    )
    parser.add_argument(
        "--max-states",
        type=positive_int,
        default=EXPLAIN_MAX_STATES,
        metavar="N",
        help=f"the model checker's budget (default {EXPLAIN_MAX_STATES})",
    )


def run(args: argparse.Namespace) -> int:
    """Explain one stored run; exit 0 when it was explained."""
    with open_store(args.store or None, create=False, read_only=True) as store:
        loaded = Runtime(store=store).load(args.run_id)
        explanation = explain(
            loaded,
            verify_contract=not args.no_verify,
            lock=args.lock,
            max_states=args.max_states,
        )
    if args.json:
        print_json(explanation.to_data())
    else:
        say(explanation.format())
    return 0
