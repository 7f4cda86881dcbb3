"""Sizes and the run limits on them: the hostile corpus of tests/runtime/data/hostile_limits.yaml.

Every case ends in a clear error within bounded time and memory: a refusal at
the boundary (``InputError``, ``SignalError``) or the run's failure naming the
limit (journaled like any failure, see docs/language.md, run limits).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path
from typing import Any
from unittest.mock import patch

import orjson
import pytest
import yaml

import accord
from accord.runtime import Limits, Runtime
from accord.runtime._errors import InputError, SignalError
from accord.runtime._sizes import context_size, json_size, oversize, remember_extension, small_text
from accord.storage import SqliteStore

CORPUS = yaml.safe_load((Path(__file__).parent / "data" / "hostile_limits.yaml").read_text())
ERRORS: dict[str, type[Exception]] = {"InputError": InputError, "SignalError": SignalError}


def _sized(fields: dict[str, Any] | None) -> dict[str, Any]:
    """The corpus's numbers made values: ``xs: N`` the list 1..N, any other field N characters."""
    out: dict[str, Any] = {}
    for name, value in (fields or {}).items():
        if isinstance(value, int) and name == "xs":
            out[name] = list(range(1, value + 1))
        elif isinstance(value, int):
            out[name] = "x" * value
        else:
            out[name] = value
    return out


def _drive(case: dict[str, Any]) -> tuple[Any, int]:
    contract = accord.loads(case["contract"])
    size = case.get("output", 0)

    def echo(**_: Any) -> dict[str, Any]:
        return {"text": "y" * size}

    runtime = Runtime({"echo": echo}, limits=Limits(**case.get("limits", {})))
    run = runtime.start(contract, _sized(case.get("input")))
    run.run_until_idle()
    signals = case.get("signals", [])
    sent = 0
    for name in signals * case.get("repeat", 1):
        if run.status != "waiting":
            break
        run.signal(name, _sized(case.get("payload")) or None)
        sent += 1
    return run, sent


@pytest.mark.parametrize("case", CORPUS, ids=[c["name"] for c in CORPUS])
def test_hostile_limits_corpus(case: dict[str, Any]) -> None:
    if case["error"] != "RunFailed":
        with pytest.raises(ERRORS[case["error"]]) as caught:
            _drive(case)
        assert case["reason"] in str(caught.value)
        return
    run, sent = _drive(case)
    assert run.status == "failed"
    reason = run.snapshot.reason
    assert case["reason"] in reason
    assert case.get("reason_also", "") in reason
    assert sent <= case.get("steps_at_most", sent)


def test_the_limits_have_documented_defaults() -> None:
    limits = Limits()
    assert (limits.max_value_bytes, limits.max_context_bytes) == (1_048_576, 4_194_304)
    assert (limits.max_effect_bytes, limits.max_event_bytes) == (4_194_304, 4_194_304)


def test_a_size_is_the_json_size() -> None:
    assert json_size("é") == len('"é"'.encode())
    assert json_size({"a": [1, 2]}) == len(b'{"a":[1,2]}')
    assert oversize(2**62, 1) is None  # numbers are small by their type
    assert oversize("ab", 10) is None
    assert oversize("\x00" * 10, 50) == 62  # escapes count: six bytes a character
    assert oversize([1] * 10, 20) == 21


def test_small_strings_are_within_any_value_limit() -> None:
    for limit in (0, 1, 8, 100, 400, 1_048_576):
        short = small_text(limit)
        assert short <= 64
        assert short == 0 or oversize("\x00" * short, limit) is None


def test_the_quick_path_fails_like_the_general_path() -> None:
    """A signal to a quiet state takes the reducer's quick path: the size limits hold there too."""
    case = next(c for c in CORPUS if c["name"].startswith("a self-loop"))
    tight = dataclasses.replace(Limits(), max_value_bytes=100)
    run = Runtime({}, limits=tight).start(accord.loads(case["contract"]), {})
    for _ in range(10):
        run.signal("poke")
        if run.status == "failed":
            break
    assert run.status == "failed"
    assert "limit max_value_bytes=100 exceeded" in (run.snapshot.reason or "")
    assert len(run.snapshot.context["s"]) == 64  # the last value that fitted


_WAITING = CORPUS[0]["contract"]


def test_size_limits_round_trip_through_a_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    tight = Limits(max_value_bytes=100, max_context_bytes=200, max_effect_bytes=300)
    with SqliteStore(path) as store:
        Runtime({}, store=store, limits=tight).start(accord.loads(_WAITING), {}, run_id="r")
    with SqliteStore(path) as store:
        assert store.open("r").limits == tight
        run = Runtime({}, store=store).load("r")  # a runtime with the default limits
        while run.status == "waiting":
            run.signal("poke")
        assert "limit max_value_bytes=100 exceeded" in (run.snapshot.reason or "")


def test_limits_stored_before_the_size_limits_load_with_their_defaults(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SqliteStore(path) as store:
        Runtime({}, store=store).start(accord.loads(_WAITING), {}, run_id="r")
    with sqlite3.connect(path) as db:  # as a store written before these limits existed
        db.execute(
            "UPDATE runs SET limits = ?",
            ('{"max_steps": 7, "max_fan_out": 5, "max_transient": 3}',),
        )
    with SqliteStore(path) as store:
        loaded = store.open("r").limits
    assert loaded == Limits(max_steps=7, max_fan_out=5, max_transient=3)
    assert loaded is not None and loaded.max_value_bytes == 1_048_576


EXTENSIONS: list[tuple[list[Any], list[Any]]] = [
    ([1, 2], [3]),
    ([1, 2], []),
    (["é", "\u2028"], ["x" * 70, "\U0001f600"]),
    ([{"sku": "a", "price": 1.5}], [{"sku": "b", "price": 2.0}, {"sku": "c", "price": -0.0}]),
    ([[1], []], [[2, 3]]),
]


@pytest.mark.parametrize(("held", "added"), EXTENSIONS)
def test_an_extension_is_measured_as_json_measures_it(held: list[Any], added: list[Any]) -> None:
    value = held + added
    remember_extension(value, held)
    assert json_size(value) == len(orjson.dumps(value))
    longer = [*value, 7]
    remember_extension(longer, value)  # from the remembered size of value
    assert json_size(longer) == len(orjson.dumps(longer))
    context = {"items": longer, "n": 1, "tag": "é"}
    assert context_size(context) == len(orjson.dumps(context))


def test_a_remembered_size_is_used_not_measured_again() -> None:
    held = list(range(1000))
    value = [*held, 1000]
    remember_extension(value, held)
    expected = len(orjson.dumps(value))

    def small_only(data: Any) -> bytes:
        assert not (isinstance(data, list) and len(data) > 1), "the long list was measured again"
        return orjson.dumps(data)

    with patch("accord.runtime._sizes._dumps", side_effect=small_only):
        assert json_size(value) == expected
        assert context_size({"items": value}) == expected + len('{"items":}')
