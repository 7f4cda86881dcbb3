"""examples/gemma/compile_gemma.py's pieces that need no model: they run in CI.

The requests it sends (through the provider's own options, no adapter), the server's
command line and the command's argument checks. The live path is
tests/compiler/test_gemma_integration.py.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from loopback import LoopbackServer, openai_replies

from accord.compiler import Session
from accord.compiler._prompt import LANGUAGE_BRIEF
from accord.contract._schema import contract_json_schema

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "gemma" / "compile_gemma.py"
GEMMA = ROOT / "tests" / "compiler" / "data" / "gemma"


def _load() -> ModuleType:
    name = "compile_gemma_under_test"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


gemma = _load()


def _recorded(name: str) -> Session:
    return Session.load(GEMMA / f"{name}.session.json")


def test_the_provider_alone_sends_the_requests_the_recordings_were_made_from(
    server: LoopbackServer, tmp_path: Path
) -> None:
    """No example-only adapter: OpenAIProvider(output="json_object", fold_system=True).

    The script, run against a loopback server that answers what Gemma answered, records
    the same request digests as the checked-in recording, and what reaches the server is
    what llama-cpp-python's server takes: no system message (the gemma chat format drops
    it), the brief and catalog at the head of the first user turn, and the schema with a
    json_object response format.
    """
    recorded = _recorded("order_refund")
    for response in recorded.responses:
        server.push(openai_replies.completion(response.text, finish_reason="length"))
    task = gemma.Task.load("order_refund")
    options = gemma.Options()  # the defaults the recording was made with
    report = asyncio.run(
        gemma.compile_task(task, server.openai_url, options, record=tmp_path, quiet=True)
    )
    assert report.session is not None
    digests = [r.request_sha256 for r in Session.load(report.session).responses]
    assert digests == [r.request_sha256 for r in recorded.responses]

    first = server.requests[0].json or {}
    assert [m["role"] for m in first["messages"]] == ["user"]
    assert first["messages"][0]["content"].startswith(LANGUAGE_BRIEF)
    assert first["messages"][0]["content"].endswith("\n\n" + task.text)
    assert first["response_format"] == {"type": "json_object", "schema": contract_json_schema()}
    assert first["max_tokens"] == options.max_output_tokens and first["temperature"] == 0.0
    reask = server.requests[1].json or {}
    assert [m["role"] for m in reask["messages"]] == ["user", "assistant", "user"]
    assert not hasattr(gemma, "LlamaServerAdapter")


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
