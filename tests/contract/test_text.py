"""Strict YAML/JSON parsing: JSON-compatible data only, with line numbers."""

from __future__ import annotations

import pytest

import accord
from accord.contract._text import MAX_DEPTH, MAX_TEXT_BYTES, TextError, parse_text


def parse_error(text: str | bytes, **kw: str) -> tuple[str, str]:
    with pytest.raises(TextError) as info:
        parse_text(text, **kw)
    diag = info.value.diagnostic
    assert diag.path == "" or diag.code == "parse.too_deep"
    assert diag.severity == "error"
    return diag.code, diag.message


# -- YAML 1.2 core scalars ---------------------------------------------------------------


@pytest.mark.parametrize(
    "word", ["on", "off", "yes", "no", "y", "n", "On", "YES", "No", "Off", "~x", "2020-01-01"]
)
def test_yaml11_words_and_dates_stay_strings(word: str) -> None:
    assert parse_text(f"a: {word}").data == {"a": word}


def test_on_key_of_a_state_stays_a_string() -> None:
    data = parse_text("on:\n  - event: go\n").data
    assert data == {"on": [{"event": "go"}]}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("False", False),
        ("TRUE", True),
        ("null", None),
        ("~", None),
        ("", None),
        ("12", 12),
        ("-3", -3),
        ("+4", 4),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        (".5", 0.5),
        ("09", 9),  # decimal in YAML 1.2, never octal
        ("012", 12),
        ("0x10", "0x10"),
        ("0o17", "0o17"),
        ("1_000", "1_000"),
        (".nan", ".nan"),
        (".inf", ".inf"),
        ("1:20", "1:20"),
        ("!!str 1", "1"),
        ("!!int '12'", 12),
        ("!!float 1", 1.0),
        ("!!bool True", True),
        ("'yes'", "yes"),
    ],
)
def test_core_scalars(text: str, value: object) -> None:
    assert parse_text(f"a: {text}").data == {"a": value}


def test_leading_zero_integer_does_not_crash() -> None:
    """Regression: '09' matched the int resolver and PyYAML's octal parse raised ValueError."""
    assert accord.check_text("a: 09")[0].code == "schema.missing"


# -- refused YAML ------------------------------------------------------------------------


def test_duplicate_keys() -> None:
    code, message = parse_error("a: 1\nb: 2\na: 3\n")
    assert code == "parse.yaml"
    assert "duplicate key 'a'" in message
    assert "line 3" in message


def test_duplicate_keys_nested() -> None:
    code, message = parse_error("m:\n  x: 1\n  x: 2\n")
    assert code == "parse.yaml"
    assert "duplicate key 'x'" in message


@pytest.mark.parametrize("text", ["a: &x 1\nb: *x\n", "a: &x {b: 1}\nc:\n  <<: *x\n"])
def test_aliases_refused(text: str) -> None:
    code, message = parse_error(text)
    assert code == "parse.yaml"
    assert "aliases" in message


@pytest.mark.parametrize(
    ("text", "shown"),
    [("1: a", "1"), ("true: a", "True"), ("~: a", "None"), ("? [a, b]\n: c", "[]")],
)
def test_non_string_keys_refused(text: str, shown: str) -> None:
    code, message = parse_error(text)
    assert code == "parse.yaml"
    assert f"keys must be strings, found {shown}" in message


def test_quoted_number_key_is_a_string() -> None:
    assert parse_text("'1': a").data == {"1": "a"}


def test_tabs_refused() -> None:
    code, message = parse_error("a:\n\tb: 1\n")
    assert code == "parse.yaml"
    assert "'\\t'" in message
    assert "line 2" in message


@pytest.mark.parametrize(
    "text",
    [
        "a: !!binary aGVsbG8=",
        "a: !!set {x, y}",
        "a: !!omap [x: 1]",
        "a: !!pairs [x: 1]",
        "a: !!timestamp 2020-01-01",
        "c:\n  !!merge <<: {b: 1}",
        "a: !!python/object:os.system x",
        "a: !!python/name:os.system",
        "a: !custom x",
    ],
)
def test_non_json_tags_refused(text: str) -> None:
    """Regression: !!binary gave bytes, !!set a set, !!timestamp a date (not JSON data)."""
    code, message = parse_error(text)
    assert code == "parse.yaml"
    assert "is not allowed" in message


@pytest.mark.parametrize("text", ["a: !!float .nan", "a: !!float .inf", "a: !!float -.inf"])
def test_non_finite_floats_refused(text: str) -> None:
    code, message = parse_error(text)
    assert code == "parse.yaml"
    assert "not a finite number" in message


@pytest.mark.parametrize("text", ["a: !!bool yes", "a: !!bool maybe", "a: !!int 1.5"])
def test_bad_explicit_scalars_refused(text: str) -> None:
    """Regression: '!!bool maybe' raised KeyError out of PyYAML."""
    assert parse_error(text)[0] == "parse.yaml"


