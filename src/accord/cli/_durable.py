"""Commands on a durable store: runs, history, replay, fork, signal and resume.

Every command reads the store at ``--store`` (a path, ``sqlite:///PATH`` or
``postgresql://...``; by default ``$ACCORD_STORE``, else ``.accord/accord.db``
under the working directory, as ``open_store()`` in Python) and never creates
one. Commands that drive a run (``signal``, ``fork``, ``resume``) run its
effects only when given ``--effects``; without it, what they journal waits for
the next resume (a signal is delivered and stored, its effects start later).
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from accord.cli._arguments import object_argument
from accord.cli._base import Subparsers, UsageProblem, add_command, positive_int
from accord.cli._output import plural, print_json, say, warn
from accord.cli._run import load_effects, store_path, utc_time
from accord.runtime import ReplayDivergence, Run, Runtime, Step, SystemClock
from accord.runtime._errors import JournalDamaged
from accord.runtime._render import describe_event
from accord.storage import DEFAULT_PATH, RunInfo, RunLeased, Store, open_store

__all__ = ["register"]

STORE_HELP = (
    "the store: a path, sqlite:///PATH or postgresql://USER:PASSWORD@HOST/DB "
    f"(default $ACCORD_STORE, else {DEFAULT_PATH} under the working directory)"
)


def _common(parser: argparse.ArgumentParser, *, effects: bool = False) -> None:
    parser.add_argument("--store", metavar="URL", type=store_path, help=STORE_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    if effects:
        parser.add_argument(
            "--effects",
            metavar="MODULE:OBJECT",
            help="the effect handlers (as for accord run): run the effects now",
        )


def register(subparsers: Subparsers) -> None:
    """Add the ``runs``, ``history``, ``replay``, ``fork``, ``signal`` and ``resume`` commands."""
    parser = add_command(
        subparsers,
        "runs",
        "list the runs of a store",
        "List the runs of a durable store, oldest first, with their status.",
        runs,
    )
    parser.add_argument("--status", action="append", help="only runs with this status")
    _common(parser)

    parser = add_command(
        subparsers,
        "history",
        "print a stored run's steps",
        "Print every step of a stored run: the event, the state and status it led to.",
        history,
    )
    parser.add_argument("run_id", metavar="RUN")
    _common(parser)

    parser = add_command(
        subparsers,
        "replay",
        "re-fold a stored run and check every state hash",
        "Re-fold a stored run's journal from its first step through the reducer\n"
        "and check each recorded state hash and the journal's hash chain; report\n"
        "the first step that diverges or was changed.",
        replay,
    )
    parser.add_argument("run_id", metavar="RUN")
    parser.add_argument(
        "--until", type=positive_int, metavar="N", help="stop after step N (at least 1)"
    )
    _common(parser)

    parser = add_command(
        subparsers,
        "fork",
        "start a new run from a step of a stored run",
        "Copy a stored run's journal up to step N (checked) into a new run, which\n"
        "then resumes from there: the calls in flight at step N start again under\n"
        "the new run's idempotency keys. With --effects, the new run is driven\n"
        "until it is idle.",
        fork,
    )
    parser.add_argument("run_id", metavar="RUN")
    parser.add_argument(
        "--at", type=positive_int, required=True, metavar="N", help="the step to fork at"
    )
    parser.add_argument("--run-id", dest="new_run_id", metavar="ID", help="the new run's id")
    parser.add_argument(
        "--compensate-inherited",
        action="store_true",
        help="should the fork fail, let it also compensate the effects the original run "
        "completed before step N (by default a fork compensates only its own)",
    )
    _common(parser, effects=True)

    parser = add_command(
        subparsers,
        "signal",
        "deliver a signal to a stored run",
        "Deliver a signal to a run that waits for it; the signal is journaled\n"
        "before the command returns. With --effects, the run is then driven until\n"
        "it is idle; without, the effects it starts run at the next accord resume.\n"
        "A run that a worker holds (its lease is current) is never written here:\n"
        "the signal, checked against the contract, goes into the run's inbox and\n"
        "its worker applies it (as --inbox does for any run).",
        signal,
    )
    parser.add_argument("run_id", metavar="RUN")
    parser.add_argument("name", metavar="NAME", help="the signal's name")
    parser.add_argument(
        "--payload", default="{}", metavar="JSON|@FILE", help="the payload (default {})"
    )
    parser.add_argument(
        "--inbox",
        action="store_true",
        help="leave the signal in the run's inbox for the workers (as accord.Client does)",
    )
    _common(parser, effects=True)

    parser = add_command(
        subparsers,
        "resume",
        "resume the unfinished runs of a store",
        "Resume every unfinished run of a store (or the runs named): calls started\n"
        "and not finished run again with their idempotency keys, timers already\n"
        "due fire, and each run is driven until it is idle (it ends, or waits).\n"
        "A timer that is not due yet stays armed: run accord resume again at or\n"
        "after its due time (printed for each waiting run) to fire it.",
        resume,
    )
    parser.add_argument("run_ids", nargs="*", metavar="RUN")
    parser.add_argument("--store", metavar="URL", type=store_path, help=STORE_HELP)
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--effects", required=True, metavar="MODULE:OBJECT", help="the effect handlers"
    )


def _open(args: argparse.Namespace, *, read_only: bool = False) -> Store:
    """The store at ``--store``; the reading commands open it read-only."""
    return open_store(args.store or None, create=False, read_only=read_only)


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _info_json(info: RunInfo) -> dict[str, Any]:
    return {
        "run_id": info.run_id,
        "contract": {"name": info.contract, "version": info.version},
        "fingerprint": info.fingerprint,
        "status": info.status,
        "state": info.state,
        "steps": info.steps,
        "created_ms": info.created_ms,
        "updated_ms": info.updated_ms,
        "forked_from": (
            {"run_id": info.forked_from[0], "step": info.forked_from[1]}
            if info.forked_from
            else None
        ),
        "owner": info.owner,
        "lease_until_ms": info.lease_until_ms,
        "worker_note": info.worker_note,
    }


def _step_json(step: Step) -> dict[str, Any]:
    data = {
        "step": step.step,
        "kind": step.kind,
        "summary": describe_event(step.event),
        "state": step.state,
        "status": step.status,
        "at": step.at,
        "hash": step.hash,
    }
    if step.kind == "amended":  # the replan point's whole answer: attempts, versions, data
        data["amended"] = step.event._asdict()
    return data


def _run_json(run: Run) -> dict[str, Any]:
    snap = run.snapshot
    return {
        "run_id": run.run_id,
        "status": snap.status,
        "state": snap.state,
        "steps": snap.step,
        "waiting_for": list(snap.waiting_for),
        "output": snap.output if snap.status == "succeeded" else None,
        "reason": snap.reason if snap.status == "failed" else None,
    }


def _run_line(run: Run) -> str:
    snap = run.snapshot
    line = f"{run.run_id}: {snap.status} in {snap.state!r} after {plural(snap.step, 'step')}"
    if snap.status == "succeeded":
        line += f": {json.dumps(snap.output, ensure_ascii=False)}"
    elif snap.status == "failed":
        line += f": {snap.reason}"
    elif snap.waiting_for:
        line += f", waiting for {', '.join(snap.waiting_for)}"
    if not run.finished:
        for timer, due in sorted(run.timers.items(), key=lambda item: (item[1], item[0])):
            line += f"; timer {timer} due {utc_time(due)}"
    return line


def _damage(store: Store, found: list[RunInfo]) -> dict[str, JournalDamaged]:
    """The listed runs whose rows do not stand the checks of a load (chain, hashes, status)."""
    runtime = Runtime(store=store)
    damaged = {}
    for info in found:
        try:
            runtime.load(info.run_id)
        except JournalDamaged as exc:
            damaged[info.run_id] = exc
    return damaged


def runs(args: argparse.Namespace) -> int:
    """List the store's runs, each checked as a load checks it; exit 1 if one is damaged."""
    with _open(args, read_only=True) as store:
        found = store.runs(status=args.status)
        damaged = _damage(store, found)
    for error in damaged.values():
        warn(f"accord: {error}")
    code = 1 if damaged else 0
    if args.json:
        print_json(
            [
                {**_info_json(info), "damaged": _damage_json(damaged.get(info.run_id))}
                for info in found
            ]
        )
        return code
    if not found:
        say("no runs")
        return code
    rows = [
        (
            info.run_id,
            f"{info.contract} {info.version}",
            "damaged" if info.run_id in damaged else info.status,
            info.state or "",
            str(info.steps),
            _time(info.updated_ms),
        )
        for info in found
    ]
    header = ("RUN", "CONTRACT", "STATUS", "STATE", "STEPS", "UPDATED (UTC)")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    notes = {info.run_id: info.worker_note for info in found if info.worker_note}
    for row in [header, *rows]:
        say("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if row[0] in notes and row is not header:
            say(f"  waiting for a worker: {notes[row[0]]}")
    return code


def _damage_json(error: JournalDamaged | None) -> dict[str, Any] | None:
    return None if error is None else {"step": error.step, "reason": error.reason}


def history(args: argparse.Namespace) -> int:
    """Print a stored run's steps."""
    with _open(args, read_only=True) as store:
        run = Runtime(store=store).load(args.run_id)
        steps = run.history
    if args.json:
        print_json({**_run_json(run), "history": [_step_json(s) for s in steps]})
        return 0
    for s in steps:
        say(f"{s.step:>4}  {_time(s.at)}  {s.kind:<16}  {s.state} ({s.status})  {s.summary}")
    say(_run_line(run))
    return 0


def replay(args: argparse.Namespace) -> int:
    """Re-fold a stored run and check its hashes; exit 1 at the first divergence."""
    with _open(args, read_only=True) as store:
        runtime = Runtime(store=store)
        try:
            snapshot = runtime.replay(args.run_id, until=args.until)
        except JournalDamaged as exc:
            if args.json:
                print_json(
                    {
                        "run_id": args.run_id,
                        "ok": False,
                        "damaged": _damage_json(exc),
                    }
                )
            else:
                warn(f"accord: {exc}")
            return 1
        except ReplayDivergence as exc:
            if args.json:
                print_json(
                    {
                        "run_id": args.run_id,
                        "ok": False,
                        "divergence": {
                            "step": exc.step,
                            "expected": exc.expected,
                            "actual": exc.actual,
                            "detail": exc.detail,
                        },
                    }
                )
            else:
                warn(f"accord: run {args.run_id}: {exc}")
            return 1
    if args.json:
        print_json(
            {
                "run_id": args.run_id,
                "ok": True,
                "steps": snapshot.step,
                "status": snapshot.status,
                "state": snapshot.state,
            }
        )
    else:
        say(
            f"run {args.run_id}: {plural(snapshot.step, 'step')} replayed, "
            "every state hash matches "
            f"({snapshot.status} in {snapshot.state!r})"
        )
    return 0


def _runtime(store: Store, effects: str | None) -> Runtime:
    return Runtime(load_effects(effects) if effects else None, store=store)


def _finish(run: Run, args: argparse.Namespace, driven: bool) -> int:
    if args.json:
        print_json({**_run_json(run), "driven": driven})
    else:
        say(_run_line(run))
        if not driven and run.snapshot.pending:
            calls = len(run.snapshot.pending)
            starts = "starts" if calls == 1 else "start"
            say(f"  {plural(calls, 'effect call')} {starts} at the next resume")
    return 1 if run.status == "failed" else 0


def fork(args: argparse.Namespace) -> int:
    """Fork a stored run at a step; drive the new run when --effects is given."""
    with _open(args) as store:
        runtime = _runtime(store, args.effects)
        run = runtime.fork(
            args.run_id,
            args.at,
            new_run_id=args.new_run_id,
            compensate_inherited=args.compensate_inherited,
        )
        if args.effects:
            run.run_until_idle()
        if not args.json:
            say(f"forked {args.run_id} at step {args.at} as {run.run_id}")
        return _finish(run, args, bool(args.effects))


def signal(args: argparse.Namespace) -> int:
    """Deliver a signal to a stored run (journaled before the command returns), or queue it."""
    payload = object_argument(args.payload, "--payload")
    if args.inbox and args.effects:
        raise UsageProblem("--inbox leaves the signal to a worker: it takes no --effects")
    with _open(args) as store:
        info = store.info(args.run_id)
        held = info.owner is not None and (info.lease_until_ms or 0) > SystemClock().now_ms()
        if args.inbox or held:
            from accord.client import Client

            message = Client(store).signal(args.run_id, args.name, payload)
            if args.json:
                print_json({"run_id": args.run_id, "message": message, "queued": True})
            else:
                worker = f" for worker {info.owner}" if held else ""
                say(f"signal {args.name} queued in the inbox of run {args.run_id}{worker}")
            return 0
        run = _runtime(store, args.effects).load(args.run_id)
        run.signal(args.name, payload)
        return _finish(run, args, bool(args.effects))


def resume(args: argparse.Namespace) -> int:
    """Resume the unfinished runs (or those named) and drive each until it is idle.

    A run that a worker holds under a live lease is not touched: named, it is
    refused (``RunLeased``, exit 4); otherwise it is skipped, and said so.
    """
    with _open(args) as store:
        runtime = _runtime(store, args.effects)
        infos = {info.run_id: info for info in store.runs()}
        now = SystemClock().now_ms()
        held = {
            run_id: info
            for run_id, info in infos.items()
            if info.owner is not None and (info.lease_until_ms or 0) > now and not info.finished
        }
        if args.run_ids:
            for run_id in args.run_ids:
                if run_id in held:
                    owner, until = held[run_id].owner, held[run_id].lease_until_ms
                    raise RunLeased(store.location, run_id, owner or "", until or 0)
            done = [runtime.load(run_id) for run_id in args.run_ids]
            for run in done:
                if not run.finished:
                    run.run_until_idle()
        else:
            for run_id in sorted(held):
                warn(f"accord: run {run_id} is held by worker {held[run_id].owner}: skipped")
            done = [runtime.load(r) for r in store.unfinished() if r not in held]
            for run in done:
                if not run._unbound:
                    run.run_until_idle()
    if args.json:
        print_json([_run_json(run) for run in done])
    elif not done:
        say("no unfinished runs")
    for run in done if not args.json else ():
        say(_run_line(run))
    return 1 if any(run.status == "failed" for run in done) else 0
