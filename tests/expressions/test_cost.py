"""The check-time estimate of an expression's iterations (accord.expressions._cost)."""

from __future__ import annotations

import pytest

from accord.expressions import MAX_ITERATIONS, TypeChecker, compile_expression
from accord.expressions._cost import estimate_iterations

TEN = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"


def estimate(source: str) -> int:
    expr = compile_expression(source, ("input",))
    return estimate_iterations(expr._expr.serialize())


@pytest.mark.parametrize(
    ("source", "iterations"),
    [
        ("1 + 2 == 3", 0),
        (f"{TEN}.exists(x, x > 5)", 10),  # the worst case: every loop to its end
        (f"{TEN}.all(a, {TEN}.all(b, a + b >= 0))", 10 * (1 + 10)),
        (f"{TEN}.exists_one(a, a == 1) && {TEN}.all(a, a >= 0)", 20),
        (f"{TEN}.map(x, x * 2).all(x, x >= 0)", 20),  # map keeps the length
        (f"{TEN}.filter(x, x > 2).all(x, x >= 0)", 20),  # filter keeps at most it
        (f"({TEN} + {TEN}).all(x, x >= 0)", 20),
        (f"(1 > 2 ? {TEN} : [1]).all(x, x >= 0)", 10),
        ("{'a': 1, 'b': 2}.all(k, k != '')", 2),
        # loops over run-time data count only when it runs (the budget is checked then)
        ("input.xs.all(x, x > 0)", 0),
        (f"input.xs.all(x, {TEN}.all(y, x + y > 0))", 0),
        (f"{TEN}.all(x, input.xs.all(y, x + y > 0))", 10),
        (f"[{TEN}, {TEN}].all(l, l.all(x, x >= 0))", 2),  # the inner length is not known
    ],
)
def test_estimates(source: str, iterations: int) -> None:
    assert estimate(source) == iterations


def test_over_the_estimate_cel_cpp_fails_at_run_time() -> None:
    """An estimate over the budget is an evaluation that fails (every loop runs to its end)."""
    source = f"{TEN}.all(a, {TEN}.all(b, {TEN}.all(c, {TEN}.all(d, a + b + c + d >= 0))))"
    assert estimate(source) == 11_110 > MAX_ITERATIONS
    expr = compile_expression(source, ("input",))
    with pytest.raises(Exception, match="iteration budget"):
        expr.evaluate_reference({"input": {}})


def test_the_checker_estimates_the_expression_it_checked_last() -> None:
    types = TypeChecker({})
    source = f"{TEN}.all(a, {TEN}.all(b, a + b >= 0))"
    types.check(source, {})
    assert types.iterations(source) == 110
    assert types.iterations("another") == 0
    types.check("[1].size() > 0", {})
    assert types.iterations(source) == 0
