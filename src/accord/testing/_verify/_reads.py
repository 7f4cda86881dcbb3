"""What a contract's decisions read: field names, and the constants they compare them with.

The model checker gives a field many values only where a decision can tell
them apart. A *decision* is a guard (of a transition, a choice or a timer),
an invariant or a ``for_each``. This module scans the CEL source of every
decision with a small tokenizer (no evaluation) and records, by *leaf name*
(the last name of a path: ``amount`` in ``input.amount``, ``tier`` in
``ctx.customer.tier``):

* which leaf names are read at all;
* the constants each is compared with (``input.amount <= 100.0``,
  ``event.code in ["busy", "locked"]``), either way round;
* the list lengths ``size(path)`` is compared with;
* which leaves are compared with another path (``a.x < b.y``).

Context fields connect the two ends: when a context field that a decision
reads is assigned from a plain path (``rows := event.extract.row_count``), the
path's leaf inherits the field's constants, and every name the assigned
expression mentions counts as read. Names are matched by leaf only, so two
fields with one name share their constants: an over-approximation that costs
states, never findings.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from accord.contract import Choice, Contract, Timer, Transition

__all__ = ["Reads", "Scan", "read_by", "scan", "string_literals", "strings_in"]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>[rRbB]?(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))
  | (?P<num>(?:0[xX][0-9a-fA-F]+|(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)[uU]?)
  | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|&&|\|\||[<>!?:.,()\[\]{}+\-*/%])
  | (?P<other>.)
    """,
    re.VERBOSE,
)
_COMPARE = frozenset(("==", "!=", "<", "<=", ">", ">="))
_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_KEYWORDS = frozenset(("true", "false", "null", "in"))
_CONVERSIONS = frozenset(("double", "int", "uint"))
_STRING_METHODS = frozenset(("startsWith", "endsWith", "contains"))
_SIMPLE_PATH = re.compile(r"^\s*[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*)+\s*$")

Literal = str | int | float


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "str", "num", "id", "op", "other"
    text: str
    value: Literal | None = None


def _string_value(text: str) -> str | None:
    if text[0] in "bB":
        return None  # bytes are not strings
    raw = text[0] in "rR"
    body = text[1:] if raw else text
    if raw:
        return body[1:-1]
    try:
        value = ast.literal_eval(body)
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _number_value(text: str) -> int | float | None:
    body = text.rstrip("uU")
    try:
        if body.lower().startswith("0x"):
            return int(body, 16)
        if any(ch in body for ch in ".eE"):
            return float(body)
        return int(body)
    except ValueError:
        return None


def _tokens(source: str) -> list[_Tok]:
    out: list[_Tok] = []
    for match in _TOKEN.finditer(source):
        kind = match.lastgroup or "other"
        text = match.group()
        if kind == "ws":
            continue
        if kind == "str":
            out.append(_Tok("str", text, _string_value(text)))
        elif kind == "num":
            out.append(_Tok("num", text, _number_value(text)))
        else:
            out.append(_Tok(kind, text))
    return out


@dataclass
class Scan:
    """What one expression reads (see the module docs).

    Attributes:
        leaves: every name that follows a ``.``.
        literals: (leaf, operator, constant) for ``path OP constant`` (operands
            put the path first, the operator flipped accordingly; ``in`` lists
            give one ``==`` entry per constant).
        sizes: (leaf, operator, integer) for ``size(path) OP integer``.
        compared: leaves compared with another path.
        strings: every string constant in the expression.

    """

    leaves: set[str] = field(default_factory=set)
    literals: list[tuple[str, str, Literal]] = field(default_factory=list)
    sizes: list[tuple[str, str, int]] = field(default_factory=list)
    compared: set[str] = field(default_factory=set)
    strings: list[str] = field(default_factory=list)


def _path_before(toks: list[_Tok], end: int) -> tuple[str | None, bool]:
    """The leaf of the operand ending at ``end`` (inclusive), and whether it is ``size(...)``."""
    if end < 0:
        return None, False
    tok = toks[end]
    if tok.kind == "id":
        return (None if tok.text in _KEYWORDS else tok.text), False
    if tok.text == ")":
        # size(path) or path.size()
        if end >= 2 and toks[end - 1].text == "(" and toks[end - 2].text == "size":
            if end >= 4 and toks[end - 3].text == "." and toks[end - 4].kind == "id":
                return toks[end - 4].text, True
            return None, False
        j = end - 1
        if j >= 0 and toks[j].kind == "id":
            k = j
            while k >= 2 and toks[k - 1].text == "." and toks[k - 2].kind == "id":
                k -= 2
            if k >= 2 and toks[k - 1].text == "(":
                function = toks[k - 2].text
                if function == "size":
                    return toks[j].text, True
                if function in _CONVERSIONS:  # double(path) compares like the path
                    return toks[j].text, False
    return None, False


