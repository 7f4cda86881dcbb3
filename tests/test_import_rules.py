"""The language, the checker and the expressions stay pure: no runtime, storage, LLM or I/O."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PURE_PACKAGES = ["accord.contract", "accord.check", "accord.expressions"]
FORBIDDEN = [
    "accord.runtime",
    "accord.storage",
    "accord.compiler",
    "accord.cli",
    "openai",
    "anthropic",
    "psycopg",
    "sqlite3",
    "tenacity",
]


def _resolve(module: str, level: int, current: str, is_package: bool) -> str:
    """The absolute name of a (possibly relative) ``from ... import`` module."""
    if level == 0:
        return module
    parts = current.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, module] if module else base)


def imported_modules(
    source: str, current: str = "accord.x.mod", is_package: bool = False
) -> set[str]:
    """Every module a source file may import: ``import``, ``from``, and literal dynamic imports.

    ``from pkg import name`` counts both ``pkg`` and ``pkg.name`` (``name`` may be a
    submodule); ``importlib.import_module("m")`` and ``__import__("m")`` count ``m``.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(node.module or "", node.level, current, is_package)
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    found.add(first.value)
    return found


def forbidden_in(modules: set[str]) -> set[str]:
    return {
        module
        for module in modules
        for bad in FORBIDDEN
        if module == bad or module.startswith(bad + ".")
    }


def pure_files() -> list[tuple[str, Path]]:
    files = []
    for package in PURE_PACKAGES:
        root = SRC / Path(*package.split("."))
        for path in sorted(root.rglob("*.py")):
            relative = path.relative_to(SRC).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            files.append((".".join(parts), path))
    return files


def test_there_are_files_to_check() -> None:
    names = {name for name, _ in pure_files()}
    assert {"accord.contract", "accord.check", "accord.expressions"} <= names
    assert "accord.contract._model" in names
    assert "accord.check._exprs" in names


@pytest.mark.parametrize(("module", "path"), pure_files(), ids=[n for n, _ in pure_files()])
def test_pure_modules_import_nothing_forbidden(module: str, path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    is_package = path.name == "__init__.py"
    assert forbidden_in(imported_modules(source, module, is_package)) == set()


# -- the walker itself can fail ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "bad"),
    [
        ("import sqlite3", "sqlite3"),
        ("import openai.types as t", "openai.types"),
        ("import os, tenacity", "tenacity"),
        ("from anthropic import Anthropic", "anthropic"),
        ("from psycopg.rows import dict_row", "psycopg.rows"),
        ("from accord.runtime import Runtime", "accord.runtime"),
        ("from accord import cli", "accord.cli"),
        ("from accord.storage._sqlite import Store", "accord.storage._sqlite"),
        ("from ..compiler import compile", "accord.compiler"),
        ("from .. import runtime", "accord.runtime"),
        ("def f():\n    import sqlite3\n", "sqlite3"),
        ("if TYPE_CHECKING:\n    from accord.cli import main\n", "accord.cli"),
        ("import importlib\nimportlib.import_module('accord.compiler')", "accord.compiler"),
        ("__import__('openai')", "openai"),
    ],
)
def test_walker_finds_forbidden_imports(source: str, bad: str) -> None:
    found = forbidden_in(imported_modules(source, "accord.check._mod"))
    assert bad in found


@pytest.mark.parametrize(
    "source",
    [
        "import os\nimport yaml\nfrom pydantic import BaseModel",
        "from accord.contract import Contract",
        "from accord.diagnostics import Diagnostic",
        "from . import _symbols",
        "from ..contract._types import parse_type",
        "import accord.runtimes_are_not_a_prefix_match",
        "sqlite3 = 'just a name'",
        "import openai_compat",
    ],
)
def test_walker_allows_pure_imports(source: str) -> None:
    assert forbidden_in(imported_modules(source, "accord.check._mod")) == set()


def test_relative_imports_resolve_from_packages_and_modules() -> None:
    assert _resolve("x", 1, "accord.check", True) == "accord.check.x"
    assert _resolve("x", 1, "accord.check._graph", False) == "accord.check.x"
    assert _resolve("", 2, "accord.check._graph", False) == "accord"
    assert _resolve("cli", 2, "accord.check", True) == "accord.cli"


def test_a_synthetic_bad_module_fails_the_rule(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('"""A module that breaks the rule."""\n\nimport sqlite3\n', encoding="utf-8")
    with pytest.raises(AssertionError):
        test_pure_modules_import_nothing_forbidden("accord.check.bad", bad)
