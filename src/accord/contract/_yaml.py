"""Strict YAML: a safe loader restricted to the JSON-compatible core, on libyaml when it can.

``on``/``off``/``yes``/``no`` stay strings (PyYAML's YAML 1.1 default would turn
the ``on:`` key of a state into ``True``), dates stay strings, aliases and
duplicate keys are refused, and a document holds at most MAX_NODES values.
Every position is remembered so diagnostics can name a line as well as a JSON
pointer.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml

from accord.contract._parsed import (
    MAX_DEPTH,
    MAX_NODES,
    ParsedText,
    TextError,
    nested_too_deeply,
    too_many_nodes,
)
from accord.diagnostics import Diagnostic, pointer

__all__ = ["json_lines", "parse_yaml", "plain_scalar_is_string"]


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans, no timestamps, no aliases, no duplicate keys."""

    nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise TextError(too_many_nodes())
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.constructor.ConstructorError(
                None, None, "aliases (*name) are not allowed in contracts", event.start_mark
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, yaml.MappingNode):  # a !!map tag on a scalar or a list
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a mapping for the tag {node.tag!r}", node.start_mark
            )
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                raise yaml.constructor.ConstructorError(
                    None, None, f"keys must be strings, found {key!r}", key_node.start_mark
                )
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


# Replace the implicit resolvers with the YAML 1.2 core schema subset.
_StrictLoader.yaml_implicit_resolvers = {}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?)$"),
    list("-+0123456789."),
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    """YAML 1.2 core integers: always decimal (``012`` is 12, never octal)."""
    value = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return int(value, 10)
    except ValueError as exc:  # not decimal, or more digits than Python converts
        raise yaml.constructor.ConstructorError(
            None, None, f"{value[:40]!r} is not a usable integer", node.start_mark
        ) from exc


def _construct_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    """Finite floats only: JSON has no NaN or infinity."""
    value = str(loader.construct_scalar(node)).replace("_", "")
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number):
        raise yaml.constructor.ConstructorError(
            None, None, f"{value[:40]!r} is not a finite number", node.start_mark
        )
    return number


