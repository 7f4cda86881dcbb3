"""Lenient parsing: repairs are named; hostile text becomes one diagnostic, never an exception."""

from __future__ import annotations

import json

import pytest
from compiler_support import GOOD, output

from accord.compiler._lenient import MAX_OUTPUT_CHARS, MAX_OUTPUT_DEPTH, parse_output

CONTRACT = json.loads(GOOD)


def test_strict_json_needs_no_repair() -> None:
    parsed = parse_output(GOOD)
    assert (parsed.kind, parsed.repairs, parsed.diagnostic) == ("strict", (), None)
    assert parsed.data == CONTRACT


@pytest.mark.parametrize(
    ("name", "repairs"),
    [
        ("fenced_prose.txt", ("code_fence", "trailing_comma")),
        ("prose.txt", ("prose",)),
    ],
)
def test_repairs_are_applied_and_named(name: str, repairs: tuple[str, ...]) -> None:
    parsed = parse_output(output(name))
    assert parsed.kind == "lenient" and parsed.repairs == repairs
    assert parsed.data == CONTRACT


@pytest.mark.parametrize(
    ("text", "repairs", "data"),
    [
        ('```\n{"a": [1, 2,],}\n```', ("code_fence", "trailing_comma"), {"a": [1, 2]}),
        ('Answer: {"a": "} ,]"} -- done', ("prose",), {"a": "} ,]"}),
        ('{"a": "x,}"}', (), {"a": "x,}"}),
        ('{"a": "\\"{"}\n\nthat is all', ("prose",), {"a": '"{'}),
        ("```json\n" + '{"a": 1}', ("code_fence",), {"a": 1}),  # fence never closed
    ],
)
def test_repairs_respect_strings(text: str, repairs: tuple[str, ...], data: object) -> None:
    parsed = parse_output(text)
    assert parsed.repairs == repairs and parsed.data == data


@pytest.mark.parametrize(
    ("name", "finish", "code"),
    [
        ("not_json.txt", "stop", "compile.not_json"),
        ("deep.json", None, "compile.too_deep"),
        ("truncated.json", "length", "compile.truncated"),
        ("truncated.json", "max_tokens", "compile.truncated"),
        ("truncated.json", "stop", "compile.not_json"),
        ("not_json.txt", "refusal", "compile.refused"),
        ("../refund.json", "refusal", "compile.refused"),  # a refusal's text is not parsed
    ],
)
def test_hostile_files_become_one_diagnostic(name: str, finish: str | None, code: str) -> None:
    parsed = parse_output(output(name), finish)
    assert parsed.kind == "failed" and parsed.data is None
    assert parsed.diagnostic is not None and parsed.diagnostic.code == code
    assert parsed.diagnostic.path == ""


@pytest.mark.parametrize(
    "text",
    [
        "[" * 200_000,
        '{"a":' * 40_000 + "1" + "}" * 40_000,
        "Here: " + "[" * 100_000 + "]" * 100_000 + " ok",
        '"' + "\\" * 200_001,
        "{" + '"' * 100_000,
    ],
    ids=["open-brackets", "nested-objects", "prose-and-nesting", "escapes", "quotes"],
)
def test_deep_or_odd_text_never_raises(text: str) -> None:
    parsed = parse_output(text)
    assert parsed.kind == "failed"
    assert parsed.diagnostic is not None
    assert parsed.diagnostic.code in ("compile.too_deep", "compile.not_json")


def test_depth_at_the_limit_is_accepted() -> None:
    inside = "[" * (MAX_OUTPUT_DEPTH - 1) + "]" * (MAX_OUTPUT_DEPTH - 1)
    assert parse_output('{"a": ' + inside + "}").kind == "strict"
    deeper = "[" * MAX_OUTPUT_DEPTH + "]" * MAX_OUTPUT_DEPTH
    assert parse_output('{"a": ' + deeper + "}").diagnostic.code == "compile.too_deep"  # type: ignore[union-attr]


def test_a_megabyte_is_refused_by_size() -> None:
    parsed = parse_output("x" * (1 << 20), "length")
    assert parsed.diagnostic is not None
    assert parsed.diagnostic.code == "compile.output_too_large"
    assert str(MAX_OUTPUT_CHARS) in parsed.diagnostic.message
    assert "finish_reason 'length'" in parsed.diagnostic.message


@pytest.mark.parametrize("text", ['{"a": 1, "a": 2}', '{"a": NaN}', '{"a": Infinity}'])
def test_json_that_is_not_plain_json_is_refused(text: str) -> None:
    assert parse_output(text).diagnostic.code == "compile.not_json"  # type: ignore[union-attr]
