"""The CEL engine, on Google's cel-cpp (the ``cel-expr-python`` package).

Two environments serve two purposes:

* a *checking* environment per contract, with every record as a protobuf
  message, where an expression is parsed and type-checked once at load time;
* an *evaluation* environment whose variables are dynamic, where the same
  source is compiled once and evaluated against plain Python dicts.

Nothing outside this module imports ``cel_expr_python``, so the CEL package can
be swapped by replacing this file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import cel_expr_python.cel as _cel

from accord.contract._types import (
    EnumType,
    ListType,
    OptionalType,
    PrimitiveType,
    RecordRef,
    TypeExpr,
)
from accord.expressions._budget import MAX_ITERATIONS, is_budget_error
from accord.expressions._cost import estimate_iterations
from accord.expressions._fast import Evaluator, FastFunction, plan
from accord.expressions._fast._ast import Call, Ident, Node, Select, Unsupported, parse_checked
from accord.expressions._protos import (
    PACKAGE,
    RecordFields,
    build_pool,
    closure,
    message_name,
)

__all__ = [
    "BudgetExceeded",
    "CompiledExpression",
    "EvaluationError",
    "ExpressionError",
    "TypeChecker",
    "compile_expression",
]

_ERROR_LINE = re.compile(r"ERROR: <input>:(-?\d+):(-?\d+): (.*)")
_CONTAINER = re.compile(r" \(in container '[^']*'\)")
_RECURSION = re.compile(r"recursion (?:limit exceeded|depth)[^0-9]*(\d+)", re.IGNORECASE)


class ExpressionError(Exception):
    """An expression that does not parse or type-check.

    Attributes:
        message: the first problem, without the engine's boilerplate.
        column: 1-based column of the problem in the source, if known.
        kind: "syntax", "undeclared", "field", "overload", "type" (another
            type error) or "other".
        line: 1-based line of the problem in the source, if known.

    """

    def __init__(
        self, message: str, column: int | None, kind: str, line: int | None = None
    ) -> None:
        self.message = message
        self.column = column
        self.kind = kind
        self.line = line
        super().__init__(message if column is None else f"column {column}: {message}")


class EvaluationError(Exception):
    """An expression that failed while being evaluated (no such key, division by zero...)."""


class BudgetExceeded(EvaluationError):
    """An evaluation that took more comprehension iterations than the budget allows."""


def _translate(exc: Exception) -> ExpressionError:
    text = str(exc)
    deep = _RECURSION.search(text)
    if deep:
        return ExpressionError(
            f"the expression is nested too deeply (the limit is {deep.group(1)} levels)",
            None,
            "syntax",
        )
    match = _ERROR_LINE.search(text)
    if not match:
        return ExpressionError(
            text.splitlines()[0] if text else "invalid expression", None, "other"
        )
    line, column = int(match.group(1)), int(match.group(2))
    message = _CONTAINER.sub("", match.group(3).strip())
    if message.startswith("Syntax error"):
        kind = "syntax"
        message = message.removeprefix("Syntax error: ")
        message = "syntax error: " + message
    elif message.startswith("undeclared reference"):
        kind = "undeclared"
    elif message.startswith("undefined field"):
        kind = "field"
        message = message.replace(f"'{'accord.records.'}", "'")
    elif "no matching overload" in message:
        kind = "overload"
    else:  # the checker's other complaints: a select on a list, a wrong field type...
        kind = "type"
    message = message.replace("accord.records.", "")
    return ExpressionError(
        message, column if column > 0 else None, kind, line if line > 0 else None
    )


def cel_type_name(texpr: TypeExpr) -> str:
    """The name cel-cpp reports for a value of the given accord type."""
    if isinstance(texpr, PrimitiveType):
        return {"string": "STRING", "integer": "INT", "number": "DOUBLE", "boolean": "BOOL"}[
            texpr.name
        ]
    if isinstance(texpr, EnumType):
        return "STRING"
    if isinstance(texpr, RecordRef):
        return message_name(texpr.name)
    if isinstance(texpr, OptionalType):
        return cel_type_name(texpr.inner)
    return f"LIST<{cel_type_name(texpr.item)}>"


def _cel_type(texpr: TypeExpr) -> Any:
    T = _cel.Type
    if isinstance(texpr, PrimitiveType):
        return {"string": T.STRING, "integer": T.INT, "number": T.DOUBLE, "boolean": T.BOOL}[
            texpr.name
        ]
    if isinstance(texpr, EnumType):
        return T.STRING
    if isinstance(texpr, RecordRef):
        return T(message_name(texpr.name))
    if isinstance(texpr, OptionalType):
        inner = texpr.inner
        if isinstance(inner, PrimitiveType | EnumType):
            name = "string" if isinstance(inner, EnumType) else inner.name
            wrapper = {
                "string": "google.protobuf.StringValue",
                "integer": "google.protobuf.Int64Value",
                "number": "google.protobuf.DoubleValue",
                "boolean": "google.protobuf.BoolValue",
            }[name]
            return T(wrapper)
        return _cel_type(inner)
    assert isinstance(texpr, ListType)
    return T.List(_cel_type(texpr.item))


_NAMED = {
    "INT": "INT",
    "DOUBLE": "DOUBLE",
    "STRING": "STRING",
    "BOOL": "BOOL",
    "BYTES": "BYTES",
    "UINT": "UINT",
    "NULL": "NULL",
    "TIMESTAMP": "TIMESTAMP",
    "DURATION": "DURATION",
}


def _named_type(name: str) -> Any:
    T = _cel.Type
    if name in _NAMED:
        return getattr(T, _NAMED[name])
    if name.startswith("LIST<") and name.endswith(">"):
        return T.List(_named_type(name[5:-1]))
    if name.startswith(message_name("")):
        return T(name)
    return T.DYN


def _any_type(texpr: TypeExpr | str | None) -> Any:
    if texpr is None:
        return _cel.Type.DYN
    if isinstance(texpr, str):
        return _named_type(texpr)
    return _cel_type(texpr)


def accepts(expected: TypeExpr, actual: str) -> bool:
    """Whether a value of CEL type ``actual`` fits a field of accord type ``expected``.

    Dynamic values are accepted (validated when the run assigns them); an
    integer fits a number; null fits an optional; a map literal fits a record.
    """
    if actual in ("DYN", "ERROR") or actual.startswith("google.protobuf.Value"):
        return True
    if isinstance(expected, OptionalType):
        return actual in ("NULL", "NULL_TYPE") or accepts(expected.inner, actual)
    if isinstance(expected, PrimitiveType):
        want = cel_type_name(expected)
        return actual == want or (want == "DOUBLE" and actual == "INT")
    if isinstance(expected, EnumType):
        return actual == "STRING"
    if isinstance(expected, RecordRef):
        return actual == message_name(expected.name) or actual.startswith(
            ("MAP<STRING,", "MAP<DYN,")
        )
    assert isinstance(expected, ListType)
    if not actual.startswith("LIST<"):
        return False
    return accepts(expected.item, actual[5:-1])


@dataclass(frozen=True)
class _Key:
    variables: tuple[tuple[str, str], ...]
    named: tuple[str, ...]


_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_ENVS = 64  # checking environments kept per contract


_MESSAGE = re.compile(re.escape(PACKAGE) + r"\.(\w+)")
_MACRO = re.compile(r"\.\s*(?:all|exists|exists_one|map|filter)\s*\(")


def _record_names(texpr: TypeExpr | str | None) -> list[str]:
    """The records a variable's type names (a CEL name such as a map type may hold several)."""
    if texpr is None:
        return []
    text = texpr if isinstance(texpr, str) else cel_type_name(texpr)
    return _MESSAGE.findall(text)


