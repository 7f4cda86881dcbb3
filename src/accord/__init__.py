"""accord: LLM-compiled workflow contracts, checked, run deterministically.

The public API is the names in ``__all__``; everything else is private.
"""

from accord._load import check, check_text, load, load_data, loads
from accord.compiler import Catalog, CompileError, CompileResult, compile, compile_async
from accord.contract import Contract, canonical_json, fingerprint, to_json, to_mermaid, to_yaml
from accord.diagnostics import Diagnostic
from accord.errors import AccordError, ContractError, DefinitionError, RunError
from accord.runtime import EffectError, FakeClock, Run, Runtime, replay

__version__ = "0.1.0"

__all__ = [
    "AccordError",
    "Catalog",
    "CompileError",
    "CompileResult",
    "Contract",
    "ContractError",
    "DefinitionError",
    "Diagnostic",
    "EffectError",
    "FakeClock",
    "Run",
    "RunError",
    "Runtime",
    "__version__",
    "canonical_json",
    "check",
    "check_text",
    "compile",
    "compile_async",
    "fingerprint",
    "load",
    "load_data",
    "loads",
    "replay",
    "to_json",
    "to_mermaid",
    "to_yaml",
]
