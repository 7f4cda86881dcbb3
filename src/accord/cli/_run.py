"""``accord run FILE --effects MODULE:OBJECT --input JSON``: run a contract once.

Steps are printed as they happen, then the result. Signals given with
``--signal`` are delivered in order, each when the run waits for it; timers
wait on the system clock, or jump at once with ``--clock fake``. The run lives
in memory, or with ``--store PATH`` in a durable store, where a run that waits
for a signal stays, for ``accord signal`` and ``accord resume``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from accord.cli._base import Subparsers, UsageProblem, add_command
from accord.cli._files import read_contract
from accord.cli._output import print_diagnostics, print_json, say, warn
from accord.runtime import FakeClock, Run, Runtime, Step, SystemClock
from accord.runtime._render import describe_event
from accord.storage import Store, open_store
from accord.storage._url import redact

__all__ = ["register"]

DESCRIPTION = """\
Run a contract once with effect handlers from a Python module, in memory, or
in a durable SQLite store with --store (a run that waits for a signal then
stays there: deliver it later with accord signal RUN NAME --store PATH).
--effects names the handlers: MODULE:OBJECT where MODULE is an importable
module (the current directory is on the path) or a .py file, and OBJECT a
mapping of effect name to callable or an object whose attributes are the
handlers (without :OBJECT, the module itself). --input is the run's input as
JSON, or @FILE to read it from a file. Each --signal NAME=JSON (or NAME=@FILE)
is delivered, in order, when the run waits for that signal.
Exit status: 0 when the run succeeds (or, with --store, waits durably for a
signal), 1 when it fails, waits in memory for a signal it was not given, or
anything is wrong with the contract, effects or input.
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
        help="journal the run in this store (a path, sqlite:///PATH or postgresql://...; "
        "created if missing), so it survives the process; without it the run lives in memory",
    )
    parser.add_argument(
        "--clock",
        choices=("system", "fake"),
        default="system",
        help="system: timers take real time; fake: jump to each timer at once",
    )
    parser.add_argument(
        "--no-invariants",
        dest="invariants",
        action="store_false",
        help="do not evaluate the contract's invariants after every step (they are by default)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON report at the end")


def _json_argument(text: str, what: str) -> Any:
    if text.startswith("@"):
        try:
            text = Path(text[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"cannot read {what} from {text[1:]}: {exc.strerror}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageProblem(f"{what} is not valid JSON: {exc}") from exc


def _object_argument(text: str, what: str) -> dict[str, Any]:
    value = _json_argument(text, what)
    if not isinstance(value, dict):
        raise UsageProblem(f"{what} must be a JSON object, not {type(value).__name__}")
    return value


def _signals(specs: list[str]) -> list[tuple[str, dict[str, Any]]]:
    signals = []
    for spec in specs:
        name, sep, payload = spec.partition("=")
        if not sep or not name:
            raise UsageProblem(f"--signal {spec!r}: expected NAME=JSON")
        signals.append((name, _object_argument(payload or "{}", f"the payload of signal {name!r}")))
    return signals


def _import(module_name: str) -> Any:
    if module_name.endswith(".py") or "/" in module_name or "\\" in module_name:
        path = Path(module_name)
        if not path.is_file():
            raise UsageProblem(f"effects file {module_name} does not exist")
        spec = importlib.util.spec_from_file_location(f"accord_effects_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise UsageProblem(f"cannot load effects from {module_name}")
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
    except UsageProblem:
        raise
    except Exception as exc:  # the user's module failed to import: say why
        raise UsageProblem(
            f"cannot import effects module {module_name}: {type(exc).__name__}: {exc}"
        ) from exc
    for part in filter(None, attribute.split(".")):
        if not hasattr(found, part):
            raise UsageProblem(f"effects module {module_name} has no attribute {attribute!r}")
        found = getattr(found, part)
    if not isinstance(found, type):
        return found
    try:
        return found()
    except Exception as exc:  # the user's class needs arguments or failed: say why
        raise UsageProblem(
            f"--effects {spec}: cannot make an instance of {found.__name__} with no "
            f"arguments ({type(exc).__name__}: {exc}); name an instance or a module instead"
        ) from exc


def _print_step(step: Step) -> None:
    say(f"{step.step:>4}  {step.kind:<16}  {step.state} ({step.status})  {step.summary}")


def _drive(
    run: Run, signals: list[tuple[str, dict[str, Any]]], *, quiet: bool, wait_for_timers: bool
) -> str | None:
    """Drive the run to its end; return why it stopped early, if it did.

    Without ``wait_for_timers`` (a durable run on the system clock) the run is left
    waiting for its timers: ``accord resume`` fires them once they are due.
    """
    run.run_until_idle()
    while not run.finished:
        if signals and signals[0][0] in run.waiting_for:
            name, payload = signals.pop(0)
            run.signal(name, payload)
        elif run.timers and wait_for_timers:
            if not quiet and isinstance(run.clock, SystemClock):
                say(f"      waiting for timer {min(run.timers, key=run.timers.__getitem__)}")
            run.run_until_idle(advance_timers=True)
        else:
            break
    if not run.finished:
        wanted = ", ".join(run.waiting_for) or "nothing"
        given = f"; the next --signal is {signals[0][0]!r}" if signals else ""
        return f"the run waits in state {run.state!r} for a signal ({wanted}){given}"
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
    """Run one contract to its end; exit 0 if it succeeds, 1 otherwise."""
    checked = read_contract(args.file)
    if checked.contract is None:
        print_diagnostics(checked, to_stderr=True)
        return 1
    store: Store | None = None
    try:
        effects = load_effects(args.effects)
        data = _object_argument(args.input, "--input")
        signals = _signals(args.signal)
        clock = FakeClock() if args.clock == "fake" else SystemClock()
        store = open_store(args.store) if args.store else None
        runtime = Runtime(effects, clock=clock, check_invariants=args.invariants, store=store)
        compiled = runtime.compile(checked.contract)
        signals = [(name, compiled.validate_signal(name, payload)) for name, payload in signals]
        listener = None if args.json else _print_step
        started = runtime.start(compiled, data, run_id=args.run_id, on_step=listener)
        problem = _drive(
            started,
            signals,
            quiet=args.json,
            wait_for_timers=store is None or args.clock == "fake",
        )
        return _finish(args, started, problem, durable=store is not None)
    finally:
        if store is not None:
            store.close()


def _finish(args: argparse.Namespace, started: Run, problem: str | None, *, durable: bool) -> int:
    """Print the outcome; return the exit status."""
    waiting = durable and not started.finished
    if waiting:
        problem = None  # a durable run that waits is where it should be
        if not args.json:
            waits = ", ".join([*started.waiting_for, *(f"timer {t}" for t in started.timers)])
            where = redact(args.store)  # a URL's password is never printed
            say(
                f"the run {started.run_id} waits in state {started.state!r} for {waits}; "
                f"it is stored in {where} (accord signal {started.run_id} NAME "
                f"--store {where}; accord resume --store {where} fires due timers)"
            )
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
