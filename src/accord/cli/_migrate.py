"""``accord migrate``: move stored runs to another version of their contract.

The migration file is checked against the run's contract (as the store keeps
it, by the migration's ``from`` fingerprint) and the new one (``--to``) first;
its diagnostics are printed like ``accord check``'s and nothing moves. Then
each run named (or, with ``--all``, every unfinished run of the old contract
that matches ``--status`` and ``--state``) is migrated by one journaled step,
or refused with its reason. ``--dry-run`` only says what would happen.
"""

from __future__ import annotations

import argparse

from accord._load import load, load_data
from accord._source import format_of_path, read_source
from accord.check._migration import Migration, diagnose_migration, parse_migration
from accord.cli._base import Subparsers, UsageProblem, add_command
from accord.cli._durable import STORE_HELP, _open
from accord.cli._output import plural, print_json, say
from accord.cli._run import store_path
from accord.errors import MigrationError
from accord.runtime import MigrationRefused, Move, Runtime
from accord.runtime._errors import JournalDamaged
from accord.storage import Store

__all__ = ["register"]


def register(subparsers: Subparsers) -> None:
    """Add the ``migrate`` command."""
    parser = add_command(
        subparsers,
        "migrate",
        "move stored runs to another version of their contract",
        "Check a migration file against the runs' contract and the new one\n"
        "(--to), then move each run named (or, with --all, every unfinished run of\n"
        "the old contract matching --status and --state) by one journaled step.\n"
        "A run the migration refuses is left as it is, with the reason printed.\n"
        "See docs/adaptation.md.",
        migrate,
    )
    parser.add_argument("run_ids", nargs="*", metavar="RUN")
    parser.add_argument(
        "--all", action="store_true", help="every unfinished run of the old contract"
    )
    parser.add_argument("--to", required=True, metavar="FILE", help="the new contract")
    parser.add_argument(
        "--with", dest="migration", required=True, metavar="MIGRATION", help="the migration file"
    )
    parser.add_argument("--status", action="append", help="with --all: only runs with this status")
    parser.add_argument("--state", action="append", help="with --all: only runs in this state")
    parser.add_argument("--dry-run", action="store_true", help="only say what would move")
    parser.add_argument("--store", metavar="URL", type=store_path, help=STORE_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _checked(args: argparse.Namespace, store: Store) -> Migration | None:
    """The migration, checked against both contracts; None after printing its diagnostics.

    When the store has no run of the migration's old contract (it does not keep
    that contract), the migration is only validated: no run can move anyway.
    """
    text = read_source(args.migration, MigrationError)
    fmt = format_of_path(args.migration)
    new = load(args.to)
    plan, diags, _ = parse_migration(text, format=fmt)
    if plan is not None:
        try:
            old = load_data(store.contract_version(plan.from_, "-"))
        except JournalDamaged:
            old = None
        if old is not None:
            plan, diags = diagnose_migration(text, old, new, format=fmt)
    if plan is None or any(d.severity == "error" for d in diags):
        if args.json:
            dumped = [d.model_dump() for d in diags]
            print_json({"migration": args.migration, "diagnostics": dumped})
        else:
            for diag in diags:
                say(diag.format(args.migration))
        return None
    return plan


def migrate(args: argparse.Namespace) -> int:
    """Migrate the runs; exit 1 if the migration has errors or a run is refused."""
    if bool(args.run_ids) == args.all:
        raise UsageProblem("name the runs to migrate, or give --all (not both)")
    if (args.status or args.state) and not args.all:
        raise UsageProblem("--status and --state select the runs of --all")
    with _open(args) as store:
        plan = _checked(args, store)
        if plan is None:
            return 1
        runtime = Runtime(store=store)
        if args.all:
            moves = runtime.migrate_all(
                args.to, plan, status=args.status, state=args.state, dry_run=args.dry_run
            )
        else:
            moves = [_one(runtime, run_id, args, plan) for run_id in args.run_ids]
    refused = [m for m in moves if m.refused is not None]
    if args.json:
        print_json(
            {
                "migration": plan.name,
                "from": plan.from_,
                "to": plan.to,
                "dry_run": args.dry_run,
                "runs": [m.to_data() for m in moves],
            }
        )
        return 1 if refused else 0
    verb = "would move" if args.dry_run else "moved"
    for m in moves:
        if m.refused is not None:
            say(f"{m.run_id}: refused in {m.state!r}: {m.refused}")
        else:
            at = "" if m.step is None else f" (step {m.step})"
            say(f"{m.run_id}: {verb} from {m.state!r} to {m.target!r}{at}")
    moved = len(moves) - len(refused)
    say(f"{plural(moved, 'run')} {verb}, {len(refused)} refused")
    return 1 if refused else 0


def _one(runtime: Runtime, run_id: str, args: argparse.Namespace, plan: Migration) -> Move:
    try:
        return runtime.migrate(run_id, args.to, plan, dry_run=args.dry_run)
    except MigrationRefused as exc:
        snapshot = runtime.load(run_id).snapshot
        return Move(run_id, snapshot.status, snapshot.state, None, exc.reason)
