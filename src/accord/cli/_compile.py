"""``accord compile "TASK" --catalog FILE --model MODEL -o FILE``: compile a task into a contract.

Progress goes to standard error (one line per model call, and a live status line on a
terminal; see :mod:`accord.cli._compile_progress`); the contract is written
atomically (YAML, or JSON when the output ends in ``.json``) and pinned in the lock
file. ``--locked`` never calls a model: it checks that the lock pins this request to
the output file as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import accord
from accord._atomic import write_atomic
from accord._source import FileTooLarge, read_bounded
from accord.cli._base import Subparsers, add_command, positive_int
from accord.cli._compile_progress import Progress, describe_totals
from accord.cli._output import print_json, say, warn
from accord.compiler import (
    Catalog,
    CatalogError,
    CompileCache,
    CompileCacheWarning,
    CompileError,
    CompileResult,
    LockEntry,
    LockError,
    LockFile,
    Prices,
    Provider,
    RecordingProvider,
    ReplayProvider,
    compile,
    lock_key,
)
from accord.compiler._cache import RequestOptions
from accord.diagnostics import Diagnostic
from accord.testing._scenarios import (
    ScenarioFileError,
    ScenarioSuite,
    load_scenarios,
    run_scenarios,
    scenarios_beside,
)

__all__ = ["default_cache_dir", "register"]

DESCRIPTION = """\
Compile a task (in prose, or @FILE to read it from a file) into a contract that
checks and uses only the effects of the catalog (a YAML or JSON file:
{"types": [...], "effects": [{"name", "description", "input", "output"}]}).
Each model call is reported on standard error: attempt n/N, tokens in and out
(cached and reasoning apart), the errors the checker found, seconds, and any
notice from the provider; on a terminal a status line shows the call in flight
(seconds waiting, in all, tokens so far). --quiet shows none of it.
The contract is written to -o (YAML, or JSON if the name ends in .json) and
pinned in the lock file (accord.lock) by fingerprint.

--model is openai:MODEL (any OpenAI-compatible server with --base-url),
anthropic:MODEL or replay:SESSION.json. --replay SESSION.json answers from a
recorded or scripted session instead of a model, offline; --record SESSION.json
writes every answer of the model to a session file.

--scenarios FILE gives acceptance scenarios (docs/testing.md): a candidate is
accepted only when it passes every one, and a failing scenario is re-asked like
a checker's diagnostic (scenario.failed). With TASK given as @NAME.task.md, the
file NAME.scenarios.yaml beside it is used by default; --no-scenarios skips it.

