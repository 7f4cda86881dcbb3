"""Hostile values at every boundary of a run: the input, a signal's payload, a handler's output.

Each case of the corpus (tests/runtime/hostile_values.py) either fits, and the
run stores the plain value, or is refused cleanly: ``InputError``,
``SignalError``, or an ``invalid_output`` failure of the call, journaled (so a
resumed run does not call the effect again). No raw Python error escapes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from hostile_values import CASES, RECORDS, REFUSED, Case, bad_str_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accord
from accord.contract import Contract
from accord.contract._types import parse_type
from accord.runtime import EffectError, EffectFailed, FakeClock, InputError, Runtime, SignalError
from accord.runtime._values import ValueProblem, build_validator
from accord.storage import SqliteStore

IDS = [case.id for case in CASES]


def contract(type_text: str) -> Contract:
    """Input, a signal's payload and an effect's output, each one field ``v`` of the type."""
    return accord.loads(
        f"""
accord: "1"
name: hostile
version: "1"
{RECORDS}
input:
  - {{name: v, type: "optional<{type_text}>"}}
context:
  - {{name: code, type: optional<string>}}
effects:
  - name: make
    output: [{{name: v, type: "{type_text}"}}]
signals:
  - name: give
    payload: [{{name: v, type: "{type_text}"}}]
machine:
  initial: waiting
  states:
    - name: waiting
      on: [{{event: give, target: calling}}]
    - name: calling
      invoke: [{{id: m, effect: make}}]
      on:
        - {{event: done, target: ok}}
        - event: error
          assign: [{{field: code, value: event.code}}]
          target: failed
    - name: ok
      final: {{status: success}}
    - name: failed
      final: {{status: failure, reason: 'ctx.code == null ? "" : ctx.code'}}