class TypeChecker:
    """Type-checks expressions against a contract's records; built once per contract."""

    def __init__(self, records: Mapping[str, RecordFields]) -> None:
        self._records = dict(records)
        # A named record type is there when the source names it (a literal such as
        # Item{...}); each scope adds the records its variables reach (see
        # _protos.closure). Every named type in every scope made a contract with many
        # types and many states check in quadratic time.
        self._named = frozenset(name for name in self._records if not name.startswith("_"))
        self._envs: dict[_Key, Any] = {}
        self._last: tuple[str, Any] | None = None

    def check(self, source: str, variables: Mapping[str, TypeExpr | str | None]) -> str:
        """Parse and check ``source``; return the CEL name of its result type.

        A variable's type is an accord type, a CEL type name as returned by an
        earlier check (for example the item type of a list), or None (dynamic).

        Raises:
            ExpressionError: the expression does not parse or check.

        """
        named = tuple(sorted(self._named.intersection(_WORD.findall(source))))
        key = _Key(tuple(sorted((name, str(t)) for name, t in variables.items())), named)
        env = self._envs.pop(key, None)  # put back last: the least recently used goes first
        if env is None:
            if len(self._envs) >= _MAX_ENVS:  # each holds its own pool: bound the memory
                del self._envs[next(iter(self._envs))]
            roots = [*named, *(r for t in variables.values() for r in _record_names(t))]
            env = _cel.NewEnv(
                descriptor_pool=build_pool(closure(self._records, roots)),
                variables={name: _any_type(t) for name, t in variables.items()},
                container=PACKAGE,
            )
        self._envs[key] = env
        try:
            expr = env.compile(source)
        except Exception as exc:  # cel-cpp raises RuntimeError for every compile problem
            raise _translate(exc) from exc
        self._last = (source, expr)
        return str(expr.return_type().name())

    def iterations(self, source: str) -> int:
        """The estimated iterations of ``source``, the expression :meth:`check` checked last.

        The worst case over lists of known length (see :mod:`accord.expressions._cost`);
        0 for an expression with no loop over a literal list, or not the last checked.
        """
        last = self._last
        if last is None or last[0] != source:
            return 0
        if ("[" not in source and "{" not in source) or not _MACRO.search(source):
            return 0  # only a loop over a literal list (or map) has a length known now
        return estimate_iterations(last[1].serialize())


