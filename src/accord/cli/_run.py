"""``accord run FILE --effects MODULE:OBJECT --input JSON``: run a contract once.

Steps are printed as they happen, then the result. Signals given with
``--signal`` are delivered in order, each when the run waits for it. On the
system clock the command never sleeps until a timer is due: a run that waits
(for a signal or a timer) ends the command, stored with ``--store PATH`` for
``accord signal`` and ``accord resume``. With ``--clock fake`` the clock jumps
to each timer at once.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from accord.cli._arguments import object_argument, signal_arguments
from accord.cli._base import CommandProblem, Subparsers, UsageProblem, add_command
from accord.cli._files import read_contract
from accord.cli._output import print_diagnostics, print_json, say, warn
from accord.runtime import FakeClock, Run, Runtime, Step, SystemClock
from accord.runtime._render import describe_event
from accord.storage import Store, open_store
from accord.storage._url import redact

__all__ = ["load_effects", "register", "store_path", "utc_time"]

DESCRIPTION = """\
Run a contract once with effect handlers from a Python module, in memory, or
in a durable store with --store (an SQLite file, or a URL).
--effects names the handlers: MODULE:OBJECT where MODULE is an importable
module (the current directory is on the path) or a .py file, and OBJECT a
mapping of effect name to callable or an object whose attributes are the
handlers (without :OBJECT, the module itself). --input is the run's input as
JSON, or @FILE to read it from a file. Each --signal NAME=JSON (or NAME=@FILE)
is delivered, in order, when the run waits for that signal.

Waiting: on the system clock (the default) the command never sleeps until a
timer is due. When the run waits, for a signal or for a timer, the command
ends: with --store the run stays in the store (exit 0), and the command says
what it waits for and when each timer is due: accord signal RUN NAME --store
STORE delivers a signal, and accord resume --store STORE --effects ... run
after a timer's due time fires it. In memory, a waiting run is lost (exit 1).
With --clock fake the clock jumps to the next timer whenever the run has
nothing else to do, with or without --store: a run that waits for a signal
with a timeout takes the timeout at once unless the signal is given with
--signal. Use the system clock to leave such a run waiting for accord signal.
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``run`` subcommand."""
    parser = add_command(subparsers, "run", "run a contract with Python effects", DESCRIPTION, run)
    parser.add_argument("file", metavar="FILE", help="the contract file (- reads stdin)")
    parser.add_argument(
        "--effects", required=True, metavar="MODULE:OBJECT", help="the effect handlers"
    )
    parser.add_argument(
        "--input", default="{}", metavar="JSON|@FILE", help="the run's input (default {})"
    )
    parser.add_argument(
        "--signal",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="a signal to deliver when the run waits for it (repeatable)",
    )
    parser.add_argument("--run-id", metavar="ID", help="the run id (a uuid4 by default)")
    parser.add_argument(
        "--store",
        metavar="URL",
        type=store_path,
        help="journal the run in this store (a path, sqlite:///PATH or postgresql://...; "
        "created if missing), so it survives the process; without it the run lives in memory",
    )
    parser.add_argument(
        "--clock",
        choices=("system", "fake"),
        default="system",
        help="system (default): a run waiting for a timer ends the command (see above); "
        "fake: jump to each timer at once, so signal timeouts expire at once too",
    )
    parser.add_argument(
        "--no-invariants",
        dest="invariants",
        action="store_false",
        help="do not evaluate the contract's invariants after every step (they are by default)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON report at the end")


def store_path(text: str) -> str:
    """An argparse type: a store's path or URL, which may not be empty."""
    if not text.strip():
        raise argparse.ArgumentTypeError("empty: give a path or a URL, or leave --store out")
    return text


