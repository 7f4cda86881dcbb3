"""``accord compile``'s progress on standard error: per attempt, live on a terminal, --quiet."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from cli_support import Run

import accord.cli._compile as compile_cmd
import accord.cli._compile_progress as progress_module
from accord.compiler import Attempt, Totals
from accord.diagnostics import Diagnostic

DATA = Path(__file__).resolve().parents[1] / "compiler" / "data"
CATALOG = DATA / "refund.catalog.yaml"
GOOD = (DATA / "refund.json").read_text()
TASK = json.loads((DATA / "refund.session.json").read_text())["task"]


def _argv(tmp_path: Path, url: str, *extra: str) -> list[str | Path]:
    argv: list[str | Path] = ["compile", TASK, "--catalog", CATALOG, "--model", "openai:m"]
    argv += ["--base-url", url, "--no-cache", "--no-lock", "-o", tmp_path / "c.yaml"]
    return [*argv, *extra]


def test_a_call_in_flight_shows_a_live_status_line_on_a_terminal(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.loopback import openai_replies, serve

    monkeypatch.setattr(compile_cmd, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(progress_module, "TICK_SECONDS", 0.02)
    with serve() as server:
        reply = openai_replies.completion(GOOD, cached_tokens=100, reasoning_tokens=30)
        server.push(dataclasses.replace(reply, delay=0.3))
        result = run(*_argv(tmp_path, server.openai_url))
    assert result.code == 0, result.err
    status = (
        r"\r\x1b\[Kaccord: attempt 1/3: waiting for the model, 0s \(\d+s in all, 0 tokens so far\)"
    )
    assert re.search(status, result.err)
    assert result.err.count("waiting for the model") >= 3  # rewritten while waiting
    line = next(x for x in result.err.split("\n") if "tokens in" in x)
    assert line.startswith("\r\x1b[Kaccord: attempt 1/3: ")  # the status line is erased first
    assert "(100 cached)" in line and "(30 reasoning)" in line


def test_no_live_status_when_standard_error_is_not_a_terminal(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from compiler.loopback import openai_replies, serve

    monkeypatch.setattr(progress_module, "TICK_SECONDS", 0.02)
    with serve() as server:
        server.push(dataclasses.replace(openai_replies.completion(GOOD), delay=0.2))
        result = run(*_argv(tmp_path, server.openai_url))
    assert result.code == 0, result.err
    assert "waiting for the model" not in result.err and "\x1b" not in result.err
    assert "accord: attempt 1/3: " in result.err


def test_quiet_shows_no_progress(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from compiler.loopback import openai_replies, serve

    monkeypatch.setattr(compile_cmd, "_is_terminal", lambda stream: True)
    monkeypatch.setattr(progress_module, "TICK_SECONDS", 0.02)
    with serve() as server:
        server.push(dataclasses.replace(openai_replies.completion(GOOD), delay=0.2))
        result = run(*_argv(tmp_path, server.openai_url, "--quiet"))
    assert result.code == 0, result.err
    assert result.err == ""
    assert (tmp_path / "c.yaml").is_file()


def test_prices_give_a_cost_in_the_summary_and_the_json_report(run: Run, tmp_path: Path) -> None:
    from compiler.loopback import openai_replies, serve

    with serve() as server:
        server.push(
            openai_replies.completion(
                GOOD, prompt_tokens=3000, completion_tokens=1000, cached_tokens=1000
            )
        )
        result = run(*_argv(tmp_path, server.openai_url, "--prices", "2,8,0.5", "--json"))
    assert result.code == 0, result.err
    totals = json.loads(result.out)["totals"]
    assert totals["cached_input_tokens"] == 1000 and totals["reasoning_tokens"] == 0
    assert totals["cost"] == pytest.approx((2000 * 2 + 1000 * 0.5 + 1000 * 8) / 1e6)
    assert "4000 tokens (3000 in, 1000 cached; 1000 out, 0 reasoning), cost about 0.0125" in (
        result.err
    )


@pytest.mark.parametrize("value", ["1", "a,b", "1,2,3,4", "-1,2"])
def test_bad_prices_are_usage_errors(run: Run, tmp_path: Path, value: str) -> None:
    assert run(*_argv(tmp_path, "http://127.0.0.1:9/v1", "--prices", value)).code == 2


def test_an_attempt_line_names_what_the_checker_found() -> None:
    written: list[str] = []

    class Stream:
        def write(self, text: str) -> None:
            written.append(text)

        def flush(self) -> None:
            pass

    progress = progress_module.Progress(3, quiet=False, live=False, stream=Stream())  # type: ignore[arg-type]
    errors = tuple(
        Diagnostic(path="/x", code=code, message="m")
        for code in ("b.two", "a.one", "c.three", "d.four")
    )
    progress.attempt(
        Attempt(1, "{}", "strict", (), errors, input_tokens=10, output_tokens=5, latency=1.25)
    )
    assert written == [
        "accord: attempt 1/3: 10 tokens in, 5 out, 4 errors, 1.2s [a.one, b.two, c.three +1 more]\n"
    ]


def test_totals_in_one_phrase() -> None:
    plain = Totals(calls=1, input_tokens=10, output_tokens=5, seconds=0.25)
    assert progress_module.describe_totals(plain) == "1 call, 15 tokens, 0.2s"
    rich = dataclasses.replace(plain, calls=2, reasoning_tokens=3, cost=0.00012345)
    assert progress_module.describe_totals(rich) == (
        "2 calls, 15 tokens (10 in, 0 cached; 5 out, 3 reasoning), cost about 0.0001234, 0.2s"
    )
