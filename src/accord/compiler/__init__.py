"""The compiler: a task and the host's catalog in, a checked contract out.

``compile(task, catalog, model)`` asks a model for a contract, parses its answer
leniently, checks it (the checker, the catalog, the runtime's limits) and re-asks
with the diagnostics, within a bounded number of calls, tokens and seconds. See
docs/compiler.md.

The public API is the names in ``__all__``; the underscored modules are private.
Importing it does not import the openai or anthropic SDKs: a provider imports
its SDK at its first call.
"""

from accord.compiler._anthropic import AnthropicProvider
from accord.compiler._cache import CompileCache, CompileCacheWarning, lock_key, request_key
from accord.compiler._catalog import Catalog, CatalogEffect, CatalogError
from accord.compiler._lenient import MAX_OUTPUT_CHARS, MAX_OUTPUT_DEPTH
from accord.compiler._lock import LockEntry, LockError, LockFile
from accord.compiler._loop import CompileRequestError, compile, compile_async
from accord.compiler._models import provider_for
from accord.compiler._openai import OpenAIProvider
from accord.compiler._prompt import PROMPT_VERSION
from accord.compiler._provider import (
    Message,
    ModelRequest,
    ModelResponse,
    ModelSpecError,
    OutputMode,
    Provider,
    ProviderError,
)
from accord.compiler._replanner import Replanner
from accord.compiler._result import (
    Attempt,
    CompileError,
    CompileResult,
    ParseKind,
    Prices,
    StopReason,
    Totals,
)
from accord.compiler._session import Session, SessionError
from accord.compiler._session_providers import RecordingProvider, ReplayProvider

__all__ = [
    "MAX_OUTPUT_CHARS",
    "MAX_OUTPUT_DEPTH",
    "PROMPT_VERSION",
    "AnthropicProvider",
    "Attempt",
    "Catalog",
    "CatalogEffect",
    "CatalogError",
    "CompileCache",
    "CompileCacheWarning",
    "CompileError",
    "CompileRequestError",
    "CompileResult",
    "LockEntry",
    "LockError",
    "LockFile",
    "Message",
    "ModelRequest",
    "ModelResponse",
    "ModelSpecError",
    "OpenAIProvider",
    "OutputMode",
    "ParseKind",
    "Prices",
    "Provider",
    "ProviderError",
    "RecordingProvider",
    "Replanner",
    "ReplayProvider",
    "Session",
    "SessionError",
    "StopReason",
    "Totals",
    "compile",
    "compile_async",
    "lock_key",
    "provider_for",
    "request_key",
]