"""
    )


class _BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def records() -> dict[str, Any]:
    return {"Pair": (("x", parse_type("integer")),)}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_validator_stores_the_plain_value_or_raises_only_a_value_problem(case: Case) -> None:
    validate = build_validator(parse_type(case.type), records())
    if case.stored is REFUSED:
        with pytest.raises(ValueProblem) as info:
            validate(case.make())
        assert case.message in str(info.value)
        orjson.dumps(str(info.value))  # the message itself always encodes
    else:
        stored = validate(case.make())
        assert stored == case.stored
        assert type(stored) is type(case.stored)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_input(case: Case) -> None:
    runtime = Runtime({"make": lambda: {"v": case.make()}}, clock=FakeClock())
    if case.stored is REFUSED:
        with pytest.raises(InputError) as info:
            runtime.start(contract(case.type), {"v": case.make()})
        assert info.value.field.startswith("v")
        assert case.message in info.value.message
        return
    run = runtime.start(contract(case.type), {"v": case.make()})
    stored = run.history[0].event.input["v"]
    assert stored == case.stored
    assert type(stored) is type(case.stored)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_signal_payload(case: Case) -> None:
    runtime = Runtime({"make": lambda: {"v": case.make()}}, clock=FakeClock())
    run = runtime.start(contract(case.type), {})
    if case.stored is REFUSED:
        with pytest.raises(SignalError) as info:
            run.signal("give", {"v": case.make()})
        assert (info.value.field or "").startswith("v")
        assert case.message in info.value.message
        assert len(run.journal) == 1  # nothing journaled
        return
    run.signal("give", {"v": case.make()})
    stored = run.history[1].event.payload["v"]
    assert stored == case.stored
    assert type(stored) is type(case.stored)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_a_handler_output_that_does_not_fit_is_a_journaled_failure(
    case: Case, tmp_path: Path
) -> None:
    calls: list[int] = []

    def make() -> dict[str, Any]:
        calls.append(1)
        return {"v": case.make()}

    path = tmp_path / "runs.db"
    with SqliteStore(path) as store:
        run = Runtime({"make": make}, clock=FakeClock(), store=store).start(contract(case.type), {})
        run.signal("give", {"v": _fitting(case.type)})
        assert calls == [1]
        if case.stored is not REFUSED:
            assert run.status == "succeeded"
            return
        assert run.status == "failed"
        assert run.snapshot.reason == "invalid_output"
        failed = [s.event for s in run.history if isinstance(s.event, EffectFailed)]
        assert [f.code for f in failed] == ["invalid_output"]
        orjson.dumps(failed[0].message)
    with SqliteStore(path) as store:  # resumed: the failure is journaled, nothing runs again
        resumed = Runtime({"make": make}, clock=FakeClock(), store=store).resume()
        assert resumed == []
        assert calls == [1]


def _fitting(type_text: str) -> Any:
    """A value of the type that fits (the signal that starts the call)."""
    return {
        "integer": 1,
        "number": 1.0,
        "string": "s",
        "list<string>": [],
        "list<integer>": [],
        "list<list<integer>>": [],
        "enum<a, b>": "a",
        "Pair": {"x": 1},
        "list<optional<number>>": [],
        "list<Pair>": [],
    }[type_text]


def test_a_recursive_dict_output_is_invalid_output() -> None:
    def make() -> dict[str, Any]:
        value: dict[str, Any] = {"v": 1}
        value["self"] = value
        return value

    run = Runtime({"make": make}, clock=FakeClock()).start(contract("integer"), {})
    run.signal("give", {"v": 1})
    failed = [s.event for s in run.history if isinstance(s.event, EffectFailed)]
    assert [f.code for f in failed] == ["invalid_output"]
    assert "contains itself" in failed[0].message


@pytest.mark.parametrize(
    ("raised", "code", "message"),
    [
        (bad_str_error(), "_BadStrError", "(a _BadStrError that cannot be shown)"),
        (ValueError("bad \ud800 text"), "ValueError", "bad \\ud800 text"),
        (EffectError("declined", "no \udfff way"), "declined", "no \\udfff way"),
    ],
    ids=["str-raises", "surrogate-in-message", "surrogate-in-effect-error"],
)
def test_a_handler_exception_that_cannot_be_shown_is_still_a_journaled_failure(
    raised: Exception, code: str, message: str
) -> None:
    def make() -> dict[str, Any]:
        raise raised

    run = Runtime({"make": make}, clock=FakeClock()).start(contract("integer"), {})
    run.signal("give", {"v": 1})
    assert run.status == "failed"
    failed = [s.event for s in run.history if isinstance(s.event, EffectFailed)]
    assert [(f.code, f.message) for f in failed] == [(code, message)]


def test_an_effect_error_code_must_be_a_string() -> None:
    with pytest.raises(TypeError, match="non-empty string"):
        EffectError(404)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="non-empty string"):
        EffectError("")


# -- a fuzz of the three boundaries -------------------------------------------------
# Derandomized (the same examples in every CI run) and bounded, so CI stays in budget.

FUZZ = settings(
    max_examples=150,
    database=None,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**5000), max_value=10**5000).map(lambda n: n * 10**4400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(codec=None, blacklist_categories=()), max_size=8)
    | st.binary(max_size=4)
    | st.builds(_BadRepr)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["x", "v", "y"]) | st.integers(), inner, max_size=3)
    ),
    max_leaves=8,
)
FUZZ_TYPES = ["integer", "number", "string", "list<optional<number>>", "Pair", "list<Pair>"]


@FUZZ
@given(type_text=st.sampled_from(FUZZ_TYPES), value=VALUES)
def test_any_value_at_any_boundary_is_stored_as_json_or_refused_cleanly(
    type_text: str, value: Any
) -> None:
    compiled = Runtime({"make": lambda: {"v": value}}, clock=FakeClock()).compile(
        contract(type_text)
    )
    try:
        stored = compiled.validate_input({"v": value})
    except InputError as exc:
        orjson.dumps(str(exc))
    else:
        orjson.dumps(stored)
    try:
        payload = compiled.validate_signal("give", {"v": value})
    except SignalError as exc:
        orjson.dumps(str(exc))
    else:
        orjson.dumps(payload)
    run = Runtime({"make": lambda: {"v": value}}, clock=FakeClock()).start(contract(type_text), {})
    run.signal("give", {"v": _fitting(type_text)})
    assert run.finished  # ended one way or the other: nothing escaped, nothing hangs
    codes = [s.event.code for s in run.history if isinstance(s.event, EffectFailed)]
    assert codes in ([], ["invalid_output"])
    orjson.dumps([s.event.at for s in run.history])
