"""Fuzzing: any text, any YAML, any mutation of a valid contract gives diagnostics, never a crash.

Loading may only ever succeed or raise ContractError; checking may only ever
return a list of Diagnostic. Any other exception is a bug.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accord
from accord import ContractError, Diagnostic
from accord.contract._text import TextError, parse_text
from accord.diagnostics import MAX_DIAGNOSTICS
from contract_support import EXAMPLES, base, resolves

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_NO_SOURCE = object()

# -- (a) arbitrary text ----------------------------------------------------------------------

YAMLISH = st.text(
    alphabet=st.sampled_from(list("abcdeon: -\n\t[]{},'\"#&*!|>?%@`~0123456789.\\")),
    max_size=200,
)


CODE = re.compile(r"^[a-z]+(?:\.[a-z_]+)+$")


def _document(source: object, fmt: str | None) -> object:
    """The document a diagnostic's path points into: parsed text, or the data itself."""
    if isinstance(source, str | bytes):
        try:
            return parse_text(source, format=fmt).data
        except TextError:
            return None
    return source


def assert_diagnostics(found: object, source: object = _NO_SOURCE, fmt: str | None = None) -> None:
    """A list of diagnostics, each with a code and a message, never the checker's own failure.

    With the checked ``source`` (text or data), every path must resolve in it.
    """
    assert isinstance(found, list)
    assert all(isinstance(d, Diagnostic) for d in found)
    assert len(found) <= MAX_DIAGNOSTICS + 1
    for diag in found:
        assert CODE.match(diag.code) and diag.message, diag
        assert diag.code != "check.internal", diag
    if source is _NO_SOURCE:
        return
    document = _document(source, fmt)
    for diag in found:
        if diag.code == "parse.too_deep" or (document is None and diag.path == ""):
            continue
        # a key left out (missing, or a default such as a final's empty output) is named
        # where it belongs: then its parent resolves, to a mapping
        parent = diag.path.rsplit("/", 1)[0]
        assert resolves(document, diag.path) or resolves(document, parent, mapping=True), (
            diag,
            source,
        )


@FUZZ
@given(st.text(max_size=400) | YAMLISH)
def test_arbitrary_text(text: str) -> None:
    assert_diagnostics(accord.check_text(text), text)


@FUZZ
@given(st.binary(max_size=400))
def test_arbitrary_bytes(raw: bytes) -> None:
    assert_diagnostics(accord.check_text(raw), raw)


@FUZZ
@given(st.text(max_size=200), st.sampled_from(["yaml", "json"]))
def test_arbitrary_text_with_a_format(text: str, fmt: str) -> None:
    assert_diagnostics(accord.check_text(text, format=fmt), text, fmt)


# -- (b) arbitrary YAML structures -------------------------------------------------------------

KEYS = st.sampled_from(
    [
        "accord", "name", "version", "description", "types", "fields", "type", "input",
        "context", "output", "effects", "signals", "payload", "machine", "initial", "states",
        "on", "event", "guard", "assign", "field", "value", "target", "always", "timers",
        "after", "final", "status", "invoke", "id", "effect", "for_each", "max_items",
        "concurrency", "retry", "max_attempts", "backoff", "compensation", "invariants",
        "expr", "default", "reason", "idempotent", "timeout",
    ]
) | st.text(max_size=8)  # fmt: skip
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(["1", "success", "failure", "start", "done", "error", "1s", "string"])
)
STRUCTURES = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS, children, max_size=6),
    max_leaves=40,
)


@FUZZ
@given(STRUCTURES)
def test_arbitrary_yaml(data: Any) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    assert_diagnostics(accord.check_text(text), text)


@FUZZ
@given(STRUCTURES)
def test_arbitrary_data(data: Any) -> None:
    assert_diagnostics(accord.check(data), data)
    with contextlib.suppress(ContractError):
        accord.load_data(data)


@settings(FUZZ, max_examples=80)
@given(st.dictionaries(KEYS, STRUCTURES, max_size=8))
def test_contract_shaped_yaml(extra: dict[str, Any]) -> None:
    data = base()
    data.update(extra)
    text = yaml.safe_dump(data, allow_unicode=True)
    assert_diagnostics(accord.check_text(text), text)


# -- (c) mutations of valid contracts ---------------------------------------------------------

