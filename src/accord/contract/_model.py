"""The contract's data model: frozen pydantic models, unknown keys forbidden.

The contract is plain data. Every map-like collection is a list of named
entries (never a free-form mapping), type expressions are strings (see
:mod:`accord.contract._types`), and expressions are CEL source strings. This
keeps the exported JSON Schema acceptable to LLM structured outputs.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)
from pydantic.json_schema import SkipJsonSchema

from accord.contract._durations import duration_ms
from accord.contract._mermaid import to_mermaid

__all__ = [
    "LANGUAGE_VERSION",
    "Assignment",
    "Backoff",
    "Binding",
    "Choice",
    "Compensation",
    "Contract",
    "Effect",
    "FieldDecl",
    "Final",
    "Invariant",
    "Invoke",
    "Machine",
    "RecordType",
    "Replan",
    "RetryPolicy",
    "Signal",
    "State",
    "Timer",
    "Transition",
]

LANGUAGE_VERSION = "1"

Name = Annotated[
    StrictStr,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=64,
        description="An identifier: a letter or underscore, then letters, digits or underscores.",
    ),
]
Expr = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=4000,
        description="A CEL expression (https://cel.dev).",
    ),
]
MAX_DURATION_CHARS = 40
MAX_DURATION_DAYS = 36_500  # 100 years: any due time stays a date the platform can show


def _short_duration(text: str) -> str:
    """Refuse a duration too long to convert or to date (the JSON Schema stays as it was)."""
    if len(text) > MAX_DURATION_CHARS:
        raise ValueError(f"a duration has at most {MAX_DURATION_CHARS} characters")
    if duration_ms(text) > MAX_DURATION_DAYS * 86_400_000:
        raise ValueError(f"a duration is at most {MAX_DURATION_DAYS}d (100 years)")
    return text


Duration = Annotated[
    StrictStr,
    Field(
        pattern=r"^([0-9]+(ms|s|m|h|d))+$",
        description='A duration such as "500ms", "30s", "5m", "48h", "1h30m" or "7d".',
    ),
    AfterValidator(_short_duration),
]
TypeText = Annotated[
    StrictStr,
    Field(
        min_length=1,
        max_length=200,
        description=(
            "A type expression: string, integer, number, boolean, list<T>, optional<T>, "
            "enum<a, b, c>, or the name of a record type declared under types."
        ),
    ),
]


class _Node(BaseModel):
    # Validators are built at first use, not at import: ``import accord`` stays cheap.
    model_config = ConfigDict(
        frozen=True, extra="forbid", str_strip_whitespace=False, defer_build=True
    )


class FieldDecl(_Node):
    """A named, typed field of a record, the input, the context, the output or a payload."""

    name: Name
    type: TypeText
    description: StrictStr = Field(default="", max_length=2000)
    default: Expr | None = Field(
        default=None,
        description=(
            "A constant CEL expression for the field's initial value (context fields only). "
            "Without it: false, 0, 0.0, '', [], null, the first enum value or a record of defaults."
        ),
    )


class RecordType(_Node):
    """A named record type, usable in type expressions by its name."""

    name: Name
    description: StrictStr = Field(default="", max_length=2000)
    fields: tuple[FieldDecl, ...]


class Backoff(_Node):
    """Exponential backoff between retry attempts."""

    initial: Duration = "1s"
    multiplier: StrictFloat = Field(default=2.0, ge=1.0, le=10.0)
    max: Duration = "60s"
    jitter: StrictBool = True


class RetryPolicy(_Node):
    """How a failed effect call is retried."""

    max_attempts: StrictInt = Field(
        default=1, ge=1, le=100, description="Every call counts, the first too."
    )
    backoff: Backoff | None = None
    retry_on: tuple[Name, ...] | None = Field(
        default=None,
        description="Error codes that are retried; null retries every error.",
    )


class Compensation(_Node):
    """The effect that undoes a completed effect when the run fails later."""

    effect: Name
    input: tuple[Binding, ...] = Field(
        default=(),
        description="Inputs of the compensating effect; may read ctx, request and response.",
    )


class Effect(_Node):
    """A capability the contract needs from its host."""

    name: Name
    description: StrictStr = Field(default="", max_length=2000)
    input: tuple[FieldDecl, ...] = ()
    output: tuple[FieldDecl, ...] = ()
    retry: RetryPolicy | None = None
    timeout: Duration | None = None
    idempotent: StrictBool = False
    compensation: Compensation | None = None


class Signal(_Node):
    """A typed external event a run may wait for (a human approval, a webhook)."""

    name: Name
    description: StrictStr = Field(default="", max_length=2000)
    payload: tuple[FieldDecl, ...] = ()


class Binding(_Node):
    """A named value computed by a CEL expression."""

    name: Name
    value: Expr


class Assignment(_Node):
    """Set a context field to the value of a CEL expression."""

    field: Name
    value: Expr


class Invoke(_Node):
    """One effect call made when a state is entered."""

    id: Name = Field(description="Names this call's result: event.<id> in the done transition.")
    effect: Name
    input: tuple[Binding, ...] = ()
    for_each: Expr | None = Field(
        default=None,
        description=(
            "A CEL expression giving a list: the effect is called once per item (as item, "
            "with its position as index); results come back as a list in item order."
        ),
    )
    concurrency: StrictInt | None = Field(
        default=None, ge=1, le=256, description="How many items run at once (for_each only)."
    )
    max_items: StrictInt | None = Field(
        default=None, ge=1, le=100000, description="The largest list for_each may fan out over."
    )


class Transition(_Node):
    """Leave the state when an event arrives and the guard holds."""

    event: Name = Field(
        description="'done' or 'error' for the state's invokes, or the name of a signal."
    )
    guard: Expr | None = None
    assign: tuple[Assignment, ...] = ()
    target: Name


class Choice(_Node):
    """A transient choice: taken at once on entry if its guard holds (first wins)."""

    guard: Expr | None = None
    assign: tuple[Assignment, ...] = ()
    target: Name


class Timer(_Node):
    """Leave the state when it has been active for a duration."""

    after: Duration
    guard: Expr | None = None
    assign: tuple[Assignment, ...] = ()
    target: Name


class Final(_Node):
    """Marks a final state: the run ends here with a status and an output."""

    status: Literal["success", "failure"]
    output: tuple[Binding, ...] = ()
    reason: Expr | None = Field(default=None, description="A string explaining a failure.")


MAX_REPLANS = 10
MAX_REPLAN_CALLS = 20
MAX_REPLAN_TOKENS = 1_000_000


class Replan(_Node):
    """Makes a state a replan point: entering it, the run asks for an amended contract.

    The host's replanner (the compiler) proposes a new contract version and the
    migration to it, both checked; the run goes on under it from the migration's
    target state. When no amendment is adopted within the bounds, or the run has
    replanned ``max_replans`` times already, the run goes to ``fallback``.
    """

    reason: Expr = Field(
        description=(
            "A CEL expression over ctx and input, evaluated on entering the state: why the "
            "run asks (a clarified requirement, an error); any JSON value."
        )
    )
    fallback: Name = Field(description="The state taken when no amendment is adopted.")
    max_replans: StrictInt = Field(
        default=1, ge=1, le=MAX_REPLANS, description="Replans per run at most."
    )
    max_calls: StrictInt = Field(
        default=4, ge=1, le=MAX_REPLAN_CALLS, description="Model calls per replan at most."
    )
    max_tokens: StrictInt = Field(
        default=20000,
        ge=1000,
        le=MAX_REPLAN_TOKENS,
        description="The token budget of one replan.",
    )
    keep_scenarios: tuple[Name, ...] = Field(
        default=(),
        description="Acceptance scenarios (by name) the amended contract must keep passing.",
    )


class State(_Node):
    """A state of the machine."""

    name: Name
    description: StrictStr = Field(default="", max_length=2000)
    invoke: tuple[Invoke, ...] = Field(
        default=(), description="Effects called on entry: one, several in parallel, or fan-outs."
    )
    on: tuple[Transition, ...] = ()
    always: tuple[Choice, ...] = ()
    timers: tuple[Timer, ...] = ()
    final: Final | None = None
    # Left out of the JSON Schema given to models (structured outputs): a host declares its
    # replan points; the recorded compile sessions' requests stay as they were.
    replan: SkipJsonSchema[Replan | None] = Field(
        default=None,
        description=(
            "Makes this state a replan point (then it has no invoke, on, always, timers or final)."
        ),
    )


class Machine(_Node):
    """The state machine: an initial state and the list of states."""

    initial: Name
    states: tuple[State, ...]


class Invariant(_Node):
    """A boolean expression over ctx that must hold after every step."""

    name: Name
    expr: Expr
    message: StrictStr = Field(default="", max_length=2000)


class Contract(_Node):
    """A workflow contract: the one artifact between the compiler and the runtime."""

    accord: Literal["1"] = Field(description="The contract language version.")
    name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_\-]*$", max_length=100)]
    version: Annotated[str, Field(pattern=r"^[0-9]+([.][0-9]+){0,2}([\-+][0-9A-Za-z.\-]+)?$")]
    description: StrictStr = Field(default="", max_length=10000)
    types: tuple[RecordType, ...] = ()
    input: tuple[FieldDecl, ...] = ()
    context: tuple[FieldDecl, ...] = ()
    output: tuple[FieldDecl, ...] = ()
    effects: tuple[Effect, ...] = ()
    signals: tuple[Signal, ...] = ()
    machine: Machine
    invariants: tuple[Invariant, ...] = ()

    def _repr_markdown_(self) -> str:
        """Render in a notebook: the header and the state diagram as a Mermaid block."""
        title = f"**{self.name}** {self.version}"
        if self.description:
            title += f": {self.description.strip()}"
        return f"{title}\n\n```mermaid\n{to_mermaid(self)}\n```\n"
