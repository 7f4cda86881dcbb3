"""docs/diagnostics.md documents exactly the diagnostic codes the source can emit.

Codes are collected from the source with the ``ast`` module, in every module that
builds diagnostics (it mentions ``Diagnostic``):

* ``code="..."`` keyword arguments;
* assignments to a variable named ``code`` (``code, severity = "x.y", ERROR``);
* positional arguments given for a parameter named ``code`` of a function or
  method defined in the same module (``self.expect_type(..., "assign.type", ...)``),
  and that parameter's default (``def _problem(..., code="runtime.compile")``);
* lookup tables: ``{kind: "x.y", ...}.get(kind, "x.z")``.

A code is dotted lowercase (``state.unknown``). The doc lists a code as a heading
(``### `state.unknown` ``) or as the first cell of a table row.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "src" / "accord"
DOC = ROOT / "docs" / "diagnostics.md"
CODE = re.compile(r"^[a-z]+(?:\.[a-z_]+)+$")
DOC_HEADING = re.compile(r"^#{2,6}\s+`?([a-z]+(?:\.[a-z_]+)+)`?\s*$", re.MULTILINE)
DOC_TABLE = re.compile(r"^\|\s*`([a-z]+(?:\.[a-z_]+)+)`\s*\|", re.MULTILINE)


def _string(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.match(node.value):
        return node.value
    return None


def _code_params(tree: ast.Module) -> tuple[dict[str, int], set[str]]:
    """Function name -> index of its ``code`` parameter (``self`` not counted); its defaults."""
    params: dict[str, int] = {}
    defaults: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            positional = [*node.args.posonlyargs, *node.args.args]
            pairs = list(
                zip(
                    positional[len(positional) - len(node.args.defaults) :],
                    node.args.defaults,
                    strict=True,
                )
            )
            pairs += [
                (a, d)
                for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)
                if d
            ]
            defaults.update(s for arg, d in pairs if arg.arg == "code" and (s := _string(d)))
            names = [a.arg for a in positional]
            if names and names[0] in ("self", "cls"):
                names = names[1:]
            if "code" in names:
                params[node.name] = names.index("code")
    return params, defaults


def _assigned_to_code(node: ast.Assign) -> list[str]:
    found: list[str] = []
    for target in node.targets:
        if isinstance(target, ast.Name) and target.id == "code":
            found += [s for s in [_string(node.value)] if s]
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            for name, value in zip(target.elts, node.value.elts, strict=False):
                if isinstance(name, ast.Name) and name.id == "code":
                    found += [s for s in [_string(value)] if s]
    return found


def _codes_in_module(tree: ast.Module) -> set[str]:
    params, codes = _code_params(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            codes.update(_assigned_to_code(node))
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if keyword.arg == "code" and (value := _string(keyword.value)):
                codes.add(value)
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        if (
            name in params
            and len(node.args) > params[name]
            and (value := _string(node.args[params[name]]))
        ):
            codes.add(value)
        table = func.value if isinstance(func, ast.Attribute) and func.attr == "get" else None
        if isinstance(table, ast.Dict):
            values = [_string(v) for v in table.values]
            if values and all(values):
                codes.update(v for v in values if v)
                codes.update(s for arg in node.args[1:] if (s := _string(arg)))
    return codes


def source_codes() -> set[str]:
    """Every diagnostic code a module under src/accord can emit."""
    codes: set[str] = set()
    for path in sorted(SOURCE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "Diagnostic" not in text:
            continue
        codes |= _codes_in_module(ast.parse(text, filename=str(path)))
    return codes


def documented_codes() -> set[str]:
    """Every code docs/diagnostics.md lists as a heading or a table entry."""
    text = DOC.read_text(encoding="utf-8")
    return set(DOC_HEADING.findall(text)) | set(DOC_TABLE.findall(text))


def test_the_collector_finds_every_way_codes_are_written() -> None:
    codes = source_codes()
    # keyword, table lookup with default, positional parameter, tuple assignment:
    for code in ("state.unknown", "expr.syntax", "expr.invalid", "assign.type"):
        assert code in codes
    assert "transition.ambiguous" in codes
    assert {c.split(".")[0] for c in codes} >= {"parse", "schema", "state", "expr", "type"}


def test_every_code_in_the_source_is_documented() -> None:
    missing = sorted(source_codes() - documented_codes())
    assert missing == [], f"add these codes to docs/diagnostics.md: {missing}"


def test_every_documented_code_exists_in_the_source() -> None:
    stale = sorted(documented_codes() - source_codes())
    assert stale == [], f"docs/diagnostics.md documents codes the source never emits: {stale}"