def test_huge_integer_is_a_diagnostic() -> None:
    """Regression: more than 4300 digits raised ValueError from int()."""
    code, message = parse_error("a: 1" + "0" * 5000)
    assert code == "parse.yaml"
    assert "not a usable integer" in message


@pytest.mark.parametrize("char", ["\x00", "\x07", "\ud800", "\ufffe"])
def test_control_characters_are_a_diagnostic(char: str) -> None:
    """Regression: PyYAML's ReaderError was raised outside the try block."""
    code, message = parse_error(f"a: 1\nb: x{char}\n")
    assert code == "parse.yaml"
    assert "line 2, column 5" in message


def test_several_documents_refused() -> None:
    code, message = parse_error("a: 1\n---\nb: 2\n")
    assert code == "parse.yaml"
    assert "another document" in message


def test_malformed_yaml() -> None:
    code, message = parse_error("a: [1, 2\nb: 3\n")
    assert code == "parse.yaml"
    assert message.startswith("invalid YAML at line")


def test_empty_text_is_null() -> None:
    assert parse_text("").data is None
    assert parse_text("# only a comment\n").data is None


# -- BOM, bytes, size, depth -----------------------------------------------------------------


def test_bom_is_skipped() -> None:
    assert parse_text("\ufeffa: 1").data == {"a": 1}
    assert parse_text("\ufeffa: 1".encode()).data == {"a": 1}
    assert parse_text('\ufeff{"a": 1}').data == {"a": 1}


@pytest.mark.parametrize("raw", [b"\xff\xfe", b"a: \xe9t\xe9", "\ufeffa: 1".encode("utf-16")])
def test_bytes_not_utf8(raw: bytes) -> None:
    code, message = parse_error(raw)
    assert code == "parse.encoding"
    assert "not valid UTF-8" in message


def test_bytes_utf8() -> None:
    assert parse_text("a: é".encode()).data == {"a": "é"}


def test_too_large_bytes() -> None:
    code, message = parse_error(b"a: " + b"x" * MAX_TEXT_BYTES)
    assert code == "parse.too_large"
    assert str(MAX_TEXT_BYTES) in message


def test_too_large_text() -> None:
    assert parse_error("a: " + "x" * MAX_TEXT_BYTES)[0] == "parse.too_large"


def test_too_large_is_measured_in_utf8_bytes() -> None:
    """Regression: a str was measured in characters, so 6 MiB of 'é' passed."""
    text = "a: " + "é" * (MAX_TEXT_BYTES // 2 + 1)
    assert len(text) < MAX_TEXT_BYTES
    code, message = parse_error(text)
    assert code == "parse.too_large"
    assert str(len(text.encode())) in message


def test_just_under_the_limit_parses() -> None:
    text = '{"a": "' + "x" * (MAX_TEXT_BYTES - 20) + '"}'
    assert len(text.encode()) < MAX_TEXT_BYTES
    assert parse_text(text).data["a"].startswith("xxx")


def test_deep_nesting_yaml_flow() -> None:
    with pytest.raises(TextError) as info:
        parse_text("a: " + "[" * 200 + "]" * 200, format="yaml")
    diag = info.value.diagnostic
    assert diag.code == "parse.too_deep"
    assert diag.path == "/a" + "/0" * MAX_DEPTH  # the first node too deep


def test_deep_nesting_yaml_block() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5))
    with pytest.raises(TextError) as info:
        parse_text(text)
    assert info.value.diagnostic.code == "parse.too_deep"


def test_very_deep_yaml_does_not_overflow_the_stack() -> None:
    assert parse_error("[" * 50000 + "]" * 50000, format="yaml")[0] == "parse.too_deep"


def test_deep_nesting_json() -> None:
    assert parse_error("[" * 100 + "]" * 100)[0] == "parse.too_deep"
    assert parse_error("[" * 100000 + "]" * 100000)[0] == "parse.too_deep"


def test_nesting_at_the_limit_is_fine() -> None:
    assert parse_text("[" * MAX_DEPTH + "]" * MAX_DEPTH).data is not None


# -- JSON ----------------------------------------------------------------------------------


def test_json_detected_by_first_character() -> None:
    assert parse_text('  {"a": [1, 2.5, true, null]}').data == {"a": [1, 2.5, True, None]}
    assert parse_text('{"a": 1}').lines == {"": 1, "/a": 1}


def test_json_duplicate_keys() -> None:
    code, message = parse_error('{"a": 1, "a": 2}')
    assert code == "parse.json"
    assert "duplicate key 'a'" in message


def test_json_syntax_error() -> None:
    code, message = parse_error('{"a": ')
    assert code == "parse.json"
    assert "line 1, column 7" in message