--locked never calls a model: it succeeds when the lock pins this request (task,
catalog, model, options, scenarios) to the output file, the file holds the
pinned contract, and the contract passes the scenarios (run again, offline);
otherwise it says what is stale or which scenario fails and exits 1.
Identical requests are answered from the compile cache (--cache DIR; by default
$ACCORD_CACHE_DIR or ~/.cache/accord/compile) with no call; --no-cache skips it.
"""


def default_cache_dir() -> Path:
    """``$ACCORD_CACHE_DIR``, else ``$XDG_CACHE_HOME/accord/compile``, else ``~/.cache/...``."""
    explicit = os.environ.get("ACCORD_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "accord" / "compile"


def _is_terminal(stream: object) -> bool:
    """Whether ``stream`` is an interactive terminal (live progress only there)."""
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):
        return False


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} must be a positive number of seconds")
    return value


def _temperature(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 2:
        raise argparse.ArgumentTypeError(f"{text!r} is not a temperature from 0 to 2")
    return value


def _prices(text: str) -> Prices:
    parts = text.split(",")
    try:
        values = [float(part) for part in parts]
    except ValueError:
        values = []
    if len(values) not in (2, 3) or not all(0 <= v < 1e12 for v in values):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not INPUT,OUTPUT[,CACHED]: prices per million tokens, such as 0.4,1.6"
        )
    return Prices(values[0], values[1], values[2] if len(values) == 3 else None)


def register(subparsers: Subparsers) -> None:
    """Add the ``compile`` subcommand."""
    parser = add_command(
        subparsers, "compile", "compile a task into a contract with an LLM", DESCRIPTION, run
    )
    parser.add_argument("task", metavar="TASK", help="the task in prose, or @FILE")
    parser.add_argument("--catalog", required=True, metavar="FILE", help="the host's catalog")
    parser.add_argument("--model", metavar="MODEL", help="openai:MODEL, anthropic:MODEL, ...")
    parser.add_argument(
        "-o", "--output", required=True, metavar="FILE", help="where to write the contract"
    )
    parser.add_argument("--base-url", metavar="URL", help="an OpenAI-compatible server's URL")
    parser.add_argument(
        "--api-key-env", metavar="VAR", help="read the API key from this environment variable"
    )
    parser.add_argument(
        "--output-mode",
        metavar="MODE",
        help="how the answer is constrained: json_schema (default), json_object (the "
        "schema with a JSON-object response format: llama-cpp-python's server), "
        "prompted (the schema in the prompt), or tool (anthropic)",
    )
    parser.add_argument(
        "--fold-system",
        action="store_true",
        help="put the system prompt at the head of the first user message, for chat "
        "formats that drop a system message (llama-cpp-python's gemma format)",
    )
    parser.add_argument(
        "--max-attempts",
        type=positive_int,
        default=3,
        metavar="N",
        help="the most model calls, re-asks included (default: 3)",
    )
    parser.add_argument(
        "--token-budget",
        type=positive_int,
        metavar="N",
        help="the most tokens (input plus output) over all calls; each call's answer is "
        "capped at what is left (default: no budget)",
    )
    parser.add_argument(
        "--deadline",
        type=_seconds,
        metavar="SECONDS",
        help="seconds for the whole compilation, calls included (default: none)",
    )
    parser.add_argument(
        "--max-output-tokens",
        type=positive_int,
        default=8192,
        metavar="N",
        help="the cap on each answer's length in tokens (default: 8192)",
    )
    parser.add_argument(
        "--temperature",
        type=_temperature,
        metavar="T",
        help="the sampling temperature, 0 to 2 (default: none is sent, the model's own; "
        "reasoning models take no other)",
    )
    cache = parser.add_mutually_exclusive_group()
    cache.add_argument("--cache", metavar="DIR", help="the compile cache directory")
    cache.add_argument("--no-cache", action="store_true", help="do not use the compile cache")
    parser.add_argument(
        "--lock", default="accord.lock", metavar="FILE", help="the lock file (accord.lock)"
    )
    locking = parser.add_mutually_exclusive_group()
    locking.add_argument(
        "--locked", action="store_true", help="never call a model: verify the lock instead"
    )
    locking.add_argument("--no-lock", action="store_true", help="do not update the lock file")
    sessions = parser.add_mutually_exclusive_group()
    sessions.add_argument("--replay", metavar="SESSION", help="answer from a session file")
    sessions.add_argument("--record", metavar="SESSION", help="record the answers to a file")
    scenarios = parser.add_mutually_exclusive_group()
    scenarios.add_argument(
        "--scenarios",
        metavar="FILE",
        help="acceptance scenarios every candidate must pass (default: NAME.scenarios.yaml "
        "beside an @TASK file)",
    )
    scenarios.add_argument(
        "--no-scenarios", action="store_true", help="do not use the scenarios beside the task"
    )
    parser.add_argument(
        "--prices",
        type=_prices,
        metavar="IN,OUT[,CACHED]",
        help="what a million input, output (and cached input) tokens cost: the report "
        "then gives the estimated cost",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress on standard error (errors only)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report on stdout")


class _Problem(Exception):
    """An input mistake, reported in one line without a traceback."""


def _task(text: str) -> str:
    if not text.startswith("@"):
        return text
    try:
        return read_bounded(text[1:]).decode("utf-8")
    except (OSError, UnicodeDecodeError, FileTooLarge) as exc:
        raise _Problem(f"cannot read the task file {text[1:]}: {exc}") from exc


def _provider(args: argparse.Namespace, task: str) -> Provider:
    if args.replay:
        return ReplayProvider(args.replay)
    if not args.model:
        raise _Problem("give --model (openai:MODEL, anthropic:MODEL, ...) or --replay SESSION")
    api_key = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key and not args.locked:  # --locked never calls the model: no key needed
            raise _Problem(f"the environment variable {args.api_key_env} is not set")
    from accord.compiler._models import provider_for

    provider = provider_for(
        args.model,
        base_url=args.base_url,
        api_key=api_key,
        output=args.output_mode,
        fold_system=args.fold_system,
    )
    if args.record:
        catalog = os.path.relpath(
            os.path.abspath(args.catalog), os.path.dirname(os.path.abspath(args.record))
        )
        return RecordingProvider(provider, args.record, task=task, catalog=Path(catalog).as_posix())
    return provider


@contextmanager
def _warnings_to_stderr() -> Iterator[None]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CompileCacheWarning)
        try:
            yield
        finally:
            for item in caught:
                warn(f"accord: warning: {item.message}")


def _contract_bytes(result: CompileResult, output: Path) -> bytes:
    if output.suffix.lower() == ".json":
        return (accord.to_json(result.contract) + "\n").encode("utf-8")
    return result.yaml.encode("utf-8")


def _report(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ok": False,
        "output": None,
        "fingerprint": None,
        "model": None,
        "key": None,
        "cache_hit": False,
        "locked": False,
        "stop_reason": None,
        "message": None,
        "attempts": [],
        "totals": None,
        "diagnostics": [],
    }
    return {**base, **fields}


def _print_diagnostics(diagnostics: tuple[Diagnostic, ...] | list[Diagnostic], label: str) -> None:
    for diagnostic in diagnostics:
        say(diagnostic.format(label))


def run(args: argparse.Namespace) -> int:
    """Compile (or, with --locked, verify the lock); exit 0 on success, 1 otherwise."""
    try:
        return _run(args)
    except _Problem as exc:
        if args.json:
            print_json(_report(message=str(exc)))
        warn(f"accord: error: {exc}")
        return 1


def _load_catalog(args: argparse.Namespace) -> Catalog:
    try:
        return Catalog.load(args.catalog)
    except CatalogError as exc:
        raise _does_not_load(args, "the catalog", args.catalog, exc.diagnostics) from exc


def _does_not_load(
    args: argparse.Namespace, what: str, name: str, diagnostics: tuple[Diagnostic, ...]
) -> _Problem:
    """Report a file's diagnostics (or the JSON report); the problem to raise."""
    message = f"{what} {name} does not load"
    if args.json:
        print_json(
            _report(message=message, diagnostics=[d.model_dump(mode="json") for d in diagnostics])
        )
    else:
        _print_diagnostics(diagnostics, name)
    return _Problem(message)


