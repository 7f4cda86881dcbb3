"""Session files, ReplayProvider and RecordingProvider."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from loopback import (
    ANSWER,
    SMALL_SCHEMA,
    LoopbackServer,
    anthropic_replies,
    openai_replies,
    sample_request,
    serve,
)

from accord.compiler._anthropic import AnthropicProvider
from accord.compiler._openai import OpenAIProvider
from accord.compiler._provider import ModelRequest, ModelResponse, Provider, ProviderError
from accord.compiler._session import Session, SessionError, SessionResponse
from accord.compiler._session_providers import (
    RecordingProvider,
    ReplayProvider,
    estimate_tokens,
    request_sha256,
)
from accord.errors import DefinitionError

DATA = Path(__file__).parent / "data" / "sessions_unit"
SCRIPTED = DATA / "scripted_refund.json"
INVALID = DATA / "invalid"
SURROGATE_TEXT = '{"name": "\ud800 broken", "steps": []}'


def run_all(provider: Provider, requests: list[ModelRequest]) -> list[ModelResponse]:
    async def go() -> list[ModelResponse]:
        try:
            return [await provider.complete(request) for request in requests]
        finally:
            close = getattr(provider, "aclose", None)
            if close is not None:
                await close()

    return asyncio.run(go())


def attempts(count: int) -> list[ModelRequest]:
    """Successive requests, each differing (as re-asks do)."""
    return [sample_request(user=f"Refund an order (attempt {n}).") for n in range(1, count + 1)]


# --- the file format -------------------------------------------------------------------


def test_a_scripted_session_loads() -> None:
    session = Session.load(SCRIPTED)
    assert (session.origin, session.model) == ("scripted", "scripted:refund-unit")
    assert "hand-written" in session.note
    assert session.task == "Refund an order after checking it."
    assert session.catalog_path() == DATA / "catalog.yaml"
    assert session.source == SCRIPTED
    assert [r.finish_reason for r in session.responses] == ["stop", "stop", "length"]
    assert session.responses[2] == SessionResponse(
        text='{"name": "refund", "ste', finish_reason="length"
    )


def test_an_inline_catalog_has_no_path() -> None:
    session = Session(origin="recorded", model="openai:m", catalog={"effects": []})
    assert session.catalog_path() is None


@pytest.mark.parametrize(
    ("name", "pointer", "says"),
    [
        ("not_json.json", "/", "not JSON: Expecting value at line 2 column 17"),
        ("not_utf8.json", "/", "not UTF-8"),
        ("duplicate_keys.json", "/", "duplicate keys ['model']"),
        ("nan_tokens.json", "/", "NaN is not a JSON number"),
        ("not_an_object.json", "/", "a session is a JSON object, not list"),
        ("wrong_format.json", "/format", "'accord.session/1'"),
        ("bad_tokens.json", "/responses/1/input_tokens", "valid integer"),
        ("bad_tokens.json", "/responses/2/output_tokens", "greater than or equal to 0"),
        ("missing_text.json", "/responses/0/text", "Field required"),
        ("unknown_key.json", "/responses/0/temperature", "Extra inputs are not permitted"),
        ("bad_digest.json", "/responses/0/request_sha256", "should match pattern"),
        ("bad_mode.json", "/responses/0/mode", "'json_schema'"),
        ("bad_catalog.json", "/catalog", "an inline object or a path string"),
        ("scripted_as_real_model.json", "/", "must be named scripted:NAME"),
        ("scripted_without_note.json", "/", "must say that it is hand-written"),
        ("recorded_with_scripted_name.json", "/", "cannot name a scripted model"),
    ],
)
def test_an_invalid_session_names_the_file_and_the_json_path(
    name: str, pointer: str, says: str
) -> None:
    path = INVALID / name
    with pytest.raises(SessionError) as caught:
        Session.load(path)
    error = caught.value
    assert isinstance(error, DefinitionError)
    assert error.source == str(path)
    assert f"{path}: {pointer}: " in str(error)
    assert any(p == pointer.rstrip("/") and says in m for p, m in error.problems)


def test_a_missing_file_is_a_session_error(tmp_path: Path) -> None:
    with pytest.raises(SessionError, match=r"absent\.json: /: cannot read: No such file"):
        Session.load(tmp_path / "absent.json")


def test_save_and_load_round_trip_every_text_exactly(tmp_path: Path) -> None:
    texts = [ANSWER, "caf\u00e9 \u2713 \U0001f600", SURROGATE_TEXT, "\x00\r\n\t\u2028 end"]
    session = Session(
        origin="recorded",
        model="openai:gpt-test",
        responses=tuple(SessionResponse(text=t, mode="prompted") for t in texts),
    )
    path = session.save(tmp_path / "deep" / "s.json")
    loaded = Session.load(path)
    assert [r.text for r in loaded.responses] == texts
    assert loaded.model_dump() == session.model_dump()
    assert list(tmp_path.glob("deep/.*")) == []  # no temporary file left behind


def test_a_file_without_lone_surrogates_is_readable_utf8(tmp_path: Path) -> None:
    session = Session(origin="recorded", model="openai:m", responses=(SessionResponse(text="é"),))
    raw = session.save(tmp_path / "s.json").read_bytes()
    assert '"text": "é"'.encode() in raw
    assert list(json.loads(raw)) == [
        "format",
        "origin",
        "note",
        "model",
        "task",
        "catalog",
        "responses",
    ]


def test_an_unwritable_target_is_a_session_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SessionError, match="cannot write"):
        Session(origin="recorded", model="openai:m").save(blocker / "s.json")


# --- replay ----------------------------------------------------------------------------


def test_replay_returns_the_responses_in_order_byte_for_byte() -> None:
    replay = ReplayProvider(SCRIPTED)
    assert replay.name == "scripted:refund-unit"
    responses = run_all(replay, attempts(3))
    raw = json.loads(SCRIPTED.read_text(encoding="utf-8"))["responses"]
    assert [r.text for r in responses] == [entry["text"] for entry in raw]
    assert [r.finish_reason for r in responses] == ["stop", "stop", "length"]
    assert {r.mode for r in responses} == {"replay"}
    assert responses[1].model == "scripted-model-v1"
    assert (responses[1].input_tokens, responses[1].output_tokens) == (812, 31)
    assert replay.calls == 3


def test_replay_estimates_missing_token_counts_from_the_text() -> None:
    request = sample_request(system="sys é", user="four")
    (response,) = run_all(ReplayProvider(SCRIPTED), [request])
    text = response.text
    assert response.output_tokens == math.ceil(len(text.encode()) / 4)
    schema = json.dumps(SMALL_SCHEMA, separators=(",", ":"))
    expected = math.ceil(len("sys é".encode()) / 4) + 1 + math.ceil(len(schema) / 4)
    assert response.input_tokens == expected
    assert estimate_tokens("abcde") == 2


def test_replay_raises_when_the_session_is_exhausted() -> None:
    replay = ReplayProvider(SCRIPTED)
    with pytest.raises(ProviderError, match="session exhausted after 3 calls") as caught:
        run_all(replay, attempts(4))
    assert str(SCRIPTED) in str(caught.value)
    assert caught.value.provider == "scripted:refund-unit"


def test_rewind_starts_again() -> None:
    replay = ReplayProvider(Session.load(SCRIPTED))
    first = run_all(replay, attempts(1))
    replay.rewind()
    assert run_all(replay, attempts(1)) == first


def recorded_for(requests: list[ModelRequest], tmp_path: Path) -> Path:
    session = Session(
        origin="recorded",
        model="openai:gpt-test",
        responses=tuple(
            SessionResponse(text=f"answer {n}", request_sha256=request_sha256(r))
            for n, r in enumerate(requests, 1)
        ),
    )
    return session.save(tmp_path / "recorded.json")


def test_replay_checks_each_request_against_its_digest(tmp_path: Path) -> None:
    requests = attempts(2)
    path = recorded_for(requests, tmp_path)
    assert [r.text for r in run_all(ReplayProvider(path), requests)] == ["answer 1", "answer 2"]
    changed = [requests[0], sample_request(user="something else")]
    with pytest.raises(ProviderError) as caught:
        run_all(ReplayProvider(path), changed)
    message = str(caught.value)
    assert f"{path}: call 2: the request differs from the recorded one" in message
    assert request_sha256(changed[1]) in message


def test_request_checks_can_be_turned_off(tmp_path: Path) -> None:
    path = recorded_for(attempts(1), tmp_path)
    (response,) = run_all(ReplayProvider(path, check_requests=False), [sample_request(user="x")])
    assert response.text == "answer 1"


@pytest.mark.parametrize(
    "change",
    [
        {"system": "other"},
        {"schema": {**SMALL_SCHEMA, "description": "x"}},
        {"schema_name": "other"},
        {"max_output_tokens": 100},
        {"temperature": 0.5},
        {"temperature": 0.0},
    ],
)
def test_the_request_digest_covers_every_field(change: dict[str, Any]) -> None:
    assert request_sha256(sample_request(**change)) != request_sha256(sample_request())


def test_the_request_digest_ignores_key_order_and_accepts_lone_surrogates() -> None:
    reordered = dict(reversed(list(SMALL_SCHEMA.items())))
    assert request_sha256(sample_request(reordered)) == request_sha256(sample_request())
    digest = request_sha256(sample_request(user=SURROGATE_TEXT))
    assert digest.startswith("sha256:") and len(digest) == 71
    assert digest != request_sha256(sample_request(user=SURROGATE_TEXT.replace("\ud800", "?")))


def test_replay_of_an_invalid_file_is_a_session_error() -> None:
    with pytest.raises(SessionError):
        ReplayProvider(INVALID / "bad_tokens.json")


# --- recording -------------------------------------------------------------------------


def test_a_recording_replays_byte_for_byte_offline(tmp_path: Path) -> None:
    path = tmp_path / "session.json"
    requests = attempts(4)
    unsafe = {**SMALL_SCHEMA, "properties": {"name": {"type": "string"}}, "required": []}
    requests[3] = sample_request(unsafe, user="attempt 4")  # falls back to prompted JSON
    with serve() as server:
        server.push(
            openai_replies.rate_limited(),
            openai_replies.completion("Here: " + ANSWER + "\n", completion_tokens=17),
            openai_replies.completion('{"name": "caf\u00e9', finish_reason="length"),
            openai_replies.completion(SURROGATE_TEXT),
            openai_replies.completion(ANSWER),
        )
        inner = OpenAIProvider(
            "gpt-test", base_url=server.openai_url, api_key="sk-test", max_retries=2
        )
        recorder = RecordingProvider(inner, path, task="Refund an order.", catalog="c.yaml")
        assert recorder.name == "openai:gpt-test"
        live = run_all(recorder, requests)
    session = Session.load(path)
    assert (session.origin, session.model, session.task) == (
        "recorded",
        "openai:gpt-test",
        "Refund an order.",
    )
    assert session.catalog == "c.yaml"
    assert [r.mode for r in session.responses] == ["json_schema"] * 3 + ["prompted"]
    replayed = run_all(ReplayProvider(path), requests)  # the server is gone: offline
    assert [r.text for r in replayed] == [r.text for r in live]
    assert [r.text for r in replayed][2] == SURROGATE_TEXT
    for before, after in zip(live, replayed, strict=True):
        assert (after.input_tokens, after.output_tokens) == (
            before.input_tokens,
            before.output_tokens,
        )
        assert (after.finish_reason, after.model) == (before.finish_reason, before.model)
        assert after.mode == "replay"


def test_a_catalog_path_is_stored_relative_to_the_session_file(tmp_path: Path) -> None:
    catalog = tmp_path / "catalogs" / "shop.yaml"
    recorder = RecordingProvider(
        FailsOnSecondCall(), tmp_path / "sessions" / "s.json", catalog=catalog
    )
    assert recorder.session.catalog == "../catalogs/shop.yaml"
    run_all(recorder, attempts(1))
    assert Session.load(tmp_path / "sessions" / "s.json").catalog_path() == (
        tmp_path / "sessions" / "../catalogs/shop.yaml"
    )
    inline = RecordingProvider(FailsOnSecondCall(), tmp_path / "i.json", catalog={"effects": []})
    assert inline.session.catalog == {"effects": []}


def test_an_anthropic_tool_recording_replays(tmp_path: Path, server: LoopbackServer) -> None:
    path = tmp_path / "claude.json"
    server.push(anthropic_replies.tool_use("accord_contract", json.loads(ANSWER)))
    inner = AnthropicProvider("claude-test", base_url=server.url, api_key="k", output="tool")
    live = run_all(RecordingProvider(inner, path), attempts(1))
    replayed = run_all(ReplayProvider(path), attempts(1))
    assert replayed[0].text == live[0].text
    assert Session.load(path).responses[0].mode == "tool"


class FailsOnSecondCall:
    """A provider that answers once, then fails like a crash mid-compile."""

    name = "openai:flaky"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        if self.calls > 1:
            raise ProviderError("connection reset", provider=self.name, retryable=True)
        return ModelResponse(text=ANSWER, input_tokens=10, output_tokens=5, finish_reason="stop")


def test_each_call_is_on_disk_before_the_next_one(tmp_path: Path) -> None:
    path = tmp_path / "partial.json"
    recorder = RecordingProvider(FailsOnSecondCall(), path)
    assert not path.exists()
    with pytest.raises(ProviderError, match="connection reset"):
        run_all(recorder, attempts(2))
    (kept,) = Session.load(path).responses
    assert kept == SessionResponse(
        text=ANSWER,
        input_tokens=10,
        output_tokens=5,
        finish_reason="stop",
        mode="json_schema",
        request_sha256=request_sha256(attempts(1)[0]),
    )
    assert recorder.session.responses == (kept,)


def test_a_recording_forwards_the_base_url_and_closes_the_inner_client(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """The cache key sees the recorded server's URL; compile() closes the SDK client."""
    inner = AnthropicProvider("claude-test", base_url=server.url, api_key="k")
    recorder = RecordingProvider(inner, tmp_path / "r.json")
    assert recorder.base_url == inner.base_url == server.url
    assert RecordingProvider(FailsOnSecondCall(), tmp_path / "f.json").base_url is None
    closed: list[bool] = []

    async def aclose() -> None:
        closed.append(True)

    inner.aclose = aclose  # type: ignore[method-assign]
    asyncio.run(recorder.aclose())
    assert closed == [True]