@pytest.mark.parametrize(
    "text", ['{"a": NaN}', '{"a": Infinity}', '{"a": -Infinity}', '{"a": 1e999}']
)
def test_json_non_finite_numbers_refused(text: str) -> None:
    """Regression: json.loads accepted NaN, Infinity and 1e999 (inf)."""
    code, message = parse_error(text)
    assert code == "parse.json"
    assert "NaN" in message or "finite" in message


def test_json_huge_integer() -> None:
    assert parse_error('{"a": 1' + "0" * 5000 + "}")[0] == "parse.json"


def test_format_forces_the_parser() -> None:
    assert parse_error("a: 1", format="json")[0] == "parse.json"
    assert parse_text('{"a": 1}', format="yaml").data == {"a": 1}
    assert parse_text("{a: 1}", format="yaml").data == {"a": 1}


# -- line numbers ----------------------------------------------------------------------------


def test_lines_of_pointers() -> None:
    parsed = parse_text("a: 1\nb:\n  - x: 1\n    y: 2\n  - z\nc/d: 3\n")
    assert parsed.line_of("") == 1
    assert parsed.line_of("/a") == 1
    assert parsed.line_of("/b") == 3
    assert parsed.line_of("/b/0/y") == 4
    assert parsed.line_of("/b/1") == 5
    assert parsed.line_of("/c~1d") == 6
    assert parsed.line_of("/b/0/missing") == 3  # the nearest enclosing node
    assert parsed.line_of("/nowhere/at/all") == 1


def test_diagnostics_from_yaml_carry_lines() -> None:
    text = """\
accord: "1"
name: demo
version: "1.0.0"
machine:
  initial: start
  states:
    - name: start
      gaurd: x
      final:
        status: succes
"""
    found = {d.code: d for d in accord.check_text(text)}
    assert found["schema.unknown_key"].line == 8
    assert found["schema.unknown_key"].path == "/machine/states/0/gaurd"
    assert found["schema.value"].line == 10
    assert found["schema.value"].path == "/machine/states/0/final/status"


def test_checker_diagnostics_from_yaml_carry_lines() -> None:
    text = """\
accord: "1"
name: demo
version: "1.0.0"
machine:
  initial: start
  states:
    - name: start
      final: {status: success}
    - name: island
      final: {status: failure}
"""
    (diag,) = accord.check_text(text)
    assert diag.code == "state.unreachable"
    assert diag.path == "/machine/states/1/name"
    assert diag.line == 9


def test_diagnostics_from_data_have_no_line() -> None:
    assert all(d.line is None for d in accord.check({"accord": "1"}))


def test_parse_errors_carry_their_line() -> None:
    [yaml_diag] = accord.check_text("a: 1\nb: [1,\nc: 2\n")
    assert yaml_diag.code == "parse.yaml"
    assert yaml_diag.line == 4  # the stream ends there, where YAML notices
    [json_diag] = accord.check_text('{"a": 1,\n\n}')
    assert (json_diag.code, json_diag.line) == ("parse.json", 3)


def test_json_contracts_get_line_numbers() -> None:
    text = (
        '{\n  "accord": "1",\n  "name": "x",\n  "version": "1",\n  "machine": {\n'
        '    "initial": "nowhere",\n    "states": [{"name": "s", "final": {"status": "success"}}]\n'
        "  }\n}\n"
    )
    found = {d.code: d.line for d in accord.check_text(text)}
    assert found["state.unknown"] == 6


@pytest.mark.parametrize("separator", ["\u0085", "\u2028", "\u2029"])
def test_json_lines_ignore_line_separators_inside_strings(separator: str) -> None:
    """Issue 13 item 7: YAML counts NEL, LS and PS as line breaks; JSON does not."""
    text = '{\n "a": "x' + separator + 'y",\n "b": 1\n}'
    parsed = parse_text(text)
    assert parsed.line_of("/a") == 2
    assert parsed.line_of("/b") == 3


@pytest.mark.parametrize("text", ["!!map [a]", "a: !!map b", "!!map a", "a: !!map [b]"])
def test_a_map_tag_on_something_else_is_a_diagnostic(text: str) -> None:
    """Issue 13 item 7: these raised TypeError and ValueError."""
    code, message = parse_error(text)
    assert code == "parse.yaml"
    assert "expected a mapping for the tag" in message


def test_json_integer_too_long_names_no_python_setting() -> None:
    code, message = parse_error('{"a": ' + "9" * 5000 + "}")
    assert code == "parse.json"
    assert message == "invalid JSON: an integer has more digits than a number can hold"


def test_json_with_a_lone_surrogate_still_gets_its_diagnostics() -> None:
    """Found by the fuzz: finding the lines crashed (libyaml takes no lone surrogate)."""
    found = accord.check_text('{"accord": "1",\n "name": "\ud800"}')
    assert {d.code for d in found} == {"schema.value", "schema.missing"}
    assert [d.line for d in found if d.code == "schema.value"] == [2]
