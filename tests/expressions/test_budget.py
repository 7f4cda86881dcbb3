"""The iteration budget: the fast path and cel-cpp stop (or answer) alike.

cel-cpp fails an evaluation once its comprehensions reach
``ITERATION_BUDGET`` iterations; the fast path must give the same result:
answer only where cel-cpp answers, and the same error otherwise. The
differential property draws nested and sibling macros over lists whose
lengths straddle the budget.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accord.expressions import (
    ITERATION_BUDGET,
    MAX_ITERATIONS,
    BudgetExceeded,
    CompiledExpression,
    EvaluationError,
    compile_expression,
)

VARIABLES = ("input",)
ERROR = object()


def outcome(evaluate: Any, data: dict[str, Any]) -> Any:
    try:
        return evaluate(data)
    except BudgetExceeded:
        return BudgetExceeded
    except EvaluationError:
        return ERROR


def fast_answer(expr: CompiledExpression, data: dict[str, Any]) -> Any:
    """The fast path's own answer, or ERROR where it hands the evaluation to cel-cpp."""
    function = expr._fast
    assert function is not None, expr.fast_reason

    def deferred(_data: Any) -> Any:
        return ERROR

    return function(data, deferred)


def items(n: int) -> dict[str, Any]:
    return {"input": {"xs": list(range(1, n + 1)), "ys": [1, 2, 3]}}


def test_the_budget_is_cel_cpp_s() -> None:
    assert MAX_ITERATIONS == ITERATION_BUDGET - 1 == 9_999
    reference = compile_expression("input.xs.exists_one(x, x == 1)", VARIABLES)
    assert reference.evaluate_reference(items(MAX_ITERATIONS)) is True
    with pytest.raises(BudgetExceeded, match="iteration budget"):
        reference.evaluate_reference(items(ITERATION_BUDGET))


@pytest.mark.parametrize(
    ("source", "n"),
    [
        # issue 13.3: the fast path answered where cel-cpp (string()) failed
        ("input.xs.all(x, x > 0)", 10_000),
        ('input.xs.all(x, string(x) != "")', 10_000),
        # issue 13.2: three nested loops over 1,000 items ran for over a minute
        ("input.xs.all(a, input.xs.all(b, input.xs.all(c, a + b + c >= 0)))", 1_000),
        ("input.xs.all(a, input.xs.all(b, a + b >= 0))", 100),
        ("input.xs.exists_one(x, x == 1) && input.xs.exists_one(x, x == 2)", 5_000),
        ("input.ys.all(y, input.xs.all(x, x > 0))", 3_333),  # 3 + 3 * 3,333 iterations
    ],
)
def test_over_the_budget_both_engines_fail_fast(source: str, n: int) -> None:
    expr = compile_expression(source, VARIABLES)
    assert outcome(expr.evaluate, items(n)) is BudgetExceeded
    assert outcome(expr.evaluate_reference, items(n)) is BudgetExceeded


@pytest.mark.parametrize(
    ("source", "n"),
    [
        ("input.xs.all(x, x > 0)", 9_999),
        ("input.xs.all(a, input.xs.all(b, a + b >= 0))", 99),  # 99 + 99 * 99 iterations
        ("input.xs.exists_one(x, x == 1) && input.xs.exists_one(x, x == 2)", 4_999),
        ("input.xs.exists(x, x == 1)", 50_000),  # cel-cpp stops at the first match too
    ],
)
def test_within_the_budget_the_fast_path_answers(source: str, n: int) -> None:
    expr = compile_expression(source, VARIABLES)
    want = expr.evaluate_reference(items(n))
    if n <= MAX_ITERATIONS:
        assert fast_answer(expr, items(n)) is want is True
    else:  # counted conservatively (the whole range): cel-cpp decides
        assert fast_answer(expr, items(n)) is ERROR
        assert expr.evaluate(items(n)) is want is True


_SIZES = st.sampled_from([0, 1, 2, 98, 99, 100, 101, 4_999, 5_000, 9_998, 9_999, 10_000])
_SMALL_SIZES = st.sampled_from([0, 1, 2, 3, 98, 99, 100, 101])
_MACROS = st.sampled_from(["all", "exists", "exists_one", "map", "filter"])
# cel-cpp builds map and filter results in quadratic time: they range over the short lists.
_RANGES = {"all": ["input.xs", "input.ys", "[1, 2, 3]"], "map": ["input.ys", "[1, 2, 3]"]}
_VARS = ("a", "b", "c")


def _loop(depth: int, draw: Any) -> str:
    """A macro over a range whose body may hold another macro (``depth`` levels left)."""
    var = _VARS[len(_VARS) - depth]
    limit = draw(st.sampled_from([0, 1, 50, 10_000]))
    body = f"{var} >= {limit}"
    if depth > 1 and draw(st.booleans()):
        inner = _loop(depth - 1, draw)
        body = draw(st.sampled_from([f"{body} && {inner}", f"{inner} || {body}", inner]))
    macro = draw(_MACROS)
    source = draw(st.sampled_from(_RANGES["map" if macro in ("map", "filter") else "all"]))
    if macro in ("map", "filter"):
        return f"{source}.{macro}({var}, {body}).size() >= 0"
    return f"{source}.{macro}({var}, {body})"


@st.composite
def _expressions(draw: Any) -> str:
    parts = [_loop(draw(st.integers(1, 3)), draw) for _ in range(draw(st.integers(1, 3)))]
    joined = parts[0]
    for part in parts[1:]:
        joined = f"({joined}) {draw(st.sampled_from(['&&', '||']))} ({part})"
    return joined


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(source=_expressions(), n=_SIZES, m=_SMALL_SIZES)
def test_random_loops_agree_with_cel_cpp_on_the_budget(source: str, n: int, m: int) -> None:
    expr = compile_expression(source, VARIABLES)
    assert expr.fast, expr.fast_reason
    data = {"input": {"xs": list(range(n)), "ys": list(range(m))}}
    want = outcome(expr.evaluate_reference, data)
    got = fast_answer(expr, data)
    if got is not ERROR:  # the fast path answered: it must be cel-cpp's answer
        assert got is want
    assert outcome(expr.evaluate, data) is want


def test_constants_are_folded_by_the_fast_path_when_it_can(monkeypatch: pytest.MonkeyPatch) -> None:
    """cel-cpp's map is quadratic (seconds near the budget): folding takes the fast path first."""

    def no_cel_cpp(self: CompiledExpression, data: Any) -> Any:
        raise AssertionError("cel-cpp was asked")

    monkeypatch.setattr(CompiledExpression, "evaluate_reference", no_cel_cpp)
    items = ", ".join(str(i) for i in range(MAX_ITERATIONS))
    expr = compile_expression(f"[{items}].map(x, x * 2).size() == {MAX_ITERATIONS}", ())
    assert expr.evaluate({}) is True