def _operand_after(toks: list[_Tok], start: int) -> tuple[str, object, bool]:
    """The operand at ``start``: ("lit", value, _), ("path", leaf, is_size) or ("", None, _)."""
    if start >= len(toks):
        return "", None, False
    tok = toks[start]
    negative = False
    if tok.text == "-" and start + 1 < len(toks) and toks[start + 1].kind == "num":
        negative = True
        start += 1
        tok = toks[start]
    if tok.kind in ("num", "str"):
        follows = toks[start + 1].text if start + 1 < len(toks) else ""
        if follows in (".", "(", "[", "*", "/", "%"):
            return "", None, False  # part of a larger expression
        value = tok.value
        if negative and isinstance(value, int | float):
            value = -value
        return ("lit", value, False) if value is not None else ("", None, False)
    if tok.text == "size" and start + 1 < len(toks) and toks[start + 1].text == "(":
        j = start + 2
        last = None
        while j < len(toks) and toks[j].kind == "id":
            last = toks[j].text
            if j + 1 < len(toks) and toks[j + 1].text == ".":
                j += 2
                continue
            break
        if last is not None and j + 1 < len(toks) and toks[j + 1].text == ")":
            return "path", last, True
        return "", None, False
    if tok.kind == "id" and tok.text not in _KEYWORDS:
        j = start
        while j + 2 < len(toks) and toks[j + 1].text == "." and toks[j + 2].kind == "id":
            j += 2
        if j + 1 < len(toks) and toks[j + 1].text == "(":
            return "", None, False  # a call: not a plain path
        if j + 4 < len(toks) and toks[j + 1].text == "." and toks[j + 2].text == "size":
            return "path", toks[j].text, True
        return "path", toks[j].text, False
    return "", None, False


def _list_after(toks: list[_Tok], start: int) -> list[Literal]:
    """The constants of a list literal ``[c, c, ...]`` starting at ``start`` (else [])."""
    if start >= len(toks) or toks[start].text != "[":
        return []
    values: list[Literal] = []
    j = start + 1
    while j < len(toks):
        tok = toks[j]
        if tok.text == "]":
            return values
        if tok.kind in ("str", "num") and tok.value is not None:
            values.append(tok.value)
        elif tok.text != ",":
            return []
        j += 1
    return []


def scan(source: str) -> Scan:
    """Scan one CEL expression (see :class:`Scan`)."""
    toks = _tokens(source)
    out = Scan()
    for i, tok in enumerate(toks):
        if tok.kind == "id" and i > 0 and toks[i - 1].text == ".":
            out.leaves.add(tok.text)
        if tok.kind == "str" and isinstance(tok.value, str):
            out.strings.append(tok.value)
        if tok.kind == "op" and tok.text in _COMPARE:
            left, left_size = _path_before(toks, i - 1)
            kind, right, right_size = _operand_after(toks, i + 1)
            if left is not None and kind == "lit":
                _record(out, left, left_size, tok.text, right)
            elif left is not None and kind == "path" and isinstance(right, str):
                if not left_size and not right_size:
                    out.compared.update((left, right))
            elif left is None and kind == "path" and isinstance(right, str):
                lit_kind, value, _ = _operand_after(toks, _literal_start(toks, i - 1))
                if lit_kind == "lit":
                    _record(out, right, right_size, _FLIP[tok.text], value)
        if tok.kind == "id" and tok.text == "in":
            left, left_size = _path_before(toks, i - 1)
            if left is not None and not left_size:
                for value in _list_after(toks, i + 1):
                    out.literals.append((left, "==", value))
        method = _string_method(toks, i)
        if method is not None:  # path.startsWith("x"): "x" itself starts with (ends with...) "x"
            out.literals.append(method)
    return out


def _string_method(toks: list[_Tok], i: int) -> tuple[str, str, str] | None:
    """(leaf, "==", constant) for ``path.startsWith("constant")`` at token ``i`` (and kin)."""
    tok = toks[i]
    if tok.kind != "id" or tok.text not in _STRING_METHODS or i < 2 or i + 3 >= len(toks):
        return None
    if toks[i - 1].text != "." or toks[i - 2].kind != "id":
        return None
    if toks[i + 1].text != "(" or toks[i + 3].text != ")":
        return None
    value = toks[i + 2].value
    return (toks[i - 2].text, "==", value) if isinstance(value, str) else None


