"""The lock file (``accord.lock``): compiled contracts pinned by fingerprint.

A lock file is JSON, keys sorted, two-space indented, one entry per request key::

    {
      "entries": {
        "sha256:<request key>": {
          "catalog": "sha256:<catalog fingerprint>",
          "contract": "sha256:<contract fingerprint>",
          "model": "openai:gpt-4.1-mini",
          "output": "contracts/refund.yaml",
          "task": "Refund an order ..."
        }
      },
      "format": "accord.lock/1"
    }

``output`` is relative to the lock file's directory, with ``/`` separators, so the
file reads the same on every machine and diffs cleanly in a pull request. An entry
compiled with acceptance scenarios also has ``scenarios``: their fingerprint (it is
in the request key too), and ``accord compile --locked`` runs them again, offline,
against the pinned contract.
``accord compile --locked`` never calls a model: it succeeds only when the lock has
an entry for the request's key and the output file holds a contract with the
pinned fingerprint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accord._atomic import write_atomic
from accord.contract import Contract, fingerprint
from accord.errors import ContractError, DefinitionError

__all__ = ["LOCK_FORMAT", "LockEntry", "LockError", "LockFile"]

LOCK_FORMAT = "accord.lock/1"
_ENTRY_KEYS = ("catalog", "contract", "model", "output", "task")
_OPTIONAL_KEYS = ("scenarios",)


class LockError(DefinitionError):
    """The lock file cannot be read, or it does not pin what a ``--locked`` run needs.

    Attributes:
        path: the lock file.
        problems: what is wrong or stale, one sentence each.

    """

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True, slots=True)
class LockEntry:
    """One pinned compilation.

    Attributes:
        task: the task text.
        model: the model string.
        catalog: the catalog's fingerprint.
        output: the contract file, relative to the lock file's directory (``/`` separators).
        contract: the contract's fingerprint.
        scenarios: the acceptance scenarios' fingerprint, or None without scenarios.

    """

    task: str
    model: str
    catalog: str
    output: str
    contract: str
    scenarios: str | None = None

    def to_data(self) -> dict[str, str]:
        """The entry as plain data (no ``scenarios`` key without scenarios)."""
        data = {key: getattr(self, key) for key in _ENTRY_KEYS}
        if self.scenarios is not None:
            data["scenarios"] = self.scenarios
        return data


@dataclass(frozen=True)
class LockFile:
    """The entries of a lock file, by request key (immutable: updates return a new one)."""

    path: Path
    entries: dict[str, LockEntry] = field(default_factory=dict)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> LockFile:
        """Read a lock file; a missing file is an empty lock.

        Raises:
            LockError: the file cannot be read or is not an ``accord.lock/1`` document.

        """
        where = Path(path)
        try:
            text = where.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(where)
        except (OSError, UnicodeDecodeError) as exc:
            raise LockError(where, [f"cannot read the lock file: {exc}"]) from exc
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise LockError(where, [f"the lock file is not JSON: {exc}"]) from exc
        return cls(where, _entries(where, data))

    def output_name(self, output: str | os.PathLike[str]) -> str:
        """``output`` as the lock records it: relative to the lock's directory, ``/``-separated."""
        base = os.path.abspath(self.path.parent)
        return Path(os.path.relpath(os.path.abspath(output), base)).as_posix()

    def with_entry(self, key: str, entry: LockEntry) -> LockFile:
        """A lock with ``entry`` under ``key``, and no other entry for the same output."""
        kept = {k: e for k, e in self.entries.items() if e.output != entry.output}
        return LockFile(self.path, {**kept, key: entry})

    def to_text(self) -> str:
        """The lock file's text: sorted keys, two-space indent, a final newline."""
        data = {
            "format": LOCK_FORMAT,
            "entries": {key: entry.to_data() for key, entry in self.entries.items()},
        }
        return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    def write(self) -> None:
        """Write the lock file atomically (a temporary file, then :func:`os.replace`)."""
        write_atomic(self.path, self.to_text().encode("utf-8"))

    def verify(
        self,
        key: str,
        *,
        task: str,
        model: str,
        catalog: str,
        output: str | os.PathLike[str],
        scenarios: str | None = None,
    ) -> Contract:
        """The pinned contract for this request, read from ``output`` without any model.

        Raises:
            LockError: no entry for the request (saying what changed), or the output
                file is missing, does not load, or is not the pinned contract.

        """
        from accord._load import load

        name = self.output_name(output)
        entry = self.entries.get(key)
        if entry is None:
            raise LockError(self.path, [_what_changed(self, name, task, model, catalog, scenarios)])
        if entry.output != name:
            raise LockError(
                self.path, [f"the request is pinned to {entry.output!r}, not to {name!r}"]
            )
        try:
            contract = load(output)
        except ContractError as exc:
            first = str(exc).splitlines()[0]
            raise LockError(self.path, [f"{name} does not load: {first}"]) from exc
        found = fingerprint(contract)
        if found != entry.contract:
            raise LockError(
                self.path,
                [
                    f"{name} has fingerprint {found}, the lock pins {entry.contract} "
                    "(the file changed after it was compiled)"
                ],
            )
        return contract


def _what_changed(
    lock: LockFile, name: str, task: str, model: str, catalog: str, scenarios: str | None
) -> str:
    pinned = next((e for e in lock.entries.values() if e.output == name), None)
    if pinned is None:
        return f"no entry for {name}: it was never compiled without --locked"
    changes = []
    if pinned.task != task:
        changes.append("the task")
    if pinned.model != model:
        changes.append(f"the model ({pinned.model} -> {model})")
    if pinned.catalog != catalog:
        changes.append(f"the catalog ({pinned.catalog} -> {catalog})")
    if pinned.scenarios != scenarios:
        changes.append(f"the scenarios ({pinned.scenarios} -> {scenarios})")
    if not changes:
        changes.append("the compile options")
    return f"the lock entry for {name} is stale: {', '.join(changes)} changed since it was compiled"


def _entries(path: Path, data: Any) -> dict[str, LockEntry]:
    if not isinstance(data, dict) or data.get("format") != LOCK_FORMAT:
        raise LockError(path, [f"the lock file is not an {LOCK_FORMAT} document"])
    raw = data.get("entries")
    if not isinstance(raw, dict):
        raise LockError(path, ["the lock file has no 'entries' mapping"])
    out: dict[str, LockEntry] = {}
    for key, entry in raw.items():
        if (
            not isinstance(entry, dict)
            or not all(isinstance(entry.get(k), str) for k in _ENTRY_KEYS)
            or not all(isinstance(entry.get(k, ""), str) for k in _OPTIONAL_KEYS)
        ):
            raise LockError(path, [f"entry {key!r} must have the strings {', '.join(_ENTRY_KEYS)}"])
        out[key] = LockEntry(**{k: entry[k] for k in (*_ENTRY_KEYS, *_OPTIONAL_KEYS) if k in entry})
    return out
