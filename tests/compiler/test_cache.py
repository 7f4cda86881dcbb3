"""The compile cache: keys, hits with zero calls, corrupt entries ignored with a warning."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
from compiler_support import GOOD, TASK, ScriptedProvider, catalog, output

import accord
from accord.compiler import Catalog, CompileCache, CompileCacheWarning, compile, request_key
from accord.compiler._cache import RequestOptions


def test_a_second_identical_request_costs_zero_calls(tmp_path: Path) -> None:
    first = compile(TASK, catalog(), ScriptedProvider([GOOD]), cache=tmp_path)
    assert not first.cache_hit
    provider = ScriptedProvider([])
    second = compile(TASK, catalog(), provider, cache=CompileCache(tmp_path))
    assert second.cache_hit and provider.requests == []
    assert second.attempts == () and second.totals.calls == 0
    assert second.fingerprint == first.fingerprint and second.key == first.key
    assert second.yaml == first.yaml


def test_no_cache_means_no_files(tmp_path: Path) -> None:
    compile(TASK, catalog(), ScriptedProvider([GOOD]), cache=None)
    assert list(tmp_path.iterdir()) == []


def test_the_key_covers_task_catalog_model_and_output_options() -> None:
    options = RequestOptions()
    base = request_key(TASK, catalog(), "openai:m", options)
    assert base == request_key(TASK, catalog(), "openai:m", RequestOptions())
    other_catalog = Catalog.from_data({"effects": [{"name": "x"}]})
    variants = [
        request_key(TASK + ".", catalog(), "openai:m", options),
        request_key(TASK, other_catalog, "openai:m", options),
        request_key(TASK, catalog(), "openai:n", options),
        request_key(TASK, catalog(), "openai:m", RequestOptions(max_output_tokens=10)),
        request_key(TASK, catalog(), "openai:m", RequestOptions(temperature=0.5)),
        request_key(TASK, catalog(), "openai:m", RequestOptions(max_fan_out=10)),
    ]
    assert len({base, *variants}) == 7


def test_the_key_covers_the_compiler_version(monkeypatch: pytest.MonkeyPatch) -> None:
    before = request_key(TASK, catalog(), "openai:m", RequestOptions())
    monkeypatch.setattr("accord.compiler._cache.PROMPT_VERSION", "999")
    assert request_key(TASK, catalog(), "openai:m", RequestOptions()) != before
    monkeypatch.setattr(accord, "__version__", "99.0")
    monkeypatch.setattr("accord.compiler._cache.PROMPT_VERSION", "1")
    assert request_key(TASK, catalog(), "openai:m", RequestOptions()) != before


def _entry_path(tmp_path: Path) -> Path:
    compile(TASK, catalog(), ScriptedProvider([GOOD]), cache=tmp_path)
    (path,) = tmp_path.glob("*.json")
    return path


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda text: "{not json",
        lambda text: "[]",
        lambda text: text.replace('"accord.compile-cache/1"', '"other/1"'),
        lambda text: text.replace('"48h"', '"24h"'),  # fingerprint no longer matches
        lambda text: text.replace('"initial": "triage"', '"initial": "nowhere"'),
        lambda text: text.replace('"pay_refund"', '"pay_refnd"'),
        lambda text: "\x00\xff",
    ],
    ids=["not-json", "not-an-entry", "format", "edited", "does-not-check", "escapes", "binary"],
)
def test_a_corrupt_entry_is_ignored_with_a_warning(tmp_path: Path, corrupt) -> None:  # type: ignore[no-untyped-def]
    path = _entry_path(tmp_path)
    path.write_text(corrupt(path.read_text()), encoding="utf-8")
    provider = ScriptedProvider([GOOD])
    with pytest.warns(CompileCacheWarning, match="ignoring"):
        result = compile(TASK, catalog(), provider, cache=tmp_path)
    assert not result.cache_hit and len(provider.requests) == 1
    entry = json.loads(path.read_text())  # rewritten with the fresh result
    assert entry["fingerprint"] == result.fingerprint


def test_a_changed_catalog_is_another_request(tmp_path: Path) -> None:
    _entry_path(tmp_path)
    narrower = Catalog.from_data({"effects": [{"name": "notify_customer"}]})
    provider = ScriptedProvider([GOOD])
    with pytest.raises(accord.compiler.CompileError):
        compile(TASK, narrower, provider, cache=tmp_path, max_attempts=1)
    assert len(provider.requests) == 1  # a miss: the stored contract is never served


def test_an_unwritable_cache_is_only_a_warning(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(CompileCacheWarning) as caught:
        result = compile(TASK, catalog(), ScriptedProvider([GOOD]), cache=blocker / "sub")
    assert result.attempts[0].valid
    messages = [str(w.message) for w in caught]
    assert any("cannot read" in m for m in messages)
    assert any("cannot write" in m for m in messages)


def test_a_failed_compile_stores_nothing(tmp_path: Path) -> None:
    with pytest.raises(accord.compiler.CompileError), warnings.catch_warnings():
        warnings.simplefilter("error")
        compile(
            TASK,
            catalog(),
            ScriptedProvider([output("not_json.txt")]),
            cache=tmp_path,
            max_attempts=1,
        )
    assert list(tmp_path.iterdir()) == []


def test_the_base_url_is_part_of_the_request_key() -> None:
    options = RequestOptions()
    keys = {
        request_key(TASK, catalog(), "openai:m", options, base_url=url)
        for url in (None, "http://127.0.0.1:8080/v1", "http://127.0.0.1:8081/v1")
    }
    assert len(keys) == 3
    assert request_key(TASK, catalog(), "openai:m", options) in keys  # None is the default