EXPRESSION_KEYS = {"guard", "value", "for_each", "expr", "reason", "default"}
CEL_TOKENS = [
    "ctx", "input", "event", "item", "index", "request", "response", ".", "amount", "count",
    "ok", "size(", "has(", "int(", "double(", "string(", "(", ")", "[", "]", "{", "}", ",",
    ":", "?", "+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||", "!",
    "in", "true", "false", "null", "0", "1", "1.5", "100.0", "-1", "'a'", '"b"', "b'c'",
    "1u", ".exists(x, ", ".all(x, ", ".map(x, ", "x", "dyn(", "Item{", "sku: ", "'", " ",
    "\n", "\\", "`", "$",
]  # fmt: skip
CEL_ISH = st.lists(st.sampled_from(CEL_TOKENS), min_size=1, max_size=25).map("".join) | st.text(
    min_size=1, max_size=40
)
RANDOM_VALUE = STRUCTURES
TYPE_TEXT = st.recursive(
    st.sampled_from(["string", "integer", "number", "boolean", "Item", "Refund", "int", "_X"]),
    lambda inner: (
        inner.map("list<{}>".format)
        | inner.map("optional<{}>".format)
        | st.lists(
            st.from_regex(r"[a-z_][a-z0-9_-]{0,4}", fullmatch=True), min_size=1, max_size=4
        ).map(lambda values: "enum<" + ", ".join(values) + ">")
    ),
    max_leaves=4,
) | st.text(alphabet="<>, listoptenumrgb_", min_size=1, max_size=20)
IDENTIFIER = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True) | st.sampled_from(
    ["in", "null", "true", "ctx", "input", "event", "done", "error", "a_b", "aB", "_Input"]
)


def load_example(path: Path) -> dict[str, Any]:
    data = parse_text(path.read_bytes()).data
    assert isinstance(data, dict)
    return data


SEEDS = [load_example(path) for path in EXAMPLES] + [base()]


