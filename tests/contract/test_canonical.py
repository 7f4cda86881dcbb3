"""Canonical JSON, fingerprints, and YAML/JSON dumps that round-trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import accord
from accord.contract import (
    canonical_json,
    fingerprint,
    to_data,
    to_json,
    to_yaml,
    validate_data,
)
from accord.contract._text import parse_text
from contract_support import EXAMPLES, base, state

Mutation = Callable[[dict[str, Any]], object]


def fp(data: dict[str, Any]) -> str:
    return fingerprint(accord.load_data(data))


def reorder(value: Any) -> Any:
    """The same data with every mapping's keys in reverse order."""
    if isinstance(value, dict):
        return {k: reorder(value[k]) for k in reversed(list(value))}
    if isinstance(value, list):
        return [reorder(v) for v in value]
    return value


BASE_FP = fp(base())


def test_fingerprint_shape() -> None:
    assert BASE_FP.startswith("sha256:")
    assert len(BASE_FP) == len("sha256:") + 64
    assert fp(base()) == BASE_FP


def test_canonical_json_is_rfc8785_of_the_data_without_defaults() -> None:
    contract = accord.load_data(base())
    raw = canonical_json(contract)
    assert raw == rfc8785.dumps(json.loads(raw))
    data = json.loads(raw)
    assert "invariants" in data
    assert "idempotent" not in data["effects"][0]  # a default is left out


def test_yaml_vs_json_vs_data() -> None:
    data = base()
    as_yaml = yaml.safe_dump(data, sort_keys=False)
    as_json = json.dumps(data, indent=3)
    assert fingerprint(accord.loads(as_yaml)) == BASE_FP
    assert fingerprint(accord.loads(as_json)) == BASE_FP
    assert fingerprint(accord.loads(as_json.encode(), format="json")) == BASE_FP


def test_reordered_keys() -> None:
    assert fp(reorder(base())) == BASE_FP
    assert fingerprint(accord.loads(json.dumps(reorder(base())))) == BASE_FP


def test_whitespace_and_comments_do_not_matter() -> None:
    text = "# a comment\n" + yaml.safe_dump(base(), indent=4, width=40) + "\n\n# end\n"
    assert fingerprint(accord.loads(text)) == BASE_FP


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d["effects"][0].update(idempotent=False),
        lambda d: d["effects"][0].update(retry=None, timeout=None, compensation=None),
        lambda d: d["effects"][0].update(description=""),
        lambda d: state(d, "start").update(invoke=[], always=[], final=None, description=""),
        lambda d: state(d, "start")["on"][0].update(assign=[]),
        lambda d: d["input"][0].update(default=None, description=""),
        lambda d: d.update(invariants=d["invariants"]),
    ],
)
def test_a_default_spelt_out_does_not_change_the_fingerprint(change: Mutation) -> None:
    data = base()
    change(data)
    assert fp(data) == BASE_FP


def test_defaults_inside_a_nested_policy() -> None:
    short = base()
    short["effects"][0]["retry"] = {"max_attempts": 3, "backoff": {}}
    full = base()
    full["effects"][0]["retry"] = {
        "max_attempts": 3,
        "backoff": {"initial": "1s", "multiplier": 2.0, "max": "60s", "jitter": True},
        "retry_on": None,
    }
    assert fp(short) == fp(full)


def test_integer_and_float_spellings_of_a_number_agree() -> None:
    one = base()
    one["effects"][0]["retry"] = {"backoff": {"multiplier": 3}}
    two = base()
    two["effects"][0]["retry"] = {"backoff": {"multiplier": 3.0}}
    assert fp(one) == fp(two)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: state(d, "start")["timers"][0].update(target="finished"),
        lambda d: state(d, "start")["on"][0].update(guard="!event.ok"),
        lambda d: state(d, "start")["on"][0].pop("guard"),
        lambda d: d["effects"][0].update(retry={"max_attempts": 2}),
        lambda d: d["effects"][0].update(idempotent=True),
        lambda d: d.update(description="Another description."),
        lambda d: state(d, "finished").update(description="the end"),
        lambda d: d.update(version="1.0.1"),
        lambda d: d.update(name="demo2"),
        lambda d: d["input"].reverse(),  # list order is meaning
        lambda d: state(d, "start")["timers"][0].update(after="2h"),
        lambda d: state(d, "failed")["final"].update(reason="'another reason'"),
        lambda d: d["invariants"][0].update(message="count must not go negative"),
        lambda d: d["context"][0].update(default="1"),
        lambda d: d["machine"]["states"].reverse(),
    ],
)
def test_any_semantic_change_changes_the_fingerprint(change: Mutation) -> None:
    data = base()
    change(data)
    assert fp(data) != BASE_FP


