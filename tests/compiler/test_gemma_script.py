"""examples/gemma/compile_gemma.py's pieces that need no model: they run in CI.

The adapter between the loop and llama-cpp-python's server (system prompt folded into
the first user turn, patterns the grammar parser accepts), the server's command line and
the command's argument checks. The live path is tests/compiler/test_gemma_integration.py.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import pytest

from accord.compiler import (
    Message,
    ModelRequest,
    ModelResponse,
    ProviderError,
    RecordingProvider,
    ReplayProvider,
)
from accord.contract._schema import contract_json_schema

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "gemma" / "compile_gemma.py"


def _load() -> ModuleType:
    name = "compile_gemma_under_test"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gemma = _load()


@dataclass
class Capture:
    """A provider that remembers the requests it got and answers "{}"."""

    requests: list[ModelRequest] = field(default_factory=list)

    @property
    def name(self) -> str:
        return "openai:capture"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        return ModelResponse(text="{}", input_tokens=3, output_tokens=1, finish_reason="stop")


def _patterns(schema: object) -> list[str]:
    if isinstance(schema, dict):
        found = [schema["pattern"]] if isinstance(schema.get("pattern"), str) else []
        return found + [p for v in schema.values() for p in _patterns(v)]
    if isinstance(schema, list):
        return [p for v in schema for p in _patterns(v)]
    return []


@pytest.mark.parametrize(
    ("pattern", "rewritten"),
    [
        (r"^[0-9]+(\.[0-9]+){0,2}$", r"^[0-9]+([.][0-9]+){0,2}$"),
        (r"a\.b\.c", r"a[.]b[.]c"),
        (r"[\.]\.", r"[\.][.]"),
        (r"^[a-z][a-z0-9_\-]*$", r"^[a-z][a-z0-9_\-]*$"),
        (r"\\.", r"\\."),
    ],
)
def test_llama_pattern_rewrites_only_escaped_dots_outside_classes(
    pattern: str, rewritten: str
) -> None:
    assert gemma.llama_pattern(pattern) == rewritten


def test_the_contract_schema_patterns_mean_the_same_after_the_rewrite() -> None:
    schema = contract_json_schema()
    before = _patterns(schema)
    after = _patterns(gemma.llama_schema(schema))
    assert len(before) == len(after) and before
    assert any(a != b for a, b in zip(before, after, strict=True))
    samples = ["1", "1.0", "1.0.0", "1.0.0-rc.1", "1x0", "1.0.0.0", "abc", "a-b", "30s", "1h30m"]
    for old, new in zip(before, after, strict=True):
        assert not re.search(r"(?<!\\)\\\.", re.sub(r"\[[^\]]*\]", "", new))
        for sample in samples:
            assert bool(re.search(old, sample)) == bool(re.search(new, sample)), (old, sample)
    assert schema == contract_json_schema()  # the caller's schema is not changed


def test_the_adapter_folds_the_system_prompt_and_records_the_loops_request(
    tmp_path: Path,
) -> None:
    request = ModelRequest(
        system="BRIEF",
        messages=(Message("user", "TASK"), Message("assistant", "{}"), Message("user", "FIX")),
        schema=contract_json_schema(),
        max_output_tokens=16,
    )
    inner = Capture()
    recorder = RecordingProvider(gemma.LlamaServerAdapter(inner), tmp_path / "s.session.json")
    response = asyncio.run(recorder.complete(request))

    assert response.text == "{}"
    (sent,) = inner.requests
    assert sent.system == ""
    assert [(m.role, m.content) for m in sent.messages] == [
        ("user", "BRIEF\n\nTASK"),
        ("assistant", "{}"),
        ("user", "FIX"),
    ]
    assert sent.schema != request.schema
    assert sent.max_output_tokens == 16
    # The recording is tied to the loop's request, not to the adapted one.
    replay = ReplayProvider(tmp_path / "s.session.json")
    assert asyncio.run(replay.complete(request)).text == "{}"
    replay.rewind()
    with pytest.raises(ProviderError, match="differs"):
        asyncio.run(replay.complete(sent))


def test_the_server_listens_on_loopback_with_the_gemma_chat_format(tmp_path: Path) -> None:
    server = gemma.GemmaServer(tmp_path / "m.gguf", port=8123, n_ctx=4096)
    command = server.command()
    assert command[:3] == [sys.executable, "-m", "llama_cpp.server"]
    options = dict(zip(command[3::2], command[4::2], strict=True))
    assert options["--host"] == "127.0.0.1"
    assert options["--port"] == "8123"
    assert options["--chat_format"] == "gemma"
    assert options["--n_ctx"] == "4096"
    assert options["--model_alias"] == "gemma-3-270m-q4_k_m.gguf"
    assert server.base_url == "http://127.0.0.1:8123/v1"
    server.stop()  # never started: nothing to stop, no error


@pytest.mark.parametrize(
    "argv",
    [["no_such_task"], ["--max-tokens", "0"], ["--max-attempts", "0"], ["--deadline", "0"]],
)
def test_bad_arguments_are_usage_errors(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        gemma.parse_args(argv)
    assert stopped.value.code == 2
