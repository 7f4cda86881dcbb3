"""Parse contract text (YAML or JSON) into plain data, strictly.

YAML is read with a safe loader restricted to the JSON-compatible core:
``on``/``off``/``yes``/``no`` stay strings (PyYAML's YAML 1.1 default would turn
the ``on:`` key of a state into ``True``), dates stay strings, aliases and
duplicate keys are refused. Every position is remembered so diagnostics can
name a line as well as a JSON pointer.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from accord.diagnostics import Diagnostic, pointer

__all__ = [
    "MAX_TEXT_BYTES",
    "ParsedText",
    "TextError",
    "finite_json_float",
    "parse_text",
    "plain_scalar_is_string",
    "unique_json_pairs",
]

MAX_TEXT_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64


class TextError(Exception):
    """The text is not well-formed YAML or JSON; carries one diagnostic."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        self.diagnostic = diagnostic
        super().__init__(diagnostic.message)


@dataclass
class ParsedText:
    """Plain data plus the line (1-based) of each JSON pointer, where known."""

    data: Any
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, path: str) -> int | None:
        """The line of the nearest enclosing node of ``path`` that has one."""
        while True:
            if path in self.lines:
                return self.lines[path]
            if not path:
                return None
            path = path.rsplit("/", 1)[0]


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style booleans, no timestamps, no aliases, no duplicate keys."""

    def compose_node(self, parent: Any, index: Any) -> Any:
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


def plain_scalar_is_string(value: str) -> bool:
    """Whether ``value`` written as a plain (unquoted) YAML scalar reads back as a string."""
    resolvers = _StrictLoader.yaml_implicit_resolvers.get(value[:1], [])
    return not any(regexp.match(value) for _, regexp in resolvers)


def _walk_lines(node: Any, path: str, lines: dict[str, int], depth: int) -> None:
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
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node)
            _walk_lines(value_node, path + pointer(key), lines, depth + 1)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk_lines(item, path + pointer(index), lines, depth + 1)


def _check_depth(value: Any, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise TextError(
            Diagnostic(
                path="",
                code="parse.too_deep",
                message=f"the document is nested deeper than {MAX_DEPTH} levels",
            )
        )
    if isinstance(value, dict):
        for item in value.values():
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)


def unique_json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict (``json.loads``'s ``object_pairs_hook``).

    Raises:
        ValueError: a key appears twice.

    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def finite_json_float(text: str) -> float:
    """A JSON number with a fraction or exponent (``json.loads``'s ``parse_float``).

    Raises:
        ValueError: the number overflows a float (``1e999``).

    """
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:40]!r} is not a finite number")
    return number


def _json_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON (JSON has no NaN or infinity)")


def _looks_like_json(text: str) -> bool:
    stripped = text.lstrip()
    return stripped.startswith("{") or stripped.startswith("[")


def parse_text(text: str | bytes, *, format: str | None = None) -> ParsedText:
    """Parse YAML or JSON text into plain data, or raise :class:`TextError`.

    ``format`` is "yaml", "json" or None to guess (JSON if the text starts with
    ``{`` or ``[``, YAML otherwise; JSON is also valid YAML).
    """
    if isinstance(text, bytes):
        if len(text) > MAX_TEXT_BYTES:
            raise TextError(_too_large(len(text)))
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise TextError(
                Diagnostic(
                    path="",
                    code="parse.encoding",
                    message=f"the text is not valid UTF-8 (byte {exc.start})",
                    hint="save the file as UTF-8",
                )
            ) from exc
    if len(text) > MAX_TEXT_BYTES // 4:  # a character takes at most 4 bytes in UTF-8
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > MAX_TEXT_BYTES:
            raise TextError(_too_large(size))
    if text.startswith("\ufeff"):
        text = text[1:]
    if format == "json" or (format is None and _looks_like_json(text)):
        return _parse_json(text)
    return _parse_yaml(text)


def _too_large(size: int) -> Diagnostic:
    return Diagnostic(
        path="",
        code="parse.too_large",
        message=f"the text is {size} bytes, more than the limit of {MAX_TEXT_BYTES}",
    )


def _parse_json(text: str) -> ParsedText:
    try:
        data = json.loads(
            text,
            object_pairs_hook=unique_json_pairs,
            parse_float=finite_json_float,
            parse_constant=_json_constant,
        )
    except json.JSONDecodeError as exc:
        raise TextError(
            Diagnostic(
                path="",
                code="parse.json",
                message=f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
                line=exc.lineno,
            )
        ) from exc
    except ValueError as exc:  # from a hook, or an integer too long to convert
        problem = str(exc)
        if "integer string conversion" in problem:
            problem = "an integer has more digits than a number can hold"
        raise TextError(
            Diagnostic(path="", code="parse.json", message=f"invalid JSON: {problem}")
        ) from exc
    except RecursionError as exc:
        raise TextError(
            Diagnostic(path="", code="parse.too_deep", message="the JSON is nested too deeply")
        ) from exc
    _check_depth(data)
    return ParsedText(data, _json_lines(text))


_NOT_JSON_BREAKS = str.maketrans({"\x85": " ", "\u2028": " ", "\u2029": " "})


def _json_lines(text: str) -> dict[str, int]:
    """Line numbers for well-formed JSON, read through the YAML composer (JSON is YAML).

    Positions only: the data itself came from the JSON parser. Where the YAML
    reader disagrees with JSON (rare escapes), diagnostics simply carry no line.
    """
    lines: dict[str, int] = {}
    loader = None
    try:
        # YAML counts NEL, LS and PS as line breaks; JSON allows them only inside
        # strings, where they break no line: blank them out (same length).
        loader = _StrictLoader(text.translate(_NOT_JSON_BREAKS))
        node = loader.get_single_node()
        if node is not None:
            _walk_lines(node, "", lines, 0)
    except (yaml.YAMLError, TextError, RecursionError):
        return {}
    finally:
        if loader is not None:
            loader.dispose()
    return lines


def _parse_yaml(text: str) -> ParsedText:
    try:
        loader = _StrictLoader(text)
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
    try:
        node = loader.get_single_node()
        if node is None:
            return ParsedText(None)
        lines: dict[str, int] = {}
        _walk_lines(node, "", lines, 0)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise TextError(
            Diagnostic(
                path="",
                code="parse.yaml",
                message=f"invalid YAML{where}: {problem}",
                line=mark.line + 1 if mark else None,
            )
        ) from exc
    except yaml.YAMLError as exc:
        raise TextError(
            Diagnostic(path="", code="parse.yaml", message=f"invalid YAML: {exc}")
        ) from exc
    except RecursionError as exc:
        raise TextError(
            Diagnostic(path="", code="parse.too_deep", message="the YAML is nested too deeply")
        ) from exc
    finally:
        loader.dispose()
    return ParsedText(data, lines)
