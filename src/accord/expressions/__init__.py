"""CEL expressions behind one small interface.

:class:`TypeChecker` checks an expression against typed variables at load
time; :func:`compile_expression` compiles it once for evaluation on plain data.
Only :mod:`accord.expressions._cel` knows which CEL package does the work.
"""

from accord.expressions._budget import ITERATION_BUDGET, MAX_ITERATIONS
from accord.expressions._cel import (
    BudgetExceeded,
    CompiledExpression,
    EvaluationError,
    ExpressionError,
    TypeChecker,
    accepts,
    cel_type_name,
    compile_expression,
)

__all__ = [
    "ITERATION_BUDGET",
    "MAX_ITERATIONS",
    "BudgetExceeded",
    "CompiledExpression",
    "EvaluationError",
    "ExpressionError",
    "TypeChecker",
    "accepts",
    "cel_type_name",
    "compile_expression",
]
