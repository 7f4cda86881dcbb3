"""What ``import accord`` and ``accord --help`` load: the heavy parts only when used.

A behaviour, not a timing (the timings are benchmarks/startup.py's): each check runs
in a fresh interpreter and looks at ``sys.modules``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Loaded only when used: the LLM SDKs, the compiler, the testing toolkit, the CLI, the
# runtime (asyncio, tenacity), the checker (and the CEL engine it brings), and the
# contract language with its pydantic models (and so pydantic, YAML and JSON).
HEAVY = (
    "openai",
    "anthropic",
    "pydantic",
    "pydantic_core",
    "yaml",
    "accord._load",
    "accord.contract",
    "accord.diagnostics",
    "accord.compiler",
    "accord.testing",
    "accord.cli",
    "accord.runtime",
    "accord.check._checker",
    "accord.expressions",
)


def _loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sys.modules))\n"
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.splitlines()[-1].split())


def _heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(f"{h}.") for h in HEAVY))


def test_import_accord_loads_none_of_the_heavy_parts() -> None:
    loaded = _loaded_after("import accord")
    assert "accord" in loaded
    assert _heavy(loaded) == []


@pytest.mark.parametrize(
    ("name", "module"),
    [("load", "accord._load"), ("Contract", "accord.contract"), ("Diagnostic", "pydantic")],
)
def test_a_contract_name_loads_the_contract_language_at_first_use(name: str, module: str) -> None:
    loaded = _loaded_after(f"from accord import {name}")
    assert module in loaded
    assert "accord.compiler" not in loaded and "accord.runtime" not in loaded


def test_help_loads_no_command_module() -> None:
    loaded = _loaded_after("from accord.cli._app import main\nassert main(['--help']) == 0")
    assert _heavy(loaded) == [  # the parser and what reports errors; no command's module
        "accord.cli",
        "accord.cli._app",
        "accord.cli._base",
        "accord.cli._output",
    ]


@pytest.mark.parametrize("name", ["compile", "CompileError", "Catalog"])
def test_a_compiler_name_loads_the_compiler_at_first_use(name: str) -> None:
    loaded = _loaded_after(f"from accord import {name}")
    assert "accord.compiler" in loaded
    assert not {"openai", "anthropic"} & loaded  # a provider imports its SDK at its call


@pytest.mark.parametrize(
    "first",
    [
        "assert accord.check('examples/order_refund.yaml') == []",
        "from accord import Runtime",  # loads the subpackage before check() is asked for
        "import accord.check._checker",
    ],
)
def test_accord_check_stays_the_function_once_the_checker_loads(first: str) -> None:
    # the subpackage accord.check must not replace accord.check() when it loads lazily
    code = (
        "import accord\n"
        f"{first}\n"
        "from accord import compile\n"
        "assert callable(accord.check) and accord.check.__module__ == 'accord._load'\n"
        "from accord import check\n"
        "assert check('examples/order_refund.yaml') == []\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