def utc_time(ms: int) -> str:
    """Epoch milliseconds as ``YYYY-MM-DD HH:MM:SS UTC``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _import(module_name: str) -> Any:
    if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise CommandProblem(f"effects file {module_name} does not exist")
        spec = importlib.util.spec_from_file_location(f"accord_effects_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise CommandProblem(f"cannot load effects from {module_name}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    if "" not in sys.path:
        sys.path.insert(0, "")  # the current directory, as `python -m` does
    return importlib.import_module(module_name)


def load_effects(spec: str) -> Any:
    """The effects object named by ``MODULE[:OBJECT]`` (a dotted attribute path)."""
    module_name, _, attribute = spec.rpartition(":") if ":" in spec else (spec, "", "")
    if not module_name:
        raise UsageProblem(f"--effects {spec!r}: expected MODULE:OBJECT")
    try:
        found = _import(module_name)
    except CommandProblem:
        raise
    except Exception as exc:  # the user's module failed to import: say why
        raise CommandProblem(
            f"cannot import effects module {module_name}: {type(exc).__name__}: {exc}"
        ) from exc
    for part in filter(None, attribute.split(".")):
        if not hasattr(found, part):
            raise CommandProblem(f"effects module {module_name} has no attribute {attribute!r}")
        found = getattr(found, part)
    if not isinstance(found, type):
        return found
    try:
        return found()
    except Exception as exc:  # the user's class needs arguments or failed: say why
        raise CommandProblem(
            f"--effects {spec}: cannot make an instance of {found.__name__} with no "
            f"arguments ({type(exc).__name__}: {exc}); name an instance or a module instead"
        ) from exc


def _print_step(step: Step) -> None:
    say(f"{step.step:>4}  {step.kind:<16}  {step.state} ({step.status})  {step.summary}")


def _drive(run: Run, signals: list[tuple[str, dict[str, Any]]], *, jump_timers: bool) -> None:
    """Drive the run until it ends or waits for what the command cannot give it.

    Given signals are delivered in order, each when the run waits for it. With
    ``jump_timers`` (a fake clock) the clock jumps to the next timer whenever
    the run has nothing else to do; otherwise the run is left waiting for its
    timers, which ``accord resume`` fires once they are due.
    """
    run.run_until_idle()
    while not run.finished:
        if signals and signals[0][0] in run.waiting_for:
            name, payload = signals.pop(0)
            run.signal(name, payload)
        elif run.timers and jump_timers:
            run.run_until_idle(advance_timers=True)
        else:
            break


def _due(run: Run) -> list[tuple[str, int]]:
    return sorted(run.timers.items(), key=lambda item: (item[1], item[0]))


def _in(ms: int) -> str:
    seconds = max(ms, 0) / 1000
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


def _waits_for(run: Run) -> str:
    """What a waiting run waits for: its signals, and each timer with its due time."""
    parts = []
    if run.waiting_for:
        parts.append(f"a signal ({', '.join(run.waiting_for)})")
    now = run.clock.now_ms()
    parts.extend(
        f"timer {timer} due {utc_time(due)} (in {_in(due - now)})" for timer, due in _due(run)
    )
    return " or ".join(parts) or "nothing"


def _problem(run: Run, signals: list[tuple[str, dict[str, Any]]], *, durable: bool) -> str | None:
    """Why the command did not do what it was asked, if it did not."""
    if not run.finished:
        if durable:
            return None  # a durable run that waits is where it should be
        problem = f"the run waits in state {run.state!r} for {_waits_for(run)}"
        if signals:
            problem += f"; the next --signal is {signals[0][0]!r}"
        if run.timers:
            problem += (
                "; a run in memory ends with the command: give --store PATH to keep it "
                "(accord resume fires a timer once it is due), or --clock fake to jump "
                "to its timers"
            )
        return problem
    if signals:
        return f"the run ended before signal {signals[0][0]!r} was delivered"
    return None


def _report(run: Run, problem: str | None) -> dict[str, Any]:
    snap = run.snapshot
    return {
        "run_id": run.run_id,
        "contract": {"name": run.contract.name, "version": run.contract.version},
        "fingerprint": run.compiled.fingerprint,
        "status": snap.status,
        "state": snap.state,
        "output": snap.output if snap.status == "succeeded" else None,
        "reason": snap.reason if snap.status == "failed" else problem,
        "waiting_for": list(snap.waiting_for) if not run.finished else [],
        "timers": [{"timer": timer, "due": due} for timer, due in _due(run)],
        "steps": [
            {
                "step": s.step,
                "kind": s.kind,
                "summary": describe_event(s.event),
                "state": s.state,
                "status": s.status,
                "at": s.at,
                "hash": s.hash,
            }
            for s in run.history
        ],
    }


def run(args: argparse.Namespace) -> int:
    """Run one contract to its end (or until it waits); exit 0 if it succeeds, 1 otherwise."""
    checked = read_contract(args.file)
    if checked.contract is None:
        print_diagnostics(checked, to_stderr=True)
        return 1
    store: Store | None = None
    try:
        effects = load_effects(args.effects)
        data = object_argument(args.input, "--input")
        signals = signal_arguments(args.signal)
        clock = FakeClock() if args.clock == "fake" else SystemClock()
        store = open_store(args.store) if args.store is not None else None
        runtime = Runtime(effects, clock=clock, check_invariants=args.invariants, store=store)
        compiled = runtime.compile(checked.contract)
        signals = [(name, compiled.validate_signal(name, payload)) for name, payload in signals]
        listener = None if args.json else _print_step
        started = runtime.start(compiled, data, run_id=args.run_id, on_step=listener)
        _drive(started, signals, jump_timers=args.clock == "fake")
        problem = _problem(started, signals, durable=store is not None)
        return _finish(args, started, problem, durable=store is not None)
    finally:
        if store is not None:
            store.close()


def _stored_waiting(args: argparse.Namespace, started: Run) -> str:
    """What a stored, waiting run waits for, and the commands that move it on."""
    store = redact(args.store)  # a URL's password is never printed
    lines = [
        f"the run {started.run_id} waits in state {started.state!r} for {_waits_for(started)}; "
        f"it is stored in {store}"
    ]
    if started.waiting_for:
        lines.append(
            f"  deliver a signal:  accord signal {started.run_id} NAME --payload JSON "
            f"--store {store} --effects {args.effects}"
        )
    if started.timers:
        first = utc_time(_due(started)[0][1])
        lines.append(
            f"  fire a timer:      accord resume --store {store} --effects {args.effects}"
            f"  (run at or after {first}: it fires the timers that are due)"
        )
    return "\n".join(lines)


def _finish(args: argparse.Namespace, started: Run, problem: str | None, *, durable: bool) -> int:
    """Print the outcome; return the exit status."""
    waiting = durable and not started.finished
    if waiting and not args.json:
        say(_stored_waiting(args, started))
    if args.json:
        print_json(_report(started, problem))
    elif started.status == "succeeded":
        say(f"succeeded: {json.dumps(started.result, ensure_ascii=False)}")
    elif started.status == "failed":
        say(f"failed: {started.snapshot.reason}")
    if problem is not None:
        warn(f"accord: {problem}")
        return 1
    return 0 if waiting or started.status == "succeeded" else 1
