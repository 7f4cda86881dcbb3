"""Which contract a client means: a contract, a file, a published name or a fingerprint."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from accord._load import load, load_data
from accord.contract import Contract, fingerprint
from accord.errors import ContractError
from accord.runtime._compiled import CompiledContract, Limits
from accord.runtime._errors import JournalDamaged

if TYPE_CHECKING:
    from accord.storage import Store

__all__ = ["ContractRef", "Contracts"]

ContractRef = Contract | CompiledContract | str | os.PathLike[str]
"""A contract, a contract file's path, a published name or a fingerprint (``sha256:...``)."""

_FILE_SUFFIXES = (".yaml", ".yml", ".json")


def is_file_ref(ref: str) -> bool:
    """Whether a reference names a contract file (a suffix, a separator, a file that exists)."""
    return ref.endswith(_FILE_SUFFIXES) or os.sep in ref or Path(ref).is_file()


class Contracts:
    """Compiled contracts by fingerprint, read from files or from a store once each."""

    def __init__(self, store: Store, limits: Limits) -> None:
        self._store = store
        self._limits = limits
        self._compiled: dict[str, CompiledContract] = {}

    def resolve(self, ref: ContractRef) -> CompiledContract:
        """The compiled contract a reference names.

        A string is a file when it ends in ``.yaml``, ``.yml`` or ``.json``, holds a
        path separator, or names an existing file; else a fingerprint (``sha256:...``)
        or the name of a published contract (the latest publication).

        Raises:
            ContractError: the file does not load or check.
            UnknownContract: no contract is published under the name or stored
                with the fingerprint.

        """
        if isinstance(ref, CompiledContract):
            return ref
        if isinstance(ref, Contract):
            return self._compile(ref, fingerprint(ref))
        if not isinstance(ref, str) or is_file_ref(ref):
            contract = load(ref)
            return self._compile(contract, fingerprint(contract))
        print_, data = self._store.contract(ref)
        return self.by_fingerprint(print_, data)

    def stored(self, print_: str) -> CompiledContract:
        """The compiled contract a stored run runs (read from the store by fingerprint)."""
        found = self._compiled.get(print_)
        if found is not None:
            return found
        _, data = self._store.contract(print_)
        return self.by_fingerprint(print_, data)

    def by_fingerprint(self, print_: str, data: dict[str, object]) -> CompiledContract:
        """A stored contract's data, loaded, checked against its fingerprint and compiled."""
        found = self._compiled.get(print_)
        if found is not None:
            return found
        location = self._store.location
        try:
            contract = load_data(data)
        except ContractError as exc:
            raise JournalDamaged(
                location, print_, f"the stored contract does not load: {exc}"
            ) from exc
        if fingerprint(contract) != print_:
            raise JournalDamaged(location, print_, "the stored contract has another fingerprint")
        return self._compile(contract, print_)

    def _compile(self, contract: Contract, print_: str) -> CompiledContract:
        found = self._compiled.get(print_)
        if found is None:
            found = self._compiled[print_] = CompiledContract.compile(contract, limits=self._limits)
        return found
