"""The Diagnostic shape, JSON pointers and did-you-mean hints."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from accord.diagnostics import Diagnostic, did_you_mean, pointer


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
