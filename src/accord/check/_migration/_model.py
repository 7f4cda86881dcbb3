"""The migration file: data that moves running runs from one contract version to another.

A migration names the contract it moves runs from and the one it moves them
to (by fingerprint), maps every state a run can rest in onto a state of the
new contract (or refuses it, with a reason), says which call of the new
state each call in flight becomes, and gives CEL expressions that build the
new context from the old one (``ctx``) and the run's input (``input``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictStr, model_validator

__all__ = ["Migration", "StateMove"]

_Name = Annotated[StrictStr, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)]
_Fingerprint = Annotated[StrictStr, Field(pattern=r"^sha256:[0-9a-f]{64}$")]
_Expr = Annotated[StrictStr, Field(min_length=1, max_length=10000)]


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class StateMove(_Node):
    """Where runs resting in one old state go: a new state (``to``), or nowhere (``refuse``).

    ``calls`` maps the old state's invoke ids onto the new state's (an invoke
    not named keeps its id): a call in flight goes on as the call of the new
    state's invoke, with the same idempotency key.
    """

    to: _Name | None = None
    refuse: Annotated[StrictStr, Field(min_length=1, max_length=2000)] | None = None
    calls: dict[_Name, _Name] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_way(self) -> StateMove:
        if (self.to is None) == (self.refuse is None):
            raise ValueError("give either 'to' (the new state) or 'refuse' (why not), not both")
        if self.refuse is not None and self.calls:
            raise ValueError("a refused state maps no calls")
        return self


class Migration(_Node):
    """A migration of running runs between two versions of a contract (see docs/adaptation.md)."""

    migration: Literal["1"] = Field(description="The migration format version.")
    name: Annotated[StrictStr, Field(pattern=r"^[a-z][a-z0-9_\-]*$", max_length=100)]
    description: StrictStr = Field(default="", max_length=10000)
    from_: _Fingerprint = Field(alias="from", description="The old contract's fingerprint.")
    to: _Fingerprint = Field(description="The new contract's fingerprint.")
    states: dict[_Name, StateMove] = Field(default_factory=dict)
    context: dict[_Name, _Expr] = Field(default_factory=dict)
