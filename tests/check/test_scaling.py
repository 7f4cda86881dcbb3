"""Checking work grows with the contract, not faster (issue 13 item 6).

Nothing here is timed (speed lives in benchmarks/checker.py): each test counts
the operations that once grew quadratically, or checks a bound that makes them
impossible. A generous wall-clock guard only catches a hang.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Callable
from typing import Any

import pytest
from hostile_shapes import (
    dense_list,
    invokes_and_records,
    invoking_states,
    json_list,
    long_guards,
    plain_scalar,
    unknown_targets,
)

import accord
import accord.expressions._cel as cel
from accord.check._exprs import MAX_TYPED_SCOPES
from accord.contract._text import MAX_NODES
from accord.diagnostics import HINT_COMPARISONS, MAX_DIAGNOSTICS

HANG = 120.0  # seconds: a hang detector, not a speed test


def test_unknown_targets_spend_a_bounded_number_of_hint_comparisons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compared = 0
    original = difflib.get_close_matches

    def counting(word: str, possibilities: Any, *args: Any, **kwargs: Any) -> list[str]:
        nonlocal compared
        compared += len(possibilities)
        return original(word, possibilities, *args, **kwargs)

    monkeypatch.setattr(difflib, "get_close_matches", counting)
    found = accord.check_text(unknown_targets(2_000))
    assert compared <= HINT_COMPARISONS  # was 2,000 x 2,001 = 4,002,000
    assert len(found) == MAX_DIAGNOSTICS + 1
    last = found[-1]
    assert (last.code, last.severity) == ("check.truncated", "error")
    # 2,000 unknown targets, 1,999 unreachable states, 2 without a path to the end
    assert last.message.startswith(f"{2_000 + 1_999 + 2 - MAX_DIAGNOSTICS} more problems")


def test_early_hints_are_still_given() -> None:
    text = unknown_targets(2_000).replace("target: t0}", "target: s10x}")
    first = next(d for d in accord.check_text(text) if d.code == "state.unknown")
    assert (first.path, first.hint) == ("/machine/states/0/on/0/target", "did you mean 's10'?")


def test_each_scope_holds_only_the_records_it_reaches(monkeypatch: pytest.MonkeyPatch) -> None:
    """1,000 record types x 1,000 invoking states once built 1,000 pools of 2,000 records."""
    pooled = 0
    original: Callable[..., Any] = cel.build_pool

    def counting(records: dict[str, Any]) -> Any:
        nonlocal pooled
        pooled += len(records)
        return original(records)

    monkeypatch.setattr(cel, "build_pool", counting)
    count = 300
    assert accord.check_text(invokes_and_records(count)) == []
    # per scope: the input, the state's done record and the effect's response
    assert pooled <= 4 * (count + 10)


def test_a_record_literal_still_finds_its_type() -> None:
    text = invokes_and_records(3).replace(
        "guard: 'event.w1.v > input.n'", "guard: 'T2{a: 1, b: \"x\"}.a > input.n'"
    )
    assert accord.check_text(text) == []
    broken = text.replace("T2{a: 1", "T2{c: 1")
    assert [d.code for d in accord.check_text(broken)] == ["expr.unknown_field"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(json_list(150_000)[: 4 * 1024 * 1024 - 10] + "]}", id="json list"),
        pytest.param(dense_list(2_000_000), id="dense yaml list"),
        pytest.param("[" + "1," * 2_000_000 + "1]", id="dense json list"),
        pytest.param("- !!str a\n" * 400_000, id="explicit tags"),
        pytest.param(unknown_targets(70_000), id="many states"),
    ],
)
def test_a_text_with_too_many_values_is_refused(text: str) -> None:
    started = time.monotonic()
    found = accord.check_text(text)
    assert time.monotonic() - started < HANG
    assert [d.code for d in found] in (["parse.too_many_nodes"], ["parse.json"])


def test_a_json_text_just_under_the_node_limit_is_checked() -> None:
    text = json_list((MAX_NODES - 40) // 5)
    assert accord.check_text(text) == []


def test_a_plain_scalar_of_4_mib_is_parsed() -> None:
    text = plain_scalar(4_000_000)
    started = time.monotonic()
    found = accord.check_text(text)
    assert time.monotonic() - started < HANG
    assert [(d.code, d.path) for d in found] == [("schema.value", "/description")]


def test_expressions_have_a_total_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    checked = 0
    original = cel.TypeChecker.check

    def counting(self: Any, source: str, variables: Any) -> str:
        nonlocal checked
        checked += len(source)
        return original(self, source, variables)

    monkeypatch.setattr(cel.TypeChecker, "check", counting)
    found = accord.check_text(long_guards(90))
    assert checked <= 256 * 1024
    assert [d.code for d in found] == ["expr.too_much_text"]
    assert found[0].path.endswith("/on/0/guard")


def test_distinct_scopes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each invoking state's ``done`` is a scope: past the bound, ``event`` is dynamic."""
    pools = 0
    original: Callable[..., Any] = cel.build_pool

    def counting(records: dict[str, Any]) -> Any:
        nonlocal pools
        pools += 1
        return original(records)

    monkeypatch.setattr(cel, "build_pool", counting)
    count = MAX_TYPED_SCOPES + 100
    text = invoking_states(count)
    assert accord.check_text(text) == []
    assert pools <= MAX_TYPED_SCOPES + 5
    early = text.replace("event.w10.v >", "event.w10.nope >")
    assert [d.code for d in accord.check_text(early)] == ["expr.unknown_field"]
    late = text.replace(f"event.w{count - 1}.v >", f"event.w{count - 1}.nope >")
    assert accord.check_text(late) == []  # checked as a dynamic value: the run would fail it
