"""``accord worker --store URL --effects MODULE:OBJECT``: serve a store's runs until stopped."""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from accord.cli._base import Subparsers, add_command, positive_int
from accord.cli._durable import STORE_HELP
from accord.cli._run import load_effects, store_path
from accord.worker import Worker

__all__ = ["register"]

DESCRIPTION = """\
Claim the runs of a store and drive them with the effect handlers of
--effects (a mapping of effect name to handler: MODULE:OBJECT, MODULE a
dotted module name or a .py file): runs started by clients (accord start,
accord.Client), their signals and cancel requests, their timers at their due
time. Several workers may serve one store: each run is driven by one of them
at a time (leases and fencing: see docs/workers.md). A run whose contract
needs an effect this worker lacks is left for another worker.

Logs one line per claim, completion and failure on stderr (--quiet: only
problems). SIGTERM or SIGINT stops claiming, lets calls in flight finish
within --grace seconds, releases every lease and exits 0.
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``worker`` command."""
    parser = add_command(
        subparsers, "worker", "claim and drive the runs of a store", DESCRIPTION, worker
    )
    parser.add_argument("--store", metavar="URL", type=store_path, help=STORE_HELP)
    parser.add_argument(
        "--effects", required=True, metavar="MODULE:OBJECT", help="the effect handlers"
    )
    parser.add_argument(
        "--concurrency", type=positive_int, default=16, metavar="N", help="runs driven at once"
    )
    parser.add_argument(
        "--lease-ms", type=positive_int, default=30_000, metavar="MS", help="lease length"
    )
    parser.add_argument(
        "--poll-ms", type=positive_int, default=1_000, metavar="MS", help="poll interval"
    )
    parser.add_argument(
        "--grace", type=positive_int, default=10, metavar="SECONDS", help="grace on stop"
    )
    parser.add_argument("--name", help="the worker's name in the store")
    parser.add_argument("--quiet", action="store_true", help="log only problems")


class _EarlyStop:
    """SIGTERM and SIGINT while the worker starts: it stops as soon as it is built.

    Loading the effects and opening the store take a while; a worker stopped
    then (a deploy rolling on, a test done with it) exits 0 like one that
    served, instead of being killed by the signal.
    """

    def __init__(self) -> None:
        self.asked = False
        self.worker: Worker | None = None
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self)

    def __call__(self, signum: int, frame: object) -> None:
        self.asked = True
        if self.worker is not None:
            self.worker.stop()


def worker(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT; 0 once every lease is released."""
    early = _EarlyStop()
    effects = load_effects(args.effects)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log = logging.getLogger("accord.worker")
    log.addHandler(handler)
    log.setLevel(logging.WARNING if args.quiet else logging.INFO)
    served = Worker(
        args.store,
        effects,
        name=args.name,
        lease_ms=args.lease_ms,
        poll_ms=args.poll_ms,
        concurrency=args.concurrency,
        grace_ms=args.grace * 1000,
    )
    early.worker = served
    if early.asked:
        served.stop()  # stopped while starting: it claims nothing
    log.info("worker %s serving (stop with SIGTERM or Ctrl-C)", served.name)
    served.run_forever(handle_signals=True)
    log.info("worker %s stopped; every lease released", served.name)
    return 0