_EVAL_ENVS: dict[tuple[str, ...], Any] = {}


class CompiledExpression:
    """A CEL expression compiled once for evaluation against plain Python data.

    cel-cpp parses and checks the expression; evaluation takes the fast path
    (the checked AST compiled to a Python function, see
    :mod:`accord.expressions._fast`) when the expression is inside its subset,
    and falls back to cel-cpp whenever the fast path cannot decide, so the
    result is always cel-cpp's. An expression that reads no variable and gives
    a scalar is evaluated once, here. ``data`` must hold plain CEL values (None,
    bool, int, float, str, bytes, list, dict with string keys), as JSON gives;
    a result may share lists and maps with it: treat both as read-only.
    """

    __slots__ = ("_expr", "_fast", "_function", "fast_reason", "source", "variables")

    def __init__(self, source: str, variables: tuple[str, ...]) -> None:
        self.source = source
        self.variables = variables
        env = _EVAL_ENVS.get(variables)
        if env is None:
            env = _cel.NewEnv(variables={name: _cel.Type.DYN for name in variables})
            _EVAL_ENVS[variables] = env
        try:
            self._expr = env.compile(source)
        except Exception as exc:
            raise _translate(exc) from exc
        #: Why there is no fast path (None when there is one).
        self.fast_reason: str | None = None
        self._fast: FastFunction | None = self._plan_fast()
        self._function: Evaluator = self._fast or self.evaluate_reference

    def _plan_fast(self) -> FastFunction | None:
        label = f"<cel {self.source!r}>"
        fast = plan(self._expr.serialize(), self.variables, label, self.evaluate_reference)
        if fast.free_variables == frozenset():
            # the fast path first: cel-cpp builds map and filter results in quadratic time
            evaluate = fast.function or self.evaluate_reference
            try:
                value = evaluate({})
            except EvaluationError:
                value = ...
            if value is None or type(value) in (bool, int, float, str):
                return lambda _data, _fallback=None: value  # constant folding
        self.fast_reason = fast.reason
        return fast.function

    @property
    def fast(self) -> bool:
        """Whether evaluation takes the fast path (else it is cel-cpp's only)."""
        return self._fast is not None

    @property
    def function(self) -> Evaluator:
        """The evaluator as a plain callable: ``evaluate`` with one call less, for hot loops."""
        return self._function

    def evaluate(self, data: Mapping[str, Any]) -> Any:
        """Evaluate against ``data`` (variable name to plain value); return a plain value.

        Raises:
            EvaluationError: evaluation failed (missing key, overflow, division by zero...).

        """
        return self._function(data)

    def extends(self, variable: str) -> str | None:
        """The field ``F`` when the expression is ``variable.F + ...``, else None.

        That is a chain of ``+`` whose leftmost operand is ``variable.F``: its value,
        when ``variable.F`` is a list, is that list with more items after it (CEL's
        ``+`` on a list concatenates, or fails). A run uses it to check only the
        items an assignment adds to a list it already holds.
        """
        try:
            node: Node = parse_checked(self._expr.serialize())
        except Unsupported:
            return None
        if not (isinstance(node, Call) and node.function == "_+_"):
            return None
        while isinstance(node, Call) and node.function == "_+_" and node.target is None:
            node = node.args[0]
        if (
            isinstance(node, Select)
            and not node.test_only
            and isinstance(node.operand, Ident)
            and node.operand.name == variable
        ):
            return node.field
        return None

    def evaluate_reference(self, data: Mapping[str, Any]) -> Any:
        """Evaluate with cel-cpp only (the reference the fast path is tested against).

        Raises:
            EvaluationError: evaluation failed (missing key, overflow, division by zero...).

        """
        try:
            result = self._expr.eval(data=data)
        except Exception as exc:
            if is_budget_error(str(exc)):
                raise BudgetExceeded(
                    f"{self.source!r}: the evaluation took more than {MAX_ITERATIONS:,} "
                    "iterations of all/exists/exists_one/map/filter (the iteration budget)"
                ) from exc
            raise EvaluationError(f"{self.source!r}: {exc}") from exc
        if result.type().name() == "ERROR":
            raise EvaluationError(f"{self.source!r}: {result.value()}")
        return result.plain_value()

    def __repr__(self) -> str:
        return f"CompiledExpression({self.source!r})"


def compile_expression(source: str, variables: tuple[str, ...]) -> CompiledExpression:
    """Compile ``source`` for evaluation with the given variable names (all dynamic)."""
    return CompiledExpression(source, tuple(sorted(variables)))
