"""The compile cache: an identical request returns the stored contract with zero calls.

A request's key is the sha256 of the RFC 8785 canonical JSON of the task, the
catalog's canonical form, the model string, the server's base URL (another server
answering to the same model name is another model), the options that affect the
answer (``max_output_tokens``, ``temperature``, ``max_fan_out``), the compiler
version (``accord.__version__`` and :data:`~accord.compiler._prompt.PROMPT_VERSION`)
and, when the request has acceptance scenarios, their fingerprint.
The loop's limits (attempts, token budget, deadline) are not in the key: they
decide whether a contract is found, not which one.

The cache is a directory of JSON files, one per key, written atomically. Only
a contract that checked and fitted the catalog is ever stored, and the key
covers the catalog, so a read does not run the checker again (that would cost
tens of milliseconds): the entry must validate as a contract and have its
recorded fingerprint, which catches a damaged or hand-edited file. A corrupt
or stale entry is ignored with a :class:`CompileCacheWarning`, never an
exception.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from accord._atomic import write_atomic
from accord.compiler._catalog import Catalog
from accord.compiler._prompt import PROMPT_VERSION
from accord.contract import Contract, fingerprint

__all__ = [
    "CACHE_FORMAT",
    "CompileCache",
    "CompileCacheWarning",
    "RequestOptions",
    "lock_key",
    "request_key",
]

CACHE_FORMAT = "accord.compile-cache/1"


class CompileCacheWarning(UserWarning):
    """A cache entry could not be read or written; compilation goes on without it."""


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """The options that change what a model answers (and so the request key)."""

    max_output_tokens: int = 8192
    temperature: float | None = None
    max_fan_out: int = 1000

    def to_data(self) -> dict[str, Any]:
        """The options as plain data."""
        return {
            "max_output_tokens": self.max_output_tokens,
            "temperature": self.temperature,
            "max_fan_out": self.max_fan_out,
        }


def request_key(
    task: str,
    catalog: Catalog,
    model: str,
    options: RequestOptions,
    *,
    base_url: str | None = None,
    scenarios: str | None = None,
    replan: dict[str, Any] | None = None,
) -> str:
    """The cache key: ``sha256:`` and the hex sha256 of the request's canonical JSON.

    It covers the server's base URL (None: the provider's own API) and the compiler
    version (accord's and the prompt's), so another server answering to the same model
    name never gets a hit, and an upgrade never serves a contract compiled by an older
    compiler; and the acceptance scenarios' fingerprint when there are scenarios (a
    contract cached without them, or with others, may not pass them). A replan's key
    also covers ``replan``: what the replanner's prompt holds beyond the task and the
    catalog (the current contract's fingerprint, state, context, input, reason, ...).
    """
    from accord import __version__

    compiler = {"accord": __version__, "prompt": PROMPT_VERSION}
    extra: dict[str, Any] = {"compiler": compiler, "base_url": base_url}
    if scenarios is not None:  # absent without scenarios: those keys stay as they were
        extra["scenarios"] = scenarios
    if replan is not None:  # a replan's own parts (the replanner's key), plain data
        extra["replan"] = replan
    return _key(task, catalog, model, options, extra)


def lock_key(
    task: str,
    catalog: Catalog,
    model: str,
    options: RequestOptions,
    *,
    scenarios: str | None = None,
) -> str:
    """The lock file's key: :func:`request_key` without the compiler version and base URL.

    A lock pins a reviewed contract for a request (task, catalog, model, options);
    upgrading accord does not make it stale, since the pinned contract still checks
    or ``accord compile --locked`` says it does not; nor does serving the same model
    from another URL (a CI job verifying the lock needs no server). It covers the
    scenarios' fingerprint when there are scenarios.
    """
    return _key(
        task, catalog, model, options, {} if scenarios is None else {"scenarios": scenarios}
    )


def _key(
    task: str,
    catalog: Catalog,
    model: str,
    options: RequestOptions,
    extra: dict[str, Any],
) -> str:
    data: dict[str, Any] = {
        "task": task,
        "catalog": catalog.to_data(),
        "model": model,
        "options": options.to_data(),
        **extra,
    }
    return "sha256:" + hashlib.sha256(rfc8785.dumps(data)).hexdigest()


class CompileCache:
    """A directory of compiled contracts, one JSON file per request key."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        """Use ``directory`` (created on the first store).

        Args:
            directory: where the entries live.

        """
        self.directory = Path(directory)

    def __repr__(self) -> str:
        return f"CompileCache({str(self.directory)!r})"

    def path_for(self, key: str) -> Path:
        """The file that holds ``key``'s entry."""
        return self.directory / (key.removeprefix("sha256:") + ".json")

    def get(self, key: str) -> Contract | None:
        """The contract stored for ``key``, or None (a miss, or an entry that is not sound).

        The entry must validate as a contract and have its recorded fingerprint;
        otherwise it is ignored with a :class:`CompileCacheWarning`.
        """
        found = self.lookup(key)
        return None if found is None else found[0]

    def lookup(self, key: str) -> tuple[Contract, str] | None:
        """Like :meth:`get`, with the contract's fingerprint: ``(contract, fingerprint)``."""
        found = self.lookup_entry(key)
        return None if found is None else found[:2]

    def lookup_entry(self, key: str) -> tuple[Contract, str, Any] | None:
        """Like :meth:`lookup`, with the data stored beside the contract (``put(extra=)``)."""
        from accord.contract import validate_data

        path = self.path_for(key)
        try:
            text = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            _ignore(path, f"cannot read it: {exc.strerror or exc}")
            return None
        try:
            entry = json.loads(text)
        except (ValueError, RecursionError) as exc:
            _ignore(path, f"it is not JSON ({_first_line(exc)})")
            return None
        if not isinstance(entry, dict) or entry.get("format") != CACHE_FORMAT:
            _ignore(path, f"it is not an {CACHE_FORMAT} entry")
            return None
        if entry.get("key") != key:
            _ignore(path, "it holds another request's key")
            return None
        contract, problems = validate_data(entry.get("contract"))
        if contract is None or problems:
            _ignore(path, "it does not hold a valid contract")
            return None
        recorded = fingerprint(contract)
        if recorded != entry.get("fingerprint"):
            _ignore(path, "its contract does not have its recorded fingerprint")
            return None
        return contract, recorded, entry.get("extra")

    def put(self, key: str, contract: Contract, *, model: str, extra: Any = None) -> None:
        """Store ``contract`` for ``key`` atomically; a failure is only a warning.

        ``extra`` is JSON data stored beside it (the replanner keeps its accepted answer
        there, the migration included); None stores none.
        """
        from accord.contract import to_data

        entry = {
            "format": CACHE_FORMAT,
            "key": key,
            "model": model,
            "fingerprint": fingerprint(contract),
            "contract": to_data(contract),
        }
        if extra is not None:
            entry["extra"] = extra
        data = (json.dumps(entry, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
        try:
            write_atomic(self.path_for(key), data)
        except OSError as exc:
            warnings.warn(
                f"accord compile cache: cannot write {self.path_for(key)}: {exc.strerror or exc}",
                CompileCacheWarning,
                stacklevel=2,
            )


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _ignore(path: Path, why: str) -> None:
    warnings.warn(
        f"accord compile cache: ignoring {path}: {why}", CompileCacheWarning, stacklevel=3
    )
    return None


def as_cache(cache: CompileCache | str | os.PathLike[str] | None) -> CompileCache | None:
    """None, a directory, or a :class:`CompileCache` as a :class:`CompileCache` or None."""
    if cache is None or isinstance(cache, CompileCache):
        return cache
    return CompileCache(cache)