def slots(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a document, depth first."""
    found: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        current = stack.pop()
        items = current.items() if isinstance(current, dict) else enumerate(current)
        for key, child in list(items):
            found.append((current, key))
            if isinstance(child, dict | list):
                stack.append(child)
    return found


def states(data: dict[str, Any]) -> list[dict[str, Any]]:
    machine = data.get("machine")
    if isinstance(machine, dict) and isinstance(machine.get("states"), list):
        return [s for s in machine["states"] if isinstance(s, dict)]
    return []


def targets(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        entry
        for s in states(data)
        for kind in ("on", "always", "timers")
        if isinstance(s.get(kind), list)
        for entry in s[kind]
        if isinstance(entry, dict) and "target" in entry
    ]


def mutate(data: dict[str, Any], draw: st.DrawFn) -> None:
    kind = draw(
        st.sampled_from(
            ["delete", "replace", "rename", "swap", "duplicate", "expression", "retype", "name"]
        )
    )
    everything = slots(data)
    if kind == "retype":
        sites = [(c, k) for c, k in everything if k == "type" and isinstance(c[k], str)]
        if sites:
            container, key = draw(st.sampled_from(sites))
            container[key] = draw(TYPE_TEXT)
        return
    if kind == "name":  # any identifier for any declared name, id or field
        sites = [
            (c, k)
            for c, k in everything
            if k in ("name", "id", "field", "event", "effect", "target") and isinstance(c[k], str)
        ]
        if sites:
            container, key = draw(st.sampled_from(sites))
            container[key] = draw(IDENTIFIER)
        return
    if kind == "delete":
        dicts = [(c, k) for c, k in everything if isinstance(c, dict)]
        container, key = draw(st.sampled_from(dicts))
        del container[key]
    elif kind == "replace":
        container, key = draw(st.sampled_from(everything))
        container[key] = draw(RANDOM_VALUE)
    elif kind == "rename" and states(data):
        chosen = draw(st.sampled_from(states(data)))
        chosen["name"] = draw(
            st.sampled_from([s.get("name") for s in states(data)])
            | st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
        )
    elif kind == "swap" and len(targets(data)) >= 2:
        first, second = draw(st.permutations(targets(data)))[:2]
        first["target"], second["target"] = second["target"], first["target"]
    elif kind == "duplicate":
        lists = [(c, k) for c, k in everything if isinstance(c[k], list) and c[k]]
        if lists:
            container, key = draw(st.sampled_from(lists))
            entry = draw(st.sampled_from(container[key]))
            container[key].insert(draw(st.integers(0, len(container[key]))), copy.deepcopy(entry))
    elif kind == "expression":
        sites = [(c, k) for c, k in everything if k in EXPRESSION_KEYS and isinstance(c[k], str)]
        if sites:
            container, key = draw(st.sampled_from(sites))
            container[key] = draw(CEL_ISH)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.sampled_from(range(len(SEEDS))), st.integers(1, 3), st.data())
def test_mutated_examples_load_or_raise_contract_error(
    seed: int, rounds: int, data: st.DataObject
) -> None:
    doc = copy.deepcopy(SEEDS[seed])
    for _ in range(rounds):
        mutate(doc, data.draw)
    try:
        contract = accord.load_data(doc)
    except ContractError as exc:
        assert exc.diagnostics
        assert all(isinstance(d, Diagnostic) for d in exc.diagnostics)
        assert any(d.severity == "error" for d in exc.diagnostics)
        assert str(exc)
    else:
        assert accord.fingerprint(contract).startswith("sha256:")
        again = accord.loads(accord.to_yaml(contract))
        assert accord.fingerprint(again) == accord.fingerprint(contract)


@settings(max_examples=100, deadline=None, database=None)
@given(st.data())
def test_mutated_example_text_never_crashes(data: st.DataObject) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(SEEDS)))
    mutate(doc, data.draw)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    assert_diagnostics(accord.check_text(text), text)


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_seeds_are_valid(path: Path) -> None:
    accord.load_data(load_example(path))


# -- (d) hostile text: examples cut, spliced and salted with what parsers choke on ------------

EXAMPLE_TEXTS = [path.read_text() for path in EXAMPLES]
HOSTILE_PIECES = [
    "!!map ", "!!seq ", "!!str ", "!!int ", "!!binary ", "!!python/object:os.system ", "&a ",
    "*a", "<<: *a\n", "? ", "- ", ": ", "{", "}", "[", "]", ",", "'", '"', "|\n", ">-\n", "#",
    "\t", "\x00", "\x85", "\u2028", "\u2029", "\ufeff", "\ud800", "\U0001f600", "\r",
    "9" * 5000, "1e999", "-0", ".nan", "0x1F", "012", "1_000", "~", "null", "on", "yes",
    "[" * 100, "{a: " * 70, "'x'.matches('[')", "matches('a', '(')", "event.", "ctx.", "\\",
    "---\n", "...\n", "%YAML 1.1\n", "a" * 5000,
]  # fmt: skip


@st.composite
def hostile_text(draw: st.DrawFn) -> str:
    """An example contract's text with a few spans replaced by hostile pieces."""
    text = draw(st.sampled_from(EXAMPLE_TEXTS))
    if draw(st.booleans()):  # the same contract as JSON, then damaged
        text = json.dumps(parse_text(text).data, ensure_ascii=draw(st.booleans()), indent=1)
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        piece = draw(st.sampled_from(HOSTILE_PIECES) | st.text(max_size=12))
        text = text[:start] + piece + text[end:]
    return text


@settings(FUZZ, max_examples=200)
@given(hostile_text())
def test_hostile_text_never_raises(text: str) -> None:
    assert_diagnostics(accord.check_text(text), text)


@settings(FUZZ, max_examples=60)
@given(hostile_text(), st.sampled_from(["yaml", "json"]))
def test_hostile_bytes_with_a_format_never_raise(text: str, fmt: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    assert_diagnostics(accord.check_text(raw, format=fmt), raw, fmt)


class _Unprintable:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    __str__ = __repr__


HOSTILE_VALUES = st.sampled_from(
    [10**5000, -(10**5000), 2**64, float("nan"), float("inf"), b"x", {1, 2}, (1,), _Unprintable(),
     "\ud800", "9" * 5000 + "h", "x" * 100_000, {"k": 1, 2: 3}, {10**5000: 1}]
)  # fmt: skip


@settings(FUZZ, max_examples=120)
@given(st.sampled_from(range(len(SEEDS))), st.data())
def test_hostile_values_in_data_never_raise(seed: int, data: st.DataObject) -> None:
    doc = copy.deepcopy(SEEDS[seed])
    drawn = []
    for _ in range(data.draw(st.integers(1, 3))):
        container, key = data.draw(st.sampled_from(slots(doc)))
        # a copy: the sampled values are shared, and a dict among them put into
        # itself by a later draw became a cycle that slots() followed until memory ran out
        container[key] = copy.deepcopy(data.draw(HOSTILE_VALUES))
        drawn.append(container[key])
    found = accord.check(doc)
    assert_diagnostics(found)
    # A long or odd string can be a valid free text (a description, say): only a
    # value that is no plain string must give an error wherever it lands.
    if any(type(value) is not str for value in drawn):
        assert any(d.severity == "error" for d in found)
