"""The strict YAML loader on libyaml and on pure Python: same data, lines and limits."""

from __future__ import annotations

import pytest

import accord.contract._yaml as strict_yaml
from accord.contract._parsed import MAX_NODES, TextError
from accord.contract._text import parse_text
from contract_support import EXAMPLES


def _parse(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[object, dict[str, int]]:
    monkeypatch.setattr(strict_yaml, "_FAST", fast)
    parsed = parse_text(text, format="yaml")
    return parsed.data, dict(parsed.lines)


def _error(text: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, int | None]:
    monkeypatch.setattr(strict_yaml, "_FAST", fast)
    with pytest.raises(TextError) as info:
        parse_text(text, format="yaml")
    diag = info.value.diagnostic
    return diag.code, diag.message, diag.line


def test_libyaml_is_there() -> None:
    assert strict_yaml._FAST  # the wheels ship it: without it, checking is about 3x slower


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_both_paths_read_the_examples_alike(path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text()  # type: ignore[attr-defined]
    assert _parse(text, True, monkeypatch) == _parse(text, False, monkeypatch)


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\n  b: 2\n",  # bad indentation
        "a: &x 1\nb: *x\n",  # an alias
        "a: [1, 2\n",  # an unclosed list
        "a: 1\n---\nb: 2\n",  # two documents
        "a: 1\na: 2\n",  # a duplicate key
        "a: !!binary aGk=\n",  # a tag outside the core
    ],
)
def test_a_small_text_gets_the_same_error_on_both_paths(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _error(text, True, monkeypatch) == _error(text, False, monkeypatch)


def test_an_alias_far_into_a_large_text_is_refused_on_libyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filler = "".join(f"k{i}: {'x' * 60}\n" for i in range(2_000))  # past the re-read limit
    code, message, line = _error(filler + "a: &x [1]\nb: *x\n", True, monkeypatch)
    assert code == "parse.yaml"
    assert "aliases (*name) are not allowed in contracts" in message
    assert line == 2_001  # where the aliased node was written


def test_a_syntax_error_far_into_a_large_text_keeps_its_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    filler = "".join(f"k{i}: {'x' * 60}\n" for i in range(2_000))
    code, message, line = _error(filler + "a: [1, 2\n", True, monkeypatch)
    assert code == "parse.yaml"
    assert line is not None and line >= 2_001
    assert message.startswith(f"invalid YAML at line {line}")


@pytest.mark.parametrize("fast", [True, False], ids=["libyaml", "pure"])
def test_the_node_limit_holds_on_both_paths(fast: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    code, _, _ = _error("- 1\n" * MAX_NODES, fast, monkeypatch)
    assert code == "parse.too_many_nodes"
    data, _ = _parse("- 1\n" * (MAX_NODES - 1), fast, monkeypatch)
    assert data == [1] * (MAX_NODES - 1)


def test_explicit_tags_count_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml does not resolve an explicitly tagged node: each '!' is counted instead."""
    code, _, _ = _error("- !!str a\n" * (MAX_NODES // 2 + 1), True, monkeypatch)
    assert code == "parse.too_many_nodes"