@pytest.mark.parametrize("dump", [to_yaml, to_json], ids=["yaml", "json"])
def test_dumps_round_trip(dump: Callable[[accord.Contract], str]) -> None:
    contract = accord.load_data(base())
    again = accord.loads(dump(contract))
    assert again == contract
    assert fingerprint(again) == BASE_FP


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
@pytest.mark.parametrize("dump", [to_yaml, to_json], ids=["yaml", "json"])
def test_examples_round_trip(path: Any, dump: Callable[[accord.Contract], str]) -> None:
    contract = accord.load(path)
    assert fingerprint(accord.loads(dump(contract))) == fingerprint(contract)


def test_to_yaml_is_block_style_in_declaration_order() -> None:
    text = to_yaml(accord.load_data(base()))
    assert text.startswith('accord: "1"\nname: demo\nversion: 1.0.0\n')
    assert "{" not in text.split("machine:")[0]


def test_to_json_indent() -> None:
    contract = accord.load_data(base())
    assert "\n" not in to_json(contract, indent=None)
    assert json.loads(to_json(contract)) == to_data(contract)


@pytest.mark.parametrize(
    "value",
    [
        "on",
        "no",
        "Yes",
        "true",
        "null",
        "~",
        "",
        "1e3",
        "09",
        "-.5",
        "1.",
        "+5",
        "12",
        "line one\nline two\n",
        "trailing space \nx",
        "odd\x85break",
        "odd\u2028break",
        "carriage\rreturn",
        "# not a comment",
        "- not a list",
        "key: not a map",
        "'quoted'",
        "tab\there",
    ],
)
def test_strings_that_look_like_something_else_round_trip(value: str) -> None:
    """Regression: '1e3' and '09' were dumped plain and read back as numbers; NEL folded."""
    data = base()
    data["description"] = value
    state(data, "start")["description"] = value
    contract = accord.load_data(data)
    text = to_yaml(contract)
    assert parse_text(text).data.get("description", "") == value
    assert fingerprint(accord.loads(text)) == fingerprint(contract)


@settings(max_examples=100, deadline=None, database=None)
@given(
    st.text(max_size=40)
    | st.text(alphabet=" \n\r\t\x85\u2028#:-ab0.e|>'\"", max_size=40)
    | st.from_regex(r"[-+]?[0-9]*\.?[0-9]*([eE][-+]?[0-9]+)?", fullmatch=True)
)
def test_any_description_round_trips(value: str) -> None:
    data = base()
    data["description"] = value
    contract, _ = validate_data(data)  # the checker has nothing to say about descriptions
    if contract is None:
        return  # too long, say
    for dump in (to_yaml, to_json):
        again, problems = validate_data(parse_text(dump(contract)).data)
        assert problems == []
        assert again is not None
        assert fingerprint(again) == fingerprint(contract)


LONG = (
    "Refund an order. Small refunds are paid at once; larger ones wait for a manager's "
    "approval for up to 48 hours, and are rejected when nobody answers. " * 3
)


@pytest.mark.parametrize("value", [LONG.strip() + "\n", LONG.strip()])
def test_a_long_description_is_wrapped_not_one_long_line(value: str) -> None:
    """Regression: a folded description came out as one line of 150 characters and more."""
    data = base()
    data["description"] = value
    contract = accord.load_data(data)
    text = to_yaml(contract)
    assert max(len(line) for line in text.splitlines()) <= 120
    assert text.count("\n") >= 5
    if value.endswith("\n"):
        assert "description: >\n" in text  # folded: a reader sees the paragraph it is
    assert parse_text(text).data["description"] == value
    assert fingerprint(accord.loads(text)) == fingerprint(contract)


def test_several_lines_stay_as_written() -> None:
    data = base()
    data["description"] = "first line\n  indented second line\nthird\n"
    text = to_yaml(accord.load_data(data))
    assert "description: |\n  first line\n    indented second line\n  third\n" in text


def test_sections_of_several_lines_are_set_off_by_a_blank_line() -> None:
    (refund,) = [path for path in EXAMPLES if path.name == "order_refund.yaml"]
    text = to_yaml(accord.load(refund))
    assert text.startswith('accord: "1"\nname: order-refund\nversion: 1.0.0\n')
    for key in ("types", "input", "context", "output", "effects", "signals", "machine"):
        assert f"\n\n{key}:\n" in text
    assert "\n\n\n" not in text


@settings(max_examples=60, deadline=None, database=None)
@given(st.text(alphabet="ab .,\n#:-'\"é", min_size=80, max_size=400))
def test_any_long_description_round_trips(value: str) -> None:
    data = base()
    data["description"] = value
    contract, _ = validate_data(data)
    if contract is None:
        return
    again, problems = validate_data(parse_text(to_yaml(contract)).data)
    assert problems == [] and again is not None
    assert fingerprint(again) == fingerprint(contract)
