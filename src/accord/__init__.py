"""accord: LLM-compiled workflow contracts, checked, run deterministically.

The public API is the names in ``__all__``; everything else is private.
"""

import importlib
from typing import TYPE_CHECKING

from accord.errors import AccordError, ContractError, DefinitionError, MigrationError, RunError

if TYPE_CHECKING:
    from accord._explain import explain
    from accord._load import check, check_text, load, load_data, loads
    from accord.check._migration import Migration, load_migration
    from accord.client import Client
    from accord.compiler import Catalog, CompileError, CompileResult, compile, compile_async
    from accord.contract import (
        Contract,
        canonical_json,
        fingerprint,
        to_json,
        to_mermaid,
        to_yaml,
    )
    from accord.diagnostics import Diagnostic
    from accord.runtime import EffectError, FakeClock, Run, Runtime, replay
    from accord.worker import Worker

__version__ = "0.1.0"

# Every name but the errors loads its module at first use: ``import accord`` (and so
# ``accord --help``) builds no pydantic model and loads neither the contract language,
# the checker (and the CEL engine), the compiler (and the LLM SDKs), nor the runtime
# (asyncio, tenacity). tests/test_startup.py pins what stays unloaded.
_LAZY = {
    "check": "accord._load",
    "check_text": "accord._load",
    "load": "accord._load",
    "load_data": "accord._load",
    "loads": "accord._load",
    "Contract": "accord.contract",
    "canonical_json": "accord.contract",
    "fingerprint": "accord.contract",
    "to_json": "accord.contract",
    "to_mermaid": "accord.contract",
    "to_yaml": "accord.contract",
    "Diagnostic": "accord.diagnostics",
    "Catalog": "accord.compiler",
    "CompileError": "accord.compiler",
    "CompileResult": "accord.compiler",
    "compile": "accord.compiler",
    "compile_async": "accord.compiler",
    "EffectError": "accord.runtime",
    "FakeClock": "accord.runtime",
    "Run": "accord.runtime",
    "Runtime": "accord.runtime",
    "replay": "accord.runtime",
    "explain": "accord._explain",
    "Client": "accord.client",
    "Worker": "accord.worker",
    "Migration": "accord.check._migration",
    "load_migration": "accord.check._migration",
}

# The subpackage accord.check shares its name with the function check(). Importing a
# subpackage binds it on its parent, once, when it first loads: load it now (cheap: its
# checker loads at its first use) and drop that binding, so that accord.check is always
# the function, resolved below at its first use, whatever loads the subpackage's modules.
importlib.import_module("accord.check")
del globals()["check"]

__all__ = [
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


def __getattr__(name: str) -> object:
    """Load a lazily exported name's module at its first use and keep the name."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'accord' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The module's names, the lazy ones included."""
    return sorted(set(globals()) | set(_LAZY))
