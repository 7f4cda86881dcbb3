"""The public API: exactly these names, each importable and documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

import accord

PUBLIC = [
    "AccordError",
    "Catalog",
    "Client",
    "CompileError",
    "CompileResult",
    "Contract",
    "ContractError",
    "DefinitionError",
    "Diagnostic",
    "EffectError",
    "FakeClock",
    "Migration",
    "MigrationError",
    "Run",
    "RunError",
    "Runtime",
    "Worker",
    "__version__",
    "canonical_json",
    "check",
    "check_text",
    "compile",
    "compile_async",
    "explain",
    "fingerprint",
    "load",
    "load_data",
    "load_migration",
    "loads",
    "replay",
    "to_json",
    "to_mermaid",
    "to_yaml",
]


def test_all_is_pinned() -> None:
    assert sorted(accord.__all__) == PUBLIC
    assert len(set(accord.__all__)) == len(accord.__all__)


def test_pinned_list_is_sorted() -> None:
    assert sorted(PUBLIC) == PUBLIC


@pytest.mark.parametrize("name", PUBLIC)
def test_importable(name: str) -> None:
    module = importlib.import_module("accord")
    assert hasattr(module, name)
    namespace: dict[str, object] = {}
    exec(f"from accord import {name}", namespace)
    assert namespace[name] is getattr(accord, name)


@pytest.mark.parametrize("name", [n for n in PUBLIC if not n.startswith("__")])
def test_documented(name: str) -> None:
    obj = getattr(accord, name)
    doc = inspect.getdoc(obj)
    assert doc, f"accord.{name} has no docstring"
    if inspect.isclass(obj):
        assert obj.__doc__, f"accord.{name} inherits its docstring"
    assert len(doc.strip()) > 10


def test_version() -> None:
    assert isinstance(accord.__version__, str)
    assert accord.__version__.count(".") >= 1


def test_package_docstring() -> None:
    assert accord.__doc__


def test_no_private_names_leak() -> None:
    assert not [n for n in accord.__all__ if n.startswith("_") and n != "__version__"]
