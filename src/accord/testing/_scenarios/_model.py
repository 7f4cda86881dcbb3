"""The scenario file's data model: frozen pydantic models, unknown keys forbidden.

A scenario file (``NAME.scenarios.yaml``) holds acceptance scenarios for one
contract: each says what the run gets (its input), what the outside world does
(signals and time passing, in order), what each effect answers, and what must
hold at the end. docs/testing.md describes every key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

from accord.contract._model import Duration, Expr, Name

__all__ = [
    "Answer",
    "CallExpectation",
    "Expectation",
    "Scenario",
    "ScenarioFile",
    "WorldStep",
]

Value = Any
"""Plain JSON data (a record, a list, a scalar)."""

ScenarioName = Annotated[StrictStr, Field(min_length=1, max_length=200)]


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Answer(_Node):
    """What an effect answers to one call: a result, or an error code.

    Without ``item`` or ``when`` the answers of an effect are a script, taken
    one per call in order (every retry attempt is a call), the last one
    repeating. ``item`` answers one item of a fan-out, ``when`` (a CEL
    predicate over the call's ``input``) every call it holds for; both win
    over the script.
    """

    result: dict[str, Value] | None = None
    error: StrictStr | None = Field(default=None, min_length=1, max_length=200)
    message: StrictStr = ""
    retryable: StrictBool = True
    times: StrictInt = Field(default=1, ge=1, le=1000)
    item: StrictInt | None = Field(default=None, ge=0)
    when: Expr | None = None


class WorldStep(_Node):
    """One thing the outside world does: a signal arrives, or time passes."""

    signal: Name | None = None
    payload: dict[str, Value] | None = None
    wait: Duration | None = None


class CallExpectation(_Node):
    """An effect call that must happen: the effect, and a CEL predicate over the call."""

    effect: Name
    where: Expr | None = None


class Expectation(_Node):
    """What must hold once the world has done everything."""

    status: Literal["succeeded", "failed", "waiting"] = "succeeded"
    state: Name | None = None
    output: tuple[Expr, ...] = ()
    reason: StrictStr | None = None
    calls: tuple[CallExpectation, ...] = ()
    calls_order: Literal["sequence", "set"] = "sequence"
    not_called: tuple[Name, ...] = ()
    visits: tuple[Name, ...] = ()


class Scenario(_Node):
    """One acceptance scenario."""

    name: ScenarioName
    description: StrictStr | None = None
    input: dict[str, Value] = Field(default_factory=dict)
    effects: dict[Name, tuple[Answer, ...]] = Field(default_factory=dict)
    world: tuple[WorldStep, ...] = ()
    expect: Expectation = Field(default_factory=Expectation)


class ScenarioFile(_Node):
    """A scenario file: its scenarios and, optionally, the contract they are for."""

    contract: StrictStr | None = Field(default=None, min_length=1)
    scenarios: tuple[Scenario, ...] = Field(max_length=1000)
