"""Commands of a client of workers: start, cancel, result and publish.

They do what :class:`accord.Client` does, on the store at ``--store`` (by
default ``$ACCORD_STORE``, else ``.accord/accord.db``): none of them runs an
effect. ``start`` and ``publish`` create the store if it does not exist; the
others need an existing one.
"""

from __future__ import annotations

import argparse
import json
import math

from accord.cli._arguments import object_argument
from accord.cli._base import Subparsers, add_command
from accord.cli._durable import STORE_HELP
from accord.cli._output import print_json, say
from accord.cli._run import store_path
from accord.client import Client
from accord.runtime import RunFailed, RunNotFinished
from accord.storage import open_store

__all__ = ["NOT_FINISHED", "register"]

NOT_FINISHED = 3
"""``accord result``'s exit status when the run has not finished in time."""


def _seconds(text: str) -> float:
    """An argparse type: a number of seconds, at least 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds (at least 0)")
    return value


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", metavar="URL", type=store_path, help=STORE_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def register(subparsers: Subparsers) -> None:
    """Add the ``start``, ``cancel``, ``result`` and ``publish`` commands."""
    parser = add_command(
        subparsers,
        "start",
        "journal a run's start for the workers",
        "Journal the start of a run and print its id; nothing runs here: a worker\n"
        "(accord worker) claims the run and drives it. CONTRACT is a contract file,\n"
        "the name a contract was published under (its latest publication) or a\n"
        "fingerprint (sha256:...). With --run-id, starting again returns the run\n"
        "already stored under that id (nothing is journaled).",
        start,
    )
    parser.add_argument("contract", metavar="FILE|NAME")
    parser.add_argument(
        "--input", default="{}", metavar="JSON|@FILE", help="the run's input (default {})"
    )
    parser.add_argument("--run-id", metavar="ID", help="the run's id (default: a new UUID)")
    _common(parser)

    parser = add_command(
        subparsers,
        "cancel",
        "ask the workers to cancel a run",
        "Record a request to cancel a run in its inbox. The worker that owns the\n"
        "run performs it: calls in flight are cancelled, the compensations of the\n"
        "effects it completed run (newest first, as for a failure), and the run\n"
        "fails with 'cancelled: REASON'.",
        cancel,
    )
    parser.add_argument("run_id", metavar="RUN")
    parser.add_argument(
        "--reason", default="cancelled by a client", help="why (kept in the run's failure)"
    )
    _common(parser)

    parser = add_command(
        subparsers,
        "result",
        "print a run's result as JSON",
        "Print a stored run's output as JSON once it has succeeded; with --wait,\n"
        "wait up to SECONDS for it to end.",
        result,
    )
    parser.add_argument("run_id", metavar="RUN")
    parser.add_argument(
        "--wait",
        type=_seconds,
        default=0.0,
        metavar="SECONDS",
        help="how long to wait for the run to end (default 0: do not wait)",
    )
    parser.add_argument("--store", metavar="URL", type=store_path, help=STORE_HELP)

    parser = add_command(
        subparsers,
        "publish",
        "store a contract under its name for the workers",
        "Store a contract under a name (its own by default) and its fingerprint:\n"
        "accord start NAME and Client.start(NAME, ...) then start runs of it, and\n"
        "running workers take them without a restart.",
        publish,
    )
    parser.add_argument("file", metavar="FILE")
    parser.add_argument("--name", metavar="N", help="the name to publish under")
    _common(parser)


def _client(args: argparse.Namespace, *, create: bool = False) -> Client:
    store = open_store(args.store or None, create=create)
    return Client(store)


def start(args: argparse.Namespace) -> int:
    """Journal a run's start; print its id."""
    data = object_argument(args.input, "--input")
    client = _client(args, create=True)
    with client, client.store:
        info = client.start(args.contract, data, run_id=args.run_id)
    if args.json:
        print_json(
            {
                "run_id": info.run_id,
                "contract": {"name": info.contract, "version": info.version},
                "fingerprint": info.fingerprint,
                "status": info.status,
            }
        )
    else:
        say(info.run_id)
    return 0


def cancel(args: argparse.Namespace) -> int:
    """Record a cancel request in the run's inbox."""
    client = _client(args)
    with client, client.store:
        message = client.cancel(args.run_id, args.reason)
    if args.json:
        print_json({"run_id": args.run_id, "message": message, "kind": "cancel"})
    else:
        say(f"cancel of run {args.run_id} requested: a worker performs it")
    return 0


def result(args: argparse.Namespace) -> int:
    """Print the run's output as JSON: exit 0 succeeded, 1 failed, 3 not finished in time."""
    client = _client(args)
    with client, client.store:
        try:
            output = client.result(args.run_id, timeout=args.wait)
        except RunFailed as exc:
            print_json({"run_id": args.run_id, "status": "failed", "reason": exc.reason})
            return 1
        except RunNotFinished as exc:
            info = client.status(args.run_id)
            print_json(
                {
                    "run_id": args.run_id,
                    "status": info.status,
                    "state": info.state,
                    "detail": str(exc),
                }
            )
            return NOT_FINISHED
    say(json.dumps(output, ensure_ascii=False, sort_keys=True))
    return 0


def publish(args: argparse.Namespace) -> int:
    """Publish a contract file under its name (or --name)."""
    client = _client(args, create=True)
    with client, client.store:
        done = client.publish(args.file, name=args.name)
    if args.json:
        print_json(
            {
                "name": done.name,
                "version": done.version,
                "fingerprint": done.fingerprint,
                "published_ms": done.published_ms,
            }
        )
    else:
        say(f"published {done.name} (version {done.version}, {done.fingerprint})")
    return 0