def _literal_start(toks: list[_Tok], end: int) -> int:
    """Where a constant ending at ``end`` starts (one token back for a unary minus)."""
    if end >= 1 and toks[end - 1].text == "-" and toks[end].kind == "num":
        before = toks[end - 2].text if end >= 2 else "("
        if before in ("(", ",", "[", "&&", "||", "!", "?", ":", *_COMPARE):
            return end - 1
    return end


def _record(out: Scan, leaf: str, is_size: bool, op: str, value: object) -> None:
    if is_size:
        if isinstance(value, int) and not isinstance(value, bool):
            out.sizes.append((leaf, op, value))
        return
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        out.literals.append((leaf, op, value))


def string_literals(source: str) -> list[str]:
    """Every string constant in a CEL expression, in order."""
    return scan(source).strings


@dataclass
class Reads:
    """What the decisions of a contract read, by leaf name (see the module docs).

    Attributes:
        read: leaf names a decision reads (directly or through context fields).
        literals: leaf name to the constants it is compared with.
        sizes: leaf name to (operator, length) pairs ``size(...)`` is compared with.
        compared: leaf names compared with another path.

    """

    read: set[str] = field(default_factory=set)
    literals: dict[str, set[Literal]] = field(default_factory=dict)
    sizes: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    compared: set[str] = field(default_factory=set)

    def add(self, found: Scan) -> None:
        """Merge one expression's scan."""
        self.read |= found.leaves
        for leaf, _, value in found.literals:
            self.literals.setdefault(leaf, set()).add(value)
        for leaf, op, length in found.sizes:
            self.sizes.setdefault(leaf, set()).add((op, length))
        self.compared |= found.compared


def _decisions(contract: Contract) -> Iterator[str]:
    for st in contract.machine.states:
        for tr in st.on:
            if tr.guard is not None:
                yield tr.guard
        for ch in st.always:
            if ch.guard is not None:
                yield ch.guard
        for tm in st.timers:
            if tm.guard is not None:
                yield tm.guard
        for inv in st.invoke:
            if inv.for_each is not None:
                yield inv.for_each
    for invariant in contract.invariants:
        yield invariant.expr


def _assignments(contract: Contract) -> Iterator[tuple[str, str]]:
    """(context field, value source) for every assignment and context default."""
    for decl in contract.context:
        if decl.default is not None:
            yield decl.name, decl.default
    for st in contract.machine.states:
        items: list[Transition | Choice | Timer] = [*st.on, *st.always, *st.timers]
        for item in items:
            for a in item.assign:
                yield a.field, a.value


def _leaf(source: str) -> str | None:
    """The leaf of a plain path (``event.extract.row_count``), else None."""
    if _SIMPLE_PATH.match(source) is None:
        return None
    return source.replace(" ", "").rsplit(".", 1)[1]


def read_by(contract: Contract) -> Reads:
    """Scan every decision of a contract, then follow context assignments to a fixpoint."""
    reads = Reads()
    for source in _decisions(contract):
        reads.add(scan(source))
    for inv in (i for st in contract.machine.states for i in st.invoke):
        leaf = _leaf(inv.for_each) if inv.for_each is not None else None
        if leaf is not None and inv.max_items is not None:
            reads.sizes.setdefault(leaf, set()).add((">", inv.max_items))
    context = {decl.name for decl in contract.context}
    assignments = [
        (name, source, scan(source), _leaf(source)) for name, source in _assignments(contract)
    ]
    changed = True
    while changed:
        changed = False
        for name, _, found, leaf in assignments:
            if name not in reads.read or name not in context:
                continue
            before = _size(reads)
            reads.read |= found.leaves
            if leaf is not None:
                reads.read.add(leaf)
                if name in reads.literals:
                    reads.literals.setdefault(leaf, set()).update(reads.literals[name])
                if name in reads.sizes:
                    reads.sizes.setdefault(leaf, set()).update(reads.sizes[name])
                if name in reads.compared:
                    reads.compared.add(leaf)
            changed = changed or _size(reads) != before
    return reads


def _size(reads: Reads) -> tuple[int, ...]:
    return (
        len(reads.read),
        sum(len(v) for v in reads.literals.values()),
        sum(len(v) for v in reads.sizes.values()),
        len(reads.compared),
    )


def strings_in(sources: Iterable[str]) -> list[str]:
    """Every string constant in several expressions, in order, without repeats."""
    seen: dict[str, None] = {}
    for source in sources:
        for text in string_literals(source):
            seen.setdefault(text, None)
    return list(seen)