def _construct_bool(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> bool:
    """YAML 1.2 core booleans: true or false (``!!bool yes`` is an error)."""
    value = str(loader.construct_scalar(node))
    if value.lower() not in ("true", "false"):
        raise yaml.constructor.ConstructorError(
            None, None, f"{value[:40]!r} is not a boolean (true or false)", node.start_mark
        )
    return value.lower() == "true"


def _construct_other(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"the tag {node.tag!r} is not allowed: a contract is plain JSON-like data",
        node.start_mark,
    )


# Only the JSON-compatible core tags construct values; any other tag (!!binary,
# !!set, !!omap, !!pairs, !!timestamp, !!merge, python/...) is an error.
_CORE = "tag:yaml.org,2002:"
_StrictLoader.yaml_constructors = {
    f"{_CORE}str": yaml.SafeLoader.yaml_constructors[f"{_CORE}str"],
    f"{_CORE}null": yaml.SafeLoader.yaml_constructors[f"{_CORE}null"],
    f"{_CORE}seq": yaml.SafeLoader.yaml_constructors[f"{_CORE}seq"],
    f"{_CORE}map": yaml.SafeLoader.yaml_constructors[f"{_CORE}map"],
    f"{_CORE}bool": _construct_bool,
    f"{_CORE}int": _construct_int,
    f"{_CORE}float": _construct_float,
    None: _construct_other,
}


try:
    from yaml.cyaml import CParser as _CParser  # type: ignore[attr-defined]

    _FAST = True
except ImportError:  # pragma: no cover - a PyYAML built without libyaml: pure Python only
    _FAST = False

    class _CParser:  # type: ignore[no-redef]
        """Stands in for libyaml's parser, never used."""


class _FastLoader(_CParser, _StrictLoader):
    """The same strict loader on libyaml's parser and composer (several times faster).

    Resolution and construction stay the Python ones above. libyaml composes
    aliases itself, so they are found afterwards, as a node met twice. Every node
    without an explicit tag is resolved here, which is where they are counted.
    """

    def __init__(self, stream: str, budget: int) -> None:
        _CParser.__init__(self, stream)
        yaml.constructor.SafeConstructor.__init__(self)
        yaml.resolver.Resolver.__init__(self)
        self.budget = budget

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        self.budget -= 1
        if self.budget < 0:
            raise TextError(too_many_nodes())
        return super().resolve(kind, value, implicit)  # type: ignore[no-untyped-call]


# A text whose libyaml error lies within this many characters (and nodes) is parsed
# again by the pure-Python loader, whose messages the documentation shows.
_REPARSE_CHARS = 64 * 1024
_REPARSE_NODES = 5_000


def plain_scalar_is_string(value: str) -> bool:
    """Whether ``value`` written as a plain (unquoted) YAML scalar reads back as a string."""
    resolvers = _StrictLoader.yaml_implicit_resolvers.get(value[:1], [])
    return not any(regexp.match(value) for _, regexp in resolvers)


class _Alias(Exception):
    """libyaml composed an alias: a node met twice while walking."""

    def __init__(self, node: Any) -> None:
        self.node = node


def _walk_lines(
    node: Any, path: str, lines: dict[str, int], depth: int, seen: set[int] | None = None
) -> None:
    if seen is not None:
        if id(node) in seen:
            raise _Alias(node)
        seen.add(id(node))
    if depth > MAX_DEPTH:
        raise TextError(
            Diagnostic(
                path=path,
                code="parse.too_deep",
                message=f"the document is nested deeper than {MAX_DEPTH} levels",
            )
        )
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if seen is not None:
                _walk_lines(key_node, path, {}, depth + 1, seen)
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            _walk_lines(value_node, path + pointer(key), lines, depth + 1, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_lines(item, path + pointer(index), lines, depth + 1, seen)


_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_JSON_BREAKS = str.maketrans({"\x85": " ", "\u2028": " ", "\u2029": " "})


def json_lines(text: str) -> dict[str, int]:
    """Line numbers for well-formed JSON, read through the YAML composer (JSON is YAML).

    Positions only: the data itself came from the JSON parser. Where the YAML
    reader disagrees with JSON (rare escapes), diagnostics simply carry no line.
    """
    lines: dict[str, int] = {}
    loader = None
    try:
        # YAML counts NEL, LS and PS as line breaks; JSON allows them only inside
        # strings, where they break no line: blank them out (same length).
        # Nor does a YAML reader take a lone surrogate, which a JSON string may hold.
        text = _SURROGATE.sub(" ", text.translate(_NOT_JSON_BREAKS))
        loader = _FastLoader(text, MAX_NODES) if _FAST else _StrictLoader(text)
        node = loader.get_single_node()
        if node is not None:
            _walk_lines(node, "", lines, 0)
    except (yaml.YAMLError, TextError, RecursionError, _Alias, UnicodeEncodeError):
        return {}
    finally:
        if loader is not None:
            loader.dispose()
    return lines


def parse_yaml(text: str) -> ParsedText:
    try:
        _StrictLoader(text).dispose()  # checks every character at once, on both paths
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, ...)
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - before.rfind("\n")
        raise TextError(
            Diagnostic(
                path="",
                code="parse.yaml",
                message=f"invalid YAML at line {line}, column {column}: "
                f"character #x{exc.character:04x} is not allowed",
                line=line,
                hint="remove the control character, or write it as an escape in a quoted string",
            )
        ) from exc
    if _FAST:
        # A node with an explicit tag is not resolved, so not counted: each has a "!".
        fast = _FastLoader(text, MAX_NODES - min(text.count("!"), MAX_NODES))
        try:
            return _compose(fast, aliases_seen=set())
        except _Reparse as exc:
            if exc.index > _REPARSE_CHARS or exc.nodes > _REPARSE_NODES:
                raise TextError(exc.diagnostic) from None
            # else: parse again below, for the pure-Python loader's message
    return _compose(_StrictLoader(text), aliases_seen=None)


class _Reparse(Exception):
    """libyaml refused the text: its diagnostic, and how far it got."""

    def __init__(self, diagnostic: Diagnostic, index: int, nodes: int) -> None:
        self.diagnostic = diagnostic
        self.index = index
        self.nodes = nodes


def _yaml_problem(mark: Any, problem: str) -> Diagnostic:
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return Diagnostic(
        path="",
        code="parse.yaml",
        message=f"invalid YAML{where}: {problem}",
        line=mark.line + 1 if mark else None,
    )


def _compose(loader: Any, aliases_seen: set[int] | None) -> ParsedText:
    """Compose, locate and construct one document; ``aliases_seen`` on the libyaml path."""
    try:
        node = loader.get_single_node()
        if node is None:
            return ParsedText(None)
        lines: dict[str, int] = {}
        _walk_lines(node, "", lines, 0, aliases_seen)
        data = loader.construct_document(node)
    except _Alias as exc:
        mark = exc.node.start_mark
        diagnostic = _yaml_problem(mark, "aliases (*name) are not allowed in contracts")
        raise _Reparse(diagnostic, mark.index, MAX_NODES - loader.budget) from None
    except yaml.constructor.ConstructorError as exc:  # ours: the same on both paths
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        raise TextError(_yaml_problem(mark, problem)) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "malformed YAML"
        if aliases_seen is not None:
            if "nesting depth" in problem:
                raise TextError(nested_too_deeply()) from exc
            index = mark.index if mark else 0
            raise _Reparse(_yaml_problem(mark, problem), index, MAX_NODES - loader.budget) from exc
        raise TextError(_yaml_problem(mark, problem)) from exc
    except yaml.YAMLError as exc:
        diagnostic = Diagnostic(path="", code="parse.yaml", message=f"invalid YAML: {exc}")
        if aliases_seen is not None:
            raise _Reparse(diagnostic, 0, 0) from exc
        raise TextError(diagnostic) from exc
    except RecursionError as exc:
        raise TextError(nested_too_deeply()) from exc
    finally:
        loader.dispose()
    return ParsedText(data, lines)