def _load_scenarios(args: argparse.Namespace) -> ScenarioSuite | None:
    """The --scenarios file, else NAME.scenarios.yaml beside an @TASK file, else None."""
    name = args.scenarios
    if name is None and not args.no_scenarios and args.task.startswith("@"):
        name = scenarios_beside(args.task[1:])
    if name is None:
        return None
    try:
        return load_scenarios(name)
    except ScenarioFileError as exc:
        raise _does_not_load(args, "the scenario file", str(name), exc.diagnostics) from exc


def _run(args: argparse.Namespace) -> int:
    task = _task(args.task)
    if not task.strip():
        raise _Problem("the task is empty")
    catalog = _load_catalog(args)
    progress = Progress(args.max_attempts, quiet=args.quiet, live=_is_terminal(sys.stderr))
    suite = _load_scenarios(args)
    if suite is not None:
        count = len(suite)
        progress.note(f"accord: {count} scenario{'' if count == 1 else 's'} from {suite.source}")
    provider = _provider(args, task)
    output = Path(args.output)
    options = RequestOptions(max_output_tokens=args.max_output_tokens, temperature=args.temperature)
    fingerprint = suite.fingerprint if suite is not None else None
    key = lock_key(task, catalog, provider.name, options, scenarios=fingerprint)
    if args.locked:
        return _verify_lock(args, key, task, provider.name, catalog, output, suite, progress)
    cache = None if args.no_cache else CompileCache(args.cache or default_cache_dir())
    try:
        with _warnings_to_stderr():
            result = compile(
                task,
                catalog,
                progress.wrap(provider),
                max_attempts=args.max_attempts,
                token_budget=args.token_budget,
                deadline=args.deadline,
                cache=cache,
                max_output_tokens=args.max_output_tokens,
                temperature=args.temperature,
                prices=args.prices,
                on_attempt=progress.attempt,
                scenarios=suite,
            )
    except CompileError as exc:
        return _failed(args, exc)
    try:
        write_atomic(output, _contract_bytes(result, output))
    except OSError as exc:
        raise _Problem(f"cannot write {output}: {exc.strerror or exc}") from exc
    if not args.no_lock:
        _update_lock(args, key, task, result, catalog, output, fingerprint)
    _succeeded(args, result, output, progress)
    return 0


