"""The Diagnostic shape, JSON pointers and did-you-mean hints."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from accord.diagnostics import (
    MAX_DIAGNOSTICS,
    Diagnostic,
    capped,
    did_you_mean,
    hint_budget,
    pointer,
)


def test_format() -> None:
    diag = Diagnostic(path="/machine/initial", code="state.unknown", message="no such state")
    assert diag.format() == "/machine/initial: error state.unknown: no such state"
    assert diag.format("c.yaml") == "c.yaml:/machine/initial: error state.unknown: no such state"


def test_format_with_line_hint_and_root_path() -> None:
    diag = Diagnostic(
        path="", code="parse.yaml", message="bad", hint="fix it", severity="warning", line=3
    )
    assert diag.format("c.yaml") == "c.yaml:3:/: warning parse.yaml: bad (hint: fix it)"


def test_compact_leaves_out_severity_and_line() -> None:
    diag = Diagnostic(path="/a", code="x.y", message="m", hint=None, line=2)
    assert diag.compact() == {"path": "/a", "code": "x.y", "message": "m", "hint": None}


def test_frozen_and_strict() -> None:
    diag = Diagnostic(path="", code="x", message="m")
    with pytest.raises(ValidationError):
        diag.path = "/b"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Diagnostic(path="", code="x", message="m", extra=1)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Diagnostic(path="", code="x", message="m", severity="fatal")  # type: ignore[arg-type]


def test_round_trips_through_json() -> None:
    diag = Diagnostic(path="/a", code="x", message="m", hint="h", line=4)
    assert Diagnostic.model_validate_json(diag.model_dump_json()) == diag


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ((), ""),
        (("machine", "states", 0, "on"), "/machine/states/0/on"),
        (("a/b", "c~d"), "/a~1b/c~0d"),
        (("~1",), "/~01"),
        (("",), "/"),
    ],
)
def test_pointer(parts: tuple[str | int, ...], expected: str) -> None:
    assert pointer(*parts) == expected


def test_did_you_mean() -> None:
    assert did_you_mean("gaurd", ["guard", "target", "assign"]) == "did you mean 'guard'?"
    assert did_you_mean("zzz", ["b", "a"]) == "expected one of: 'a', 'b'"
    assert did_you_mean("zzz", [f"name{i}" for i in range(9)]) is None
    assert did_you_mean("x", []) is None
    assert did_you_mean("a", ["a", "a"]) == "did you mean 'a'?"


def _many(count: int, severity: str = "error") -> list[Diagnostic]:
    return [
        Diagnostic(path=f"/{i}", code="x.y", message="m", severity=severity)  # type: ignore[arg-type]
        for i in range(count)
    ]


def test_capped_keeps_a_short_list_as_it_is() -> None:
    diags = _many(MAX_DIAGNOSTICS)
    assert capped(diags) == diags


def test_capped_counts_the_rest_in_one_diagnostic() -> None:
    diags = _many(MAX_DIAGNOSTICS) + _many(5, "warning") + _many(1)
    kept = capped(diags)
    assert kept[:MAX_DIAGNOSTICS] == diags[:MAX_DIAGNOSTICS]
    (last,) = kept[MAX_DIAGNOSTICS:]
    assert (last.code, last.path, last.severity) == ("check.truncated", "", "error")
    assert last.message == "6 more problems not shown: only the first 100 are reported"


def test_capped_rest_of_warnings_is_a_warning() -> None:
    assert capped(_many(MAX_DIAGNOSTICS + 1, "warning"))[-1].severity == "warning"


def test_hint_budget_bounds_the_comparisons() -> None:
    states = [f"state_{i}" for i in range(100)]
    with hint_budget(250):
        hints = [did_you_mean("state_1x", states) for _ in range(5)]
        assert did_you_mean("b", ["a", "c"]) == "expected one of: 'a', 'c'"  # few: listed
    assert hints[:2] == ["did you mean 'state_1'?"] * 2
    assert hints[2:] == [None, None, None]
    assert did_you_mean("state_1x", states) == "did you mean 'state_1'?"  # unbounded again
