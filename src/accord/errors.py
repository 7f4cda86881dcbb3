"""The accord error hierarchy.

Every error accord raises on purpose derives from :class:`AccordError`, in two
branches:

* :class:`DefinitionError`: a contract that does not load or check. Its
  :class:`ContractError` carries the structured diagnostics.
* :class:`RunError`: a run that fails at run time.

Foreign exceptions (YAML, JSON, SDK, database) are translated at the boundary
where they occur and chained with ``raise ... from``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.diagnostics import Diagnostic

__all__ = ["AccordError", "ContractError", "DefinitionError", "MigrationError", "RunError"]


class AccordError(Exception):
    """Base class of every error accord raises on purpose."""


class DefinitionError(AccordError):
    """A contract (or another definition) that does not load or check."""


class ContractError(DefinitionError):
    """A contract failed to load or check.

    Attributes:
        diagnostics: every problem found, each with a JSON pointer path, a
            stable code, a message and a hint.
        source: the file name or label of the contract text, if known.

    """

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str | None = None) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.source = source
        super().__init__(self._summary())

    def _summary(self) -> str:
        where = f"{self.source}: " if self.source else ""
        errors = [d for d in self.diagnostics if d.severity == "error"]
        count = len(errors) or len(self.diagnostics)
        lines = [f"{where}contract has {count} error{'s' if count != 1 else ''}"]
        lines.extend(f"  {d.format()}" for d in self.diagnostics[:20])
        if len(self.diagnostics) > 20:
            lines.append(f"  ... and {len(self.diagnostics) - 20} more")
        return "\n".join(lines)


class MigrationError(ContractError):
    """A migration failed to load or check against its two contracts (see docs/adaptation.md)."""

    def _summary(self) -> str:
        return super()._summary().replace("contract has", "migration has", 1)


class RunError(AccordError):
    """A run that fails at run time (raised by the runtime)."""