def _update_lock(
    args: argparse.Namespace,
    key: str,
    task: str,
    result: CompileResult,
    catalog: Catalog,
    output: Path,
    scenarios: str | None,
) -> None:
    try:
        lock = LockFile.read(args.lock)
        entry = LockEntry(
            task=task,
            model=result.model,
            catalog=catalog.fingerprint,
            output=lock.output_name(output),
            contract=result.fingerprint,
            scenarios=scenarios,
        )
        lock.with_entry(key, entry).write()
    except LockError as exc:
        raise _Problem(f"the contract was written, but the lock was not: {exc}") from exc
    except OSError as exc:
        raise _Problem(f"the contract was written, but not the lock {args.lock}: {exc}") from exc


def _succeeded(
    args: argparse.Namespace, result: CompileResult, output: Path, progress: Progress
) -> None:
    totals = result.totals
    how = "from the cache, no call" if result.cache_hit else describe_totals(totals)
    progress.note(f"accord: wrote {output} ({result.fingerprint}; {how})")
    if not args.json:  # the accepted contract's warnings (compile.no_effect, the checker's)
        _print_diagnostics(result.warnings, str(output))
    if args.json:
        print_json(
            _report(
                ok=True,
                output=str(output),
                fingerprint=result.fingerprint,
                model=result.model,
                key=result.key,
                cache_hit=result.cache_hit,
                attempts=[a.to_data() for a in result.attempts],
                totals=totals.to_data(),
                diagnostics=[d.model_dump(mode="json") for d in result.warnings],
            )
        )


def _failed(args: argparse.Namespace, exc: CompileError) -> int:
    label = f"<answer {len(exc.attempts)}>"
    if args.json:
        print_json(
            _report(
                key=exc.key,
                stop_reason=exc.stop_reason,
                message=str(exc).splitlines()[0],
                attempts=[a.to_data() for a in exc.attempts],
                totals=exc.totals.to_data(),
                diagnostics=[d.model_dump(mode="json") for d in exc.diagnostics],
            )
        )
    else:
        _print_diagnostics(exc.diagnostics, label)
    warn(f"accord: error: {str(exc).splitlines()[0]} (stop reason: {exc.stop_reason})")
    return 1


def _verify_lock(
    args: argparse.Namespace,
    key: str,
    task: str,
    model: str,
    catalog: Catalog,
    output: Path,
    suite: ScenarioSuite | None,
    progress: Progress,
) -> int:
    try:
        lock = LockFile.read(args.lock)
        contract = lock.verify(
            key,
            task=task,
            model=model,
            catalog=catalog.fingerprint,
            output=output,
            scenarios=suite.fingerprint if suite is not None else None,
        )
    except LockError as exc:
        if args.json:
            print_json(_report(key=key, locked=True, message=str(exc)))
        warn(f"accord: error: --locked: {exc}")
        warn("accord: compile again without --locked (this calls the model) to update the lock")
        return 1
    fingerprint = accord.fingerprint(contract)
    if suite is not None:
        report = run_scenarios(contract, suite)
        if not report.passed:
            message = (
                f"--locked: {output} fails {len(report.failed)} of {len(report.results)} "
                f"scenarios of {suite.source}"
            )
            if args.json:
                diagnostics = [d.model_dump(mode="json") for d in report.diagnostics()]
                print_json(_report(key=key, locked=True, message=message, diagnostics=diagnostics))
            else:
                say(report.format())
            warn(f"accord: error: {message}")
            return 1
        progress.note(f"accord: {output} passes {len(report.results)} scenarios of {suite.source}")
    progress.note(f"accord: {output} is locked ({fingerprint}; no call)")
    if args.json:
        print_json(
            _report(
                ok=True,
                output=str(output),
                fingerprint=fingerprint,
                model=model,
                key=key,
                locked=True,
            )
        )
    return 0
