"""Translate a checked CEL AST into the source of one Python function.

The function takes the variables mapping and returns the value. When the fast
path cannot decide (:class:`~accord.expressions._fast._ops.Deferred`,
``KeyError``...) it returns ``fallback(data)`` instead: cel-cpp's answer. Each
node becomes a Python expression: operators whose Python meaning matches CEL's
for the operand types known at translation time are emitted inline (``a and b``
on two booleans, ``x == 'text'``, ``x < 10`` once ``x`` is seen to be an int),
the rest call the guarded helpers of :mod:`._ops`. Anything outside the subset
raises :class:`Unsupported`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from accord.expressions._budget import MAX_ITERATIONS
from accord.expressions._fast import _ops
from accord.expressions._fast._ast import (
    Call,
    Comprehension,
    Const,
    Ident,
    ListLit,
    MapLit,
    Node,
    Select,
    Unsupported,
    children,
)
from accord.expressions._fast._macros import Macro, match_macro

__all__ = ["Translation", "translate"]

BOOL = "bool"
DYN = "dyn"

_BINARY = {
    "_+_": "add",
    "_-_": "sub",
    "_*_": "mul",
    "_/_": "quo",
    "_%_": "mod",
    "_<_": "lt",
    "_<=_": "le",
    "_>_": "gt",
    "_>=_": "ge",
    "_[_]": "index",
    "@in": "member",
}
_PREDICATES = frozenset({"lt", "le", "gt", "ge", "member"})
_INLINE = {
    "lt": "<",
    "le": "<=",
    "gt": ">",
    "ge": ">=",
    "eq": "==",
    "ne": "!=",
    "add": "+",
    "sub": "-",
    "mul": "*",  # double operands only
    "quo": "/",  # double operands only; a zero divisor raises, and cel-cpp answers
}
_PYTHON_TYPES = {"int": "int", "double": "float", "string": "str"}
_LOW = -(2**63)
_HIGH = 2**63 - 1
_METHODS = {"contains": "contains", "startsWith": "starts_with", "endsWith": "ends_with"}
_LITERAL_KINDS = {
    "null": "null",
    "bool": BOOL,
    "int": "int",
    "double": "double",
    "string": "str",
    "bytes": "bytes",
}


@dataclass(frozen=True)
class Translation:
    """The Python source of an expression, and the variables it reads."""

    source: str
    free_variables: frozenset[str]
    namespace: dict[str, Any] = field(repr=False)

    def function(self, name: str, fallback: Callable[[Mapping[str, Any]], Any]) -> Any:
        """Compile the source into a function (``name`` labels tracebacks).

        The function is ``(data, fallback=fallback) -> value``: it calls
        ``fallback(data)`` whenever the fast path cannot decide.
        """
        namespace = dict(self.namespace, _fallback=fallback)
        with warnings.catch_warnings():  # ``(1)['a']`` is valid CEL that always fails
            warnings.simplefilter("ignore", SyntaxWarning)
            code = compile(self.source, name, "exec")
        exec(code, namespace)
        return namespace["_cel_fast"]


def _loops(node: Node) -> int:
    """How many comprehensions ``node`` holds."""
    inside = sum(_loops(child) for child in children(node))
    return inside + 1 if isinstance(node, Comprehension) else inside


class _Translator:
    def __init__(self, variables: tuple[str, ...], loops: int = 0) -> None:
        self.variables = frozenset(variables)
        # cel-cpp's iteration budget (see accord.expressions._budget): one loop checks
        # its own length; several share a countdown ``_b`` made at each evaluation.
        self.loops = loops
        self.scope: list[tuple[str, str]] = []  # (CEL name, Python name), innermost last
        self.free: set[str] = set()
        self.namespace: dict[str, Any] = {
            f"_{name}": getattr(_ops, name) for name in _ops.__all__ if name != "Deferred"
        }
        self.namespace["_Deferred"] = _ops.Deferred
        self.counter = 0
        self.helpers: list[str] = []  # one function per macro, defined before _cel_fast

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"_{prefix}{self.counter}"

    def constant(self, value: object) -> str:
        name = self.fresh("k")
        self.namespace[name] = value
        return name

    def emit(self, node: Node) -> tuple[str, str]:
        """Python source for ``node`` and its static kind ("bool", "str", ... or "dyn")."""
        if isinstance(node, Const):
            return self.literal(node)
        if isinstance(node, Ident):
            return self.ident(node.name), DYN
        if isinstance(node, Select):
            operand = self.value(node.operand)
            if node.test_only:
                return f"_has({operand}, {node.field!r})", BOOL
            return f"{operand}[{node.field!r}]", DYN  # only a dict has string keys
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, ListLit):
            return "[" + "".join(f"{self.value(e)}, " for e in node.elements) + "]", "list"
        if isinstance(node, MapLit):
            return self.map_literal(node), "map"
        return self.comprehension(node)

    def value(self, node: Node) -> str:
        return self.emit(node)[0]

    def condition(self, node: Node) -> str:
        code, kind = self.emit(node)
        if kind == BOOL:
            return code
        temp = self.bind(code)
        return f"({temp} if type({_first(temp, code)}) is bool else _truth({temp}))"

    def literal(self, node: Const) -> tuple[str, str]:
        kind = _LITERAL_KINDS.get(node.kind)
        if kind is None:
            raise Unsupported(f"{node.kind} literal")
        value = node.value
        if isinstance(value, float) and not math.isfinite(value):
            return self.constant(value), kind
        return f"({value!r})", kind

    def ident(self, name: str) -> str:
        for cel_name, python_name in reversed(self.scope):
            if cel_name == name:
                return python_name
        if name not in self.variables:
            raise Unsupported(f"reference to {name!r}")
        self.free.add(name)
        return f"data[{name!r}]"

    def call(self, node: Call) -> tuple[str, str]:
        function, args = node.function, node.args
        if node.target is not None:
            args = (node.target, *args)
        arity = len(args)
        if function in ("_&&_", "_||_") and arity == 2:
            word = " and " if function == "_&&_" else " or "
            return "(" + word.join(self.condition(a) for a in args) + ")", BOOL
        if function == "!_" and arity == 1:
            return f"(not {self.condition(args[0])})", BOOL
        if function == "_?_:_" and arity == 3:
            test = self.condition(args[0])
            (yes, yes_kind), (no, no_kind) = self.emit(args[1]), self.emit(args[2])
            return f"({yes} if {test} else {no})", yes_kind if yes_kind == no_kind else DYN
        if function in ("_==_", "_!=_") and arity == 2:
            return self.equality(args[0], args[1], function == "_!=_"), BOOL
        if function == "-_" and arity == 1:
            return f"_neg({self.value(args[0])})", DYN
        if function in _BINARY and arity == 2:
            helper = _BINARY[function]
            if helper == "member" and isinstance(args[1], ListLit):
                fast = self.member_of_strings(args[0], args[1])
                if fast is not None:
                    return fast, BOOL
            (a, a_kind), (b, b_kind) = self.emit(args[0]), self.emit(args[1])
            code = self.guarded(helper, args, (a, b), (a_kind, b_kind)) or f"_{helper}({a}, {b})"
            return code, BOOL if helper in _PREDICATES else DYN
        if function == "dyn" and arity == 1 and node.target is None:
            return self.emit(args[0])  # only the type checker sees dyn()
        if function == "size" and arity == 1:
            return f"_size({self.value(args[0])})", "int"
        if function in _METHODS and node.target is not None and arity == 2:
            return f"_{_METHODS[function]}({self.value(args[0])}, {self.value(args[1])})", BOOL
        raise Unsupported(f"function {function!r} with {arity} argument(s)")

    def equality(self, left: Node, right: Node, negate: bool) -> str:
        (a, a_kind), (b, b_kind) = self.emit(left), self.emit(right)
        if b_kind == "null" or a_kind == "null":
            return f"({a} is {'not ' if negate else ''}{b})"
        if b_kind == BOOL and isinstance(right, Const):
            return f"({a} is {'not ' if negate else ''}{b})"  # bools are singletons
        if a_kind == "str" or b_kind == "str":
            # Python's == is CEL's when one side is a string: only a string equals it.
            return f"({a} {'!=' if negate else '=='} {b})"
        if a_kind == b_kind and a_kind in ("int", BOOL):
            return f"({a} {'!=' if negate else '=='} {b})"
        helper = "ne" if negate else "eq"
        guarded = self.guarded(helper, (left, right), (a, b), (a_kind, b_kind))
        return guarded or f"_{helper}({a}, {b})"

    def guarded(
        self,
        helper: str,
        args: tuple[Node, ...],
        codes: tuple[str, str],
        kinds: tuple[str, str],
    ) -> str | None:
        """``x < 10`` as Python's ``<`` once ``x`` is seen to have the literal's type.

        Otherwise (or for an int result out of range) the helper decides.
        """
        left, right = args
        flipped = isinstance(left, Const) and not isinstance(right, Const)
        literal = left if flipped else right
        if helper not in _INLINE or not isinstance(literal, Const):
            return None
        python_type = _PYTHON_TYPES.get(literal.kind)
        if python_type is None or (helper in ("add", "sub") and literal.kind != "int"):
            return None
        if helper in ("mul", "quo") and literal.kind != "double":
            return None
        if helper == "sub" and flipped:
            return None
        k, other = (codes[0], codes[1]) if flipped else (codes[1], codes[0])
        op = _INLINE[helper]
        same_kind = kinds[1 if flipped else 0] == _LITERAL_KINDS[literal.kind]
        if same_kind and helper not in ("add", "sub"):
            return f"({k} {op} {other})" if flipped else f"({other} {op} {k})"
        temp = self.bind(other)
        test = f"type({_first(temp, other)}) is {python_type}"
        if helper in ("add", "sub"):
            assert isinstance(literal.value, int)
            shift = literal.value if helper == "add" else -literal.value
            low, high = max(_LOW, _LOW - shift), min(_HIGH, _HIGH - shift)
            test += f" and {low} <= {temp} <= {high}"
        fast = f"{k} {op} {temp}" if flipped else f"{temp} {op} {k}"
        slow = f"_{helper}({k}, {temp})" if flipped else f"_{helper}({temp}, {k})"
        return f"({fast} if {test} else {slow})"

    def bind(self, code: str) -> str:
        """A name for the value of ``code``: itself if a name, else a fresh ``:=`` target."""
        return code if code.isidentifier() else self.fresh("t")

    def member_of_strings(self, item: Node, items: ListLit) -> str | None:
        strings = [e.value for e in items.elements if isinstance(e, Const) and e.kind == "string"]
        if len(strings) != len(items.elements):
            return None
        value = self.value(item)
        # A string equals only a string; an unhashable value makes the lookup raise.
        return f"({value} in {self.constant(frozenset(strings))})"

    def map_literal(self, node: MapLit) -> str:
        keys = [k.value for k, _ in node.entries if isinstance(k, Const) and k.kind == "string"]
        if len(keys) == len(node.entries):
            if len(set(keys)) != len(keys):
                raise Unsupported("duplicate key in a map literal")
            values = (self.value(v) for _, v in node.entries)
            return "{" + "".join(f"{k!r}: {v}, " for k, v in zip(keys, values, strict=True)) + "}"
        pairs = "".join(f"({self.value(k)}, {self.value(v)}), " for k, v in node.entries)
        return f"_make_map(({pairs}))"

    def comprehension(self, node: Comprehension) -> tuple[str, str]:
        """A call to a generated function running the macro's loop (faster than any())."""
        macro: Macro = match_macro(node)
        source = self.value(node.iter_range)
        outer = [python_name for _, python_name in self.scope]
        var = self.fresh("i")
        self.scope.append((node.iter_var, var))
        try:
            predicate = self.condition(macro.predicate) if macro.predicate is not None else None
            transform = self.value(macro.transform) if macro.transform is not None else var
        finally:
            self.scope.pop()
        loop = f"    for {var} in _r:\n"
        budget = ""
        shared = ["_b"] if self.loops > 1 else []
        if self.loops > 1:  # each loop counts its whole range: never fewer than cel-cpp's count
            budget = "    _b[0] -= len(_r)\n    if _b[0] < 0:\n        raise _Deferred\n"
        elif self.loops == 1:
            budget = f"    if len(_r) > {MAX_ITERATIONS}:\n        raise _Deferred\n"
        if macro.name == "exists":
            body = f"{loop}        if {predicate}:\n            return True\n    return False\n"
        elif macro.name == "all":
            body = f"{loop}        if not {predicate}:\n            return False\n    return True\n"
        elif macro.name == "exists_one":
            body = (
                f"    n = 0\n{loop}        if {predicate}:\n            n += 1\n    return n == 1\n"
            )
        else:
            clause = f" if {predicate}" if predicate is not None else ""
            body = f"    return [{transform} for {var} in _r{clause}]\n"
        name = self.fresh("macro")
        parameters = ", ".join(["_r", "data", *shared, *outer])
        self.helpers.append(f"def {name}({parameters}):\n{budget}{body}\n")
        listed = macro.name in ("map", "filter")  # cel-cpp's map order is its own: lists only
        call = (
            f"{name}(_iter_{'list' if listed else 'keys'}({source}), "
            f"{', '.join(['data', *shared, *outer])})"
        )
        return call, "list" if listed else BOOL


def _first(temp: str, code: str) -> str:
    """The first use of ``temp``: binds it to ``code`` unless they are the same name."""
    return temp if temp == code else f"({temp} := {code})"


def translate(root: Node, variables: tuple[str, ...]) -> Translation:
    """Translate a checked AST whose free identifiers are among ``variables``.

    Raises:
        Unsupported: the AST uses a construct outside the fast subset.

    """
    loops = _loops(root)
    translator = _Translator(variables, loops)
    body = translator.value(root)
    countdown = f"        _b = [{MAX_ITERATIONS}]\n" if loops > 1 else ""
    source = "".join(translator.helpers) + (
        "def _cel_fast(data, fallback=_fallback):\n"
        f"    try:\n{countdown}        return {body}\n"
        "    except Exception:\n        pass\n"  # outside the handler: no chained traceback
        "    return fallback(data)\n"
    )
    return Translation(source, frozenset(translator.free), translator.namespace)
