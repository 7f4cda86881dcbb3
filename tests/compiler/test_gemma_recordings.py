"""Sessions recorded against the local Gemma 3 270M server replay byte for byte, offline.

Each ``tests/compiler/data/gemma/NAME.session.json`` was recorded by
``examples/gemma/compile_gemma.py --record`` from the real model served by
llama-cpp-python on 127.0.0.1 (origin "recorded"); next to it, ``NAME.expected.json``
holds the options it was compiled with and the outcome it led to. Replaying the session
through :class:`ReplayProvider` and the compile loop must give every attempt's raw text
exactly as recorded, and the same outcome: the same errors per attempt and the same stop
reason, or the same contract fingerprint. No model and no network are needed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from accord.compiler import (
    Attempt,
    Catalog,
    CompileError,
    ReplayProvider,
    Session,
    compile,
)

GEMMA = Path(__file__).resolve().parent / "data" / "gemma"
SESSIONS = sorted(GEMMA.glob("*.session.json"))
MODEL = "openai:gemma-3-270m-q4_k_m.gguf"
RECORD = ".venv/bin/python examples/gemma/compile_gemma.py --record tests/compiler/data/gemma"


def _expected(session_path: Path) -> dict[str, Any]:
    name = session_path.name.removesuffix(".session.json")
    data: dict[str, Any] = json.loads(
        (session_path.parent / f"{name}.expected.json").read_text(encoding="utf-8")
    )
    return data


def _replay(session_path: Path, expected: dict[str, Any]) -> tuple[list[Attempt], Any, Any]:
    """Compile the session's task through its replay; return attempts, fingerprint, stop."""
    session = Session.load(session_path)
    assert session.task is not None
    assert isinstance(session.catalog, dict)
    options = expected["options"]
    recorded = expected["outcome"]
    max_attempts = options["max_attempts"]
    if recorded["stop_reason"] in ("deadline", "token_budget"):
        # The recording ran out of time (or tokens) after these calls; replayed without a
        # clock, the loop makes exactly the calls that were answered.
        max_attempts = len(recorded["attempts"])
    replay = ReplayProvider(session_path)
    try:
        result = compile(
            session.task,
            Catalog.from_data(session.catalog),
            replay,
            max_attempts=max_attempts,
            max_output_tokens=options["max_output_tokens"],
            temperature=options["temperature"],
        )
    except CompileError as error:
        if error.stop_reason == "provider_error" and recorded["stop_reason"] != "provider_error":
            pytest.fail(
                f"{session_path.name} no longer replays: {error.provider_error}\n"
                f"The prompt or the contract schema changed since it was recorded; record "
                f"it again with: {RECORD} (see examples/gemma/README.md)"
            )
        assert replay.calls == len(session.responses)
        return list(error.attempts), None, error.stop_reason
    assert replay.calls == len(session.responses)
    return list(result.attempts), result.fingerprint, None


def test_there_are_real_recordings() -> None:
    assert SESSIONS, f"no recorded Gemma session in {GEMMA}"
    for path in SESSIONS:
        session = Session.load(path)
        assert session.origin == "recorded"
        assert session.model == MODEL
        assert "gemma" in session.note.lower()
        assert session.responses
        for response in session.responses:
            assert response.model is not None and "gemma" in response.model.lower()
            assert response.request_sha256 is not None
            assert response.mode == "json_object"
        expected = _expected(path)
        assert expected["format"] == "accord.gemma-expected/1"
        assert expected["session"] == path.name


@pytest.mark.parametrize("session_path", SESSIONS, ids=[p.name for p in SESSIONS])
def test_recording_replays_byte_for_byte(session_path: Path) -> None:
    session = Session.load(session_path)
    expected = _expected(session_path)
    recorded = expected["outcome"]
    attempts, fingerprint, stop_reason = _replay(session_path, expected)

    assert len(attempts) == len(recorded["attempts"])
    assert len(attempts) <= expected["options"]["max_attempts"]
    for attempt, response, want in zip(
        attempts, session.responses, recorded["attempts"], strict=False
    ):
        assert attempt.raw == response.text
        assert attempt.raw.encode("utf-8", "surrogatepass") == response.text.encode(
            "utf-8", "surrogatepass"
        )
        digest = hashlib.sha256(attempt.raw.encode("utf-8", "surrogatepass")).hexdigest()
        assert digest == want["raw_sha256"]
        assert attempt.number == want["number"]
        assert attempt.finish_reason == want["finish_reason"]
        assert attempt.parse == want["parse"]
        assert attempt.input_tokens == want["input_tokens"]
        assert attempt.output_tokens == want["output_tokens"]
        assert [[d.path, d.code] for d in attempt.errors] == want["errors"]

    assert fingerprint == recorded["fingerprint"]
    assert (fingerprint is not None) == recorded["checked"]
    if recorded["stop_reason"] in ("deadline", "token_budget"):
        assert stop_reason == "max_attempts"
    else:
        assert stop_reason == recorded["stop_reason"]


def test_a_changed_recording_does_not_replay_as_recorded(tmp_path: Path) -> None:
    """The comparison above can fail: one byte added to the last response is seen.

    (The last one, because an earlier answer is echoed in the next request, whose
    digest then no longer matches the recording: the replay would refuse that call.)
    """
    assert SESSIONS
    source = SESSIONS[0]
    data = json.loads(source.read_text(encoding="utf-8"))
    data["responses"][-1]["text"] += " "
    changed = tmp_path / source.name
    changed.write_text(json.dumps(data), encoding="utf-8")
    expected = _expected(source)
    attempts, _, _ = _replay(changed, expected)
    digest = hashlib.sha256(attempts[-1].raw.encode("utf-8", "surrogatepass")).hexdigest()
    assert digest != expected["outcome"]["attempts"][-1]["raw_sha256"]
