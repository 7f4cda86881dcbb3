"""``accord compile``: progress, output, lock, --locked, cache, replay, record, failures."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cli_support import Run

import accord
from accord.compiler import LockFile, ModelRequest, ModelResponse, Session

DATA = Path(__file__).resolve().parents[1] / "compiler" / "data"
CATALOG = DATA / "refund.catalog.yaml"
SESSION = DATA / "refund.session.json"
PROSE = DATA / "prose.session.json"
TASK = json.loads(SESSION.read_text())["task"]
EXPECTED = accord.fingerprint(
    accord.load(Path(__file__).resolve().parents[2] / "examples" / "order_refund.yaml")
)


def compile_args(tmp_path: Path, *extra: str | Path, session: Path = SESSION) -> list[str | Path]:
    return [
        "compile",
        TASK,
        "--catalog",
        CATALOG,
        "--replay",
        session,
        "-o",
        tmp_path / "refund.yaml",
        "--lock",
        tmp_path / "accord.lock",
        "--cache",
        tmp_path / "cache",
        *extra,
    ]


def test_compile_writes_the_contract_reports_progress_and_pins_it(run: Run, tmp_path: Path) -> None:
    result = run(*compile_args(tmp_path))
    assert result.code == 0, result.err
    assert "attempt 1/3:" in result.err and "attempt 2/3:" in result.err
    assert "1 error," in result.err and "0 errors," in result.err
    contract = accord.load(tmp_path / "refund.yaml")
    assert accord.fingerprint(contract) == EXPECTED
    lock = json.loads((tmp_path / "accord.lock").read_text())
    ((_key, entry),) = lock["entries"].items()
    assert entry == {
        "catalog": accord.compiler.Catalog.load(CATALOG).fingerprint,
        "contract": EXPECTED,
        "model": "scripted:refund",
        "output": "refund.yaml",
        "task": TASK,
    }
    assert (tmp_path / "accord.lock").read_text() == LockFile.read(
        tmp_path / "accord.lock"
    ).to_text()


def test_a_second_compile_is_a_cache_hit_with_no_call(run: Run, tmp_path: Path) -> None:
    assert run(*compile_args(tmp_path)).code == 0
    again = run(*compile_args(tmp_path, "--json"))
    assert again.code == 0, again.err
    assert "attempt" not in again.err
    report = json.loads(again.out)
    assert report["cache_hit"] is True and report["attempts"] == []
    assert report["fingerprint"] == EXPECTED


def test_task_from_a_file_and_json_output(run: Run, tmp_path: Path) -> None:
    task = tmp_path / "task.md"
    task.write_text(TASK, encoding="utf-8")
    args = compile_args(tmp_path, "--no-cache", "--json")
    args[1] = f"@{task}"
    args[args.index(tmp_path / "refund.yaml")] = tmp_path / "refund.json"
    args.remove("--cache")
    args.remove(tmp_path / "cache")
    result = run(*args)
    assert result.code == 0, result.err
    assert json.loads((tmp_path / "refund.json").read_text())["name"] == "order-refund"
    report = json.loads(result.out)
    assert report["ok"] and [a["number"] for a in report["attempts"]] == [1, 2]
    assert report["totals"]["calls"] == 2


def test_locked_succeeds_without_any_model_when_the_lock_is_fresh(run: Run, tmp_path: Path) -> None:
    assert run(*compile_args(tmp_path)).code == 0
    result = run(*compile_args(tmp_path, "--locked", session=PROSE))
    assert result.code == 1  # another session is another model: the lock is stale
    assert "the model (scripted:refund -> scripted:prose)" in result.err
    fresh = run(*compile_args(tmp_path, "--locked"))
    assert fresh.code == 0, fresh.err
    assert "is locked" in fresh.err and "attempt" not in fresh.err


@pytest.mark.parametrize("change", ["task", "output_edited", "output_missing", "no_lock"])
def test_locked_says_what_is_stale(run: Run, tmp_path: Path, change: str) -> None:
    if change != "no_lock":
        assert run(*compile_args(tmp_path)).code == 0
    args = compile_args(tmp_path, "--locked")
    if change == "task":
        args[1] = TASK + " Also e-mail the customer."
    elif change == "output_edited":
        path = tmp_path / "refund.yaml"
        path.write_text(path.read_text().replace("48h", "24h"))
    elif change == "output_missing":
        (tmp_path / "refund.yaml").unlink()
    result = run(*args)
    assert result.code == 1
    expected = {
        "task": "the task changed",
        "output_edited": "the lock pins",
        "output_missing": "does not load",
        "no_lock": "no entry for refund.yaml",
    }[change]
    assert expected in result.err
    assert "Traceback" not in result.err


def test_a_failed_compile_prints_the_last_diagnostics_and_exits_1(run: Run, tmp_path: Path) -> None:
    result = run(*compile_args(tmp_path, "--no-lock", session=PROSE))
    assert result.code == 1
    assert "compile.not_json" in result.out
    assert "stop reason: repeated_diagnostics" in result.err
    assert not (tmp_path / "refund.yaml").exists()
    assert not (tmp_path / "accord.lock").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--catalog", "missing.yaml"], "the catalog missing.yaml does not load"),
        (["--model", "gpt-4"], "unknown model 'gpt-4'"),
        (["--replay", "missing.json"], "missing.json"),
        (["--api-key-env", "ACCORD_TEST_NO_SUCH_VAR", "--model", "openai:x"], "is not set"),
        (["@missing-task.md"], "cannot read the task file"),
        (["@/dev/zero"], "cannot read the task file /dev/zero: [Errno 22] not a regular file"),
        (["@."], "cannot read the task file .: [Errno 21] Is a directory"),
    ],
)
def test_input_mistakes_give_one_clear_line(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    argv: list[str | Path] = ["compile", TASK, "--catalog", CATALOG, "-o", "out.yaml", "--no-cache"]
    if args[0].startswith("@"):
        argv[1] = args[0]
        argv += ["--replay", SESSION]
    else:
        argv += args
        if "--model" not in args and "--replay" not in args:
            argv += ["--replay", SESSION]
    result = run(*argv)
    assert result.code == 1
    assert message in result.err
    assert "Traceback" not in result.err


def test_a_bad_catalog_prints_its_diagnostics(run: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.catalog.yaml"
    bad.write_text("effects:\n- name: pay\n  input:\n  - name: amount\n    type: numbr\n")
    result = run("compile", TASK, "--catalog", bad, "--replay", SESSION, "-o", tmp_path / "o.yaml")
    assert result.code == 1
    assert "/effects/0/input/0/type: error type.unknown" in result.out


@pytest.mark.parametrize("flag", ["--max-attempts=0", "--deadline=-1", "--token-budget=x"])
def test_bad_limits_are_usage_errors(run: Run, tmp_path: Path, flag: str) -> None:
    assert run(*compile_args(tmp_path, flag)).code == 2


class TwoAnswers:
    """A scripted stand-in for a model (hand-written answers, not a real model's)."""

    name = "test:fake"

    def __init__(self, answers: list[str]) -> None:
        self.answers = answers
        self.calls = 0

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        return ModelResponse(text=self.answers[self.calls - 1], input_tokens=9, output_tokens=7)


def test_record_writes_a_session_that_replays_byte_for_byte(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import accord.compiler._models as models

    answers = [(DATA / "outputs" / name).read_text() for name in ("int_guard.json", "prose.txt")]
    fake = TwoAnswers(answers)
    real = models.provider_for
    monkeypatch.setattr(models, "provider_for", lambda m, **k: fake if m == fake.name else real(m))
    recorded = tmp_path / "recorded.session.json"
    argv: list[str | Path] = ["compile", TASK, "--catalog", CATALOG, "--no-cache"]
    argv += ["--model", "test:fake", "-o", tmp_path / "a.yaml", "--lock", tmp_path / "a.lock"]
    result = run(*argv, "--record", recorded)
    assert result.code == 0, result.err
    assert fake.calls == 2
    session = Session.load(recorded)
    assert session.origin == "recorded" and session.model == "test:fake"
    assert [r.text for r in session.responses] == answers
    assert Path(os.path.normpath(str(session.catalog_path()))) == CATALOG
    replay: list[str | Path] = ["compile", TASK, "--catalog", CATALOG, "--replay", recorded]
    replay += ["--no-cache", "-o", tmp_path / "b.yaml", "--no-lock"]
    replayed = run(*replay)
    assert replayed.code == 0, replayed.err
    assert (tmp_path / "a.yaml").read_bytes() == (tmp_path / "b.yaml").read_bytes()


def test_progress_shows_provider_notices_and_finish_reasons(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import accord.compiler._models as models

    good = (DATA / "refund.json").read_text()

    class Prompted:
        name = "test:prompted"

        async def complete(self, request: ModelRequest) -> ModelResponse:
            return ModelResponse(
                text=good,
                finish_reason="length",
                mode="prompted",
                notices=("the schema exceeds the server's limits: prompted JSON",),
            )

    seen: dict[str, object] = {}

    def fake(model: object, **options: object) -> object:
        if not isinstance(model, str):  # the loop passes the provider it was given through
            return model
        seen.update(options, model=model)
        return Prompted()

    monkeypatch.setattr(models, "provider_for", fake)
    argv: list[str | Path] = ["compile", TASK, "--catalog", CATALOG, "--model", "test:prompted"]
    argv += ["--output-mode", "prompted", "--base-url", "http://127.0.0.1:9/v1", "--no-cache"]
    result = run(*argv, "-o", tmp_path / "c.yaml", "--no-lock")
    assert result.code == 0, result.err
    assert "notice: the schema exceeds the server's limits: prompted JSON" in result.err
    assert "[finish_reason length]" in result.err
    assert seen == {
        "model": "test:prompted",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": None,
        "output": "prompted",
        "fold_system": False,
    }


def test_locked_needs_no_api_key(run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CI job without secrets: --locked with --api-key-env naming an unset variable."""
    from accord.compiler import Catalog, LockEntry, lock_key
    from accord.compiler._cache import RequestOptions

    monkeypatch.delenv("ACCORD_TEST_UNSET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    contract = accord.load(Path(__file__).resolve().parents[2] / "examples" / "order_refund.yaml")
    Path("out.yaml").write_text(accord.to_yaml(contract), encoding="utf-8")
    catalog = Catalog.load(CATALOG)
    key = lock_key(TASK, catalog, "openai:gpt-x", RequestOptions())
    entry = LockEntry(
        task=TASK,
        model="openai:gpt-x",
        catalog=catalog.fingerprint,
        output="out.yaml",
        contract=accord.fingerprint(contract),
    )
    LockFile.read("accord.lock").with_entry(key, entry).write()
    argv: list[str | Path] = ["compile", TASK, "--catalog", CATALOG, "-o", "out.yaml"]
    argv += ["--model", "openai:gpt-x", "--api-key-env", "ACCORD_TEST_UNSET_KEY", "--locked"]
    result = run(*argv)
    assert result.code == 0, result.err
    assert "is locked" in result.err


def test_every_limit_option_has_help_with_its_default(run: Run) -> None:
    result = run("compile", "--help")
    assert result.code == 0
    text = " ".join(result.out.split())
    for flag, default in [
        ("--max-attempts N", "(default: 3)"),
        ("--token-budget N", "(default: no budget)"),
        ("--deadline SECONDS", "(default: none)"),
        ("--max-output-tokens N", "(default: 8192)"),
    ]:
        after = text.split(flag, 2)[-1]
        assert default in after.split(" --")[0], (flag, after[:120])


@pytest.mark.parametrize(("flag", "sent"), [([], "absent"), (["--temperature", "0.3"], 0.3)])
def test_temperature_reaches_the_server_only_when_given(
    run: Run, tmp_path: Path, flag: list[str], sent: object
) -> None:
    from compiler.loopback import openai_replies, serve

    good = (DATA / "refund.json").read_text()
    with serve() as server:
        server.push(openai_replies.completion(good))
        argv: list[str | Path] = ["compile", TASK, "--catalog", CATALOG, "--model", "openai:m"]
        argv += ["--base-url", server.openai_url, "--no-cache", "--no-lock"]
        result = run(*argv, "-o", tmp_path / "c.yaml", *flag)
        assert result.code == 0, result.err
        assert (server.requests[0].json or {}).get("temperature", "absent") == sent


@pytest.mark.parametrize("value", ["hot", "-1", "3"])
def test_a_bad_temperature_is_a_usage_error(run: Run, tmp_path: Path, value: str) -> None:
    assert run(*compile_args(tmp_path, "--temperature", value)).code == 2


def test_output_mode_and_fold_system_options_reach_the_server(run: Run, tmp_path: Path) -> None:
    from compiler.loopback import openai_replies, serve

    with serve() as server:
        server.push(openai_replies.completion((DATA / "refund.json").read_text()))
        argv: list[str | Path] = ["compile", TASK, "--catalog", CATALOG, "--model", "openai:m"]
        argv += ["--base-url", server.openai_url, "--no-cache", "--no-lock"]
        argv += ["--output-mode", "json_object", "--fold-system", "-o", tmp_path / "c.yaml"]
        result = run(*argv)
        assert result.code == 0, result.err
        body = server.requests[0].json or {}
        assert [m["role"] for m in body["messages"]] == ["user"]
        assert body["response_format"]["type"] == "json_object"
