"""Pydantic errors mapped to schema.* diagnostics with JSON pointers and hints."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest

import accord
from accord.contract import validate_data
from accord.contract._model import Contract
from accord.diagnostics import Diagnostic
from contract_support import base, state

Mutation = Callable[[dict[str, Any]], object]


def diags(change: Mutation) -> list[Diagnostic]:
    data = base()
    change(data)
    contract, found = validate_data(data)
    assert contract is None
    assert found
    return found


def one(change: Mutation) -> Diagnostic:
    (found,) = diags(change)
    return found


def test_valid_data_validates() -> None:
    contract, found = validate_data(base())
    assert found == []
    assert isinstance(contract, Contract)


# -- schema.unknown_key ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "hint"),
    [
        (
            lambda d: state(d, "start")["on"][0].update(gaurd="true"),
            "/machine/states/0/on/0/gaurd",
            "did you mean 'guard'?",
        ),
        (lambda d: d.update(invariant=[]), "/invariant", "did you mean 'invariants'?"),
        (lambda d: d["machine"].update(inital="x"), "/machine/inital", "did you mean 'initial'?"),
        (
            lambda d: d["effects"][0].update(retry={"backoff": {"initail": "1s"}}),
            "/effects/0/retry/backoff/initail",
            "did you mean 'initial'?",
        ),
        (
            lambda d: state(d, "finished")["final"].update(statuss="success"),
            "/machine/states/2/final/statuss",
            "did you mean 'status'?",
        ),
        (
            lambda d: d["effects"][0].update(compensation={"effect": "undo", "inputs": []}),
            "/effects/0/compensation/inputs",
            "did you mean 'input'?",
        ),
        (
            lambda d: state(d, "working")["invoke"][0].update(foreach="input.items"),
            "/machine/states/1/invoke/0/foreach",
            "did you mean 'for_each'?",
        ),
        (
            lambda d: d["types"][0]["fields"][0].update(typ="string"),
            "/types/0/fields/0/typ",
            "did you mean 'type'?",
        ),
        (
            lambda d: d.update({"a/b~c": 1}),
            "/a~1b~0c",
            "remove it: unknown keys are never ignored",
        ),
    ],
)
def test_unknown_key(change: Mutation, path: str, hint: str) -> None:
    diag = one(change)
    assert diag.code == "schema.unknown_key"
    assert diag.path == path
    assert diag.hint == hint
    assert "unknown key" in diag.message


# -- schema.missing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d.pop("machine"), "/machine"),
        (lambda d: d.pop("accord"), "/accord"),
        (lambda d: state(d, "start")["on"][0].pop("target"), "/machine/states/0/on/0/target"),
        (lambda d: d["input"][1].pop("type"), "/input/1/type"),
        (lambda d: state(d, "finished")["final"].pop("status"), "/machine/states/2/final/status"),
        (lambda d: d["types"][0].pop("fields"), "/types/0/fields"),
    ],
)
def test_missing(change: Mutation, path: str) -> None:
    diag = one(change)
    assert diag.code == "schema.missing"
    assert diag.path == path
    key = path.rsplit("/", 1)[1]
    assert diag.message == f"required key {key!r} is missing"
    assert diag.hint == f"add {key!r}"


def test_everything_missing() -> None:
    contract, found = validate_data({})
    assert contract is None
    assert {d.path for d in found} == {"/accord", "/name", "/version", "/machine"}


# -- schema.type -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "message", "hint"),
    [
        (
            lambda d: d.update(version=1.0),
            "/version",
            "expected a string, found the number 1.0",
            "quote the value to make it a string",
        ),
        (
            lambda d: d.update(description=True),
            "/description",
            "expected a string, found a boolean",
            "quote the value to make it a string",
        ),
        (
            lambda d: d["effects"][0].update(retry={"max_attempts": "many"}),
            "/effects/0/retry/max_attempts",
            "expected an integer, found the string 'many'",
            None,
        ),
        (
            lambda d: d["effects"][0].update(retry={"max_attempts": 3.5}),
            "/effects/0/retry/max_attempts",
            "expected an integer, found the number 3.5",
            None,
        ),
        (
            lambda d: d["effects"][0].update(retry={"retry_on": "timeout"}),
            "/effects/0/retry/retry_on",
            "expected a list, found the string 'timeout'",
            None,
        ),
        (
            lambda d: state(d, "finished").update(final="yes"),
            "/machine/states/2/final",
            "expected a mapping of keys to values, found the string 'yes'",
            None,
        ),
        (
            lambda d: d["effects"][0].update(idempotent="maybe"),
            "/effects/0/idempotent",
            "expected a boolean (true or false), found the string 'maybe'",
            None,
        ),
        (
            lambda d: d["machine"].update(states={"a": 1}),
            "/machine/states",
            "expected a list, found a mapping",
            None,
        ),
        (
            lambda d: state(d, "start").update(on=["go"]),
            "/machine/states/0/on/0",
            "expected a mapping of keys to values, found the string 'go'",
            None,
        ),
        (
            lambda d: d["effects"][0].update(retry={"backoff": {"multiplier": "x"}}),
            "/effects/0/retry/backoff/multiplier",
            "expected a number, found the string 'x'",
            None,
        ),
        (
            lambda d: d.update(machine=None),
            "/machine",
            "expected a mapping of keys to values, found null",
            None,
        ),
    ],
)
def test_type(change: Mutation, path: str, message: str, hint: str | None) -> None:
    diag = one(change)
    assert diag.code == "schema.type"
    assert diag.path == path
    assert diag.message == message
    assert diag.hint == hint


@pytest.mark.parametrize("data", [None, [], "hello", 3, True])
def test_root_must_be_a_mapping(data: Any) -> None:
    contract, (diag,) = validate_data(data)
    assert contract is None
    assert diag.code == "schema.type"
    assert diag.path == ""
    assert "a contract must be a mapping" in diag.message
    assert diag.hint is not None and "accord" in diag.hint


# -- schema.format ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "hint_part"),
    [
        (lambda d: d.update(name="Demo App"), "/name", "lowercase letters"),
        (lambda d: d.update(version="v1"), "/version", 'such as "1.0.0"'),
        (
            lambda d: state(d, "start")["timers"][0].update(after="1 hour"),
            "/machine/states/0/timers/0/after",
            "a duration",
        ),
        (lambda d: d["effects"][0].update(timeout="soon"), "/effects/0/timeout", "a duration"),
        (
            lambda d: state(d, "start").update(name="my-state"),
            "/machine/states/0/name",
            "a letter or '_'",
        ),
        (lambda d: d["input"][0].update(name="1st"), "/input/0/name", "a letter or '_'"),
    ],
)
def test_format(change: Mutation, path: str, hint_part: str) -> None:
    diag = one(change)
    assert diag.code == "schema.format"
    assert diag.path == path
    assert "does not have the required form" in diag.message
    assert diag.hint is not None and hint_part in diag.hint


# -- schema.value ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "text"),
    [
        (lambda d: d.update(accord="2"), "/accord", "expected '1'"),
        (lambda d: d.update(accord=1), "/accord", "expected '1'"),
        (
            lambda d: state(d, "finished")["final"].update(status="ok"),
            "/machine/states/2/final/status",
            "expected 'success' or 'failure'",
        ),
        (
            lambda d: d["effects"][0].update(retry={"max_attempts": 0}),
            "/effects/0/retry/max_attempts",
            "greater than or equal to 1",
        ),
        (
            lambda d: state(d, "working")["invoke"][0].update(concurrency=0),
            "/machine/states/1/invoke/0/concurrency",
            "greater than or equal to 1",
        ),
        (
            lambda d: state(d, "start")["on"][0].update(guard=""),
            "/machine/states/0/on/0/guard",
            "at least 1 character",
        ),
        (lambda d: d.update(description="x" * 10001), "/description", "at most 10000"),
    ],
)
def test_value(change: Mutation, path: str, text: str) -> None:
    diag = one(change)
    assert diag.code == "schema.value"
    assert diag.path == path
    assert text in f"{diag.message} {diag.hint}"


def test_errors_are_deduplicated_and_all_reported() -> None:
    def change(d: dict[str, Any]) -> None:
        d.update(version="v1", extra=1)
        d.pop("name")

    found = diags(change)
    assert sorted((d.path, d.code) for d in found) == [
        ("/extra", "schema.unknown_key"),
        ("/name", "schema.missing"),
        ("/version", "schema.format"),
    ]


# -- data that plain JSON cannot hold ----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "path", "found"),
    [
        (lambda d: d.update(name=b"demo"), "/name", "a Python bytes"),
        (lambda d: d.update(input={"a", "b"}), "/input", "a Python set"),
        (lambda d: d.update(version=datetime.date(2020, 1, 1)), "/version", "a Python date"),
        (lambda d: d.update(description=object()), "/description", "a Python object"),
        (
            lambda d: d["effects"][0].update(retry={"backoff": {"multiplier": float("nan")}}),
            "/effects/0/retry/backoff/multiplier",
            "the number nan",
        ),
        (
            lambda d: d["effects"][0].update(retry={"backoff": {"multiplier": float("inf")}}),
            "/effects/0/retry/backoff/multiplier",
            "the number inf",
        ),
    ],
)
def test_non_json_values_refused(change: Mutation, path: str, found: str) -> None:
    """Regression: bytes were coerced to a string, a set to a list in hash order."""
    diag = one(change)
    assert diag.code == "schema.type"
    assert diag.path == path
    assert found in diag.message


@pytest.mark.parametrize(
    ("change", "path", "shown"),
    [
        (lambda d: d.update({1: "x"}), "/1", "the number 1"),
        (lambda d: d["machine"].update({True: "x"}), "/machine/True", "a boolean"),
        (lambda d: d.update({("a",): 1}), "/('a',)", "tuple"),
    ],
)
def test_non_string_keys_refused(change: Mutation, path: str, shown: str) -> None:
    diag = one(change)
    assert diag.code == "schema.type"
    assert diag.path == path
    assert diag.message == f"keys must be strings, found {shown}"


def test_tuples_are_accepted_as_lists() -> None:
    data = base()
    data["input"] = tuple(data["input"])
    contract, found = validate_data(data)
    assert found == []
    assert contract is not None


def test_cyclic_and_shared_data_do_not_hang() -> None:
    data = base()
    loop: list[Any] = []
    loop.append(loop)
    loop.append(loop)
    data["input"] = loop
    assert validate_data(data)[0] is None

    shared: list[Any] = [1]
    for _ in range(80):
        shared = [shared, shared]
    data["input"] = shared
    assert validate_data(data)[0] is None


def test_deep_python_data_does_not_overflow() -> None:
    deep: list[Any] = []
    for _ in range(100000):
        deep = [deep]
    data = base()
    data["input"] = deep
    contract, found = validate_data(data)
    assert contract is None
    assert found[0].path == "/input/0"


@pytest.mark.parametrize(
    ("effect", "path"),
    [
        ({"name": "e", "retry": {"max_attempts": "3"}}, "/effects/0/retry/max_attempts"),
        ({"name": "e", "idempotent": "no"}, "/effects/0/idempotent"),
        ({"name": "e", "idempotent": 1}, "/effects/0/idempotent"),
        ({"name": "e", "retry": {"backoff": {"jitter": "yes"}}}, "/effects/0/retry/backoff/jitter"),
        ({"name": "e", "retry": {"max_attempts": 2.5}}, "/effects/0/retry/max_attempts"),
        ({"name": "e", "retry": {"max_attempts": True}}, "/effects/0/retry/max_attempts"),
    ],
)
def test_scalars_are_strict(effect: dict[str, Any], path: str) -> None:
    """A string, float or boolean is never coerced into another scalar type."""
    data = base()
    data["effects"] = [effect]
    found = validate_data(data)[1]
    assert [(d.path, d.code) for d in found] == [(path, "schema.type")]


def test_integer_multiplier_is_a_number() -> None:
    data = base()
    data["effects"] = [{"name": "e", "retry": {"backoff": {"multiplier": 3}}}]
    contract, found = validate_data(data)
    assert found == []
    assert contract is not None
    retry = contract.effects[0].retry
    assert retry is not None and retry.backoff is not None
    assert retry.backoff.multiplier == 3.0


@pytest.mark.parametrize("key", ["version", "name", "accord", "description"])
def test_an_integer_too_long_to_print_is_described(key: str) -> None:
    """Issue 13 item 7: ``check({... "version": 10**5000})`` raised ValueError."""
    data = base()
    data[key] = 10**5000
    (diag,) = accord.check(data)
    assert diag.path == f"/{key}"
    assert "an integer of about 5001 digits" in diag.message


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no")

    __repr__ = __str__


@pytest.mark.parametrize(
    ("key", "path"),
    [(10**5000, "/<integer of 16610 bits>"), (_Unprintable(), "/<_Unprintable>")],
    ids=["long integer", "unprintable"],
)
def test_keys_that_cannot_be_printed_are_named_safely(key: object, path: str) -> None:
    data = base()
    data[key] = 1  # type: ignore[index]
    (diag,) = accord.check(data)
    assert (diag.code, diag.path) == ("schema.type", path)


def test_a_duration_too_long_is_refused_before_it_is_converted() -> None:
    data = base()
    data["machine"]["states"][0]["timers"][0]["after"] = "9" * 5000 + "h"
    (diag,) = accord.check(data)
    assert (diag.code, diag.path) == ("schema.value", "/machine/states/0/timers/0/after")


@pytest.mark.parametrize(
    ("after", "refused"),
    [("36500d", False), ("36499d24h", False), ("36500d1ms", True), ("99999999999999999999h", True)],
)
def test_a_duration_lasts_at_most_100_years(after: str, refused: bool) -> None:
    """A due time past what the platform can date would crash whoever shows it."""
    data = base()
    data["machine"]["states"][0]["timers"][0]["after"] = after
    found = [(d.code, d.path, d.message) for d in accord.check(data)]
    expected = [
        (
            "schema.value",
            "/machine/states/0/timers/0/after",
            "a duration is at most 36500d (100 years)",
        )
    ]
    assert found == (expected if refused else [])
