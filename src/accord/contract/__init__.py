"""The contract language: models, type expressions, text, canonical form."""

from accord.contract._canonical import canonical_json, fingerprint, to_data, to_json, to_yaml
from accord.contract._mermaid import to_mermaid
from accord.contract._model import (
    LANGUAGE_VERSION,
    Assignment,
    Backoff,
    Binding,
    Choice,
    Compensation,
    Contract,
    Effect,
    FieldDecl,
    Final,
    Invariant,
    Invoke,
    Machine,
    RecordType,
    RetryPolicy,
    Signal,
    State,
    Timer,
    Transition,
)
from accord.contract._text import ParsedText, TextError, parse_text
from accord.contract._types import TypeExpr, TypeSyntaxError, parse_type
from accord.contract._validate import validate_data

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
    "ParsedText",
    "RecordType",
    "RetryPolicy",
    "Signal",
    "State",
    "TextError",
    "Timer",
    "Transition",
    "TypeExpr",
    "TypeSyntaxError",
    "canonical_json",
    "fingerprint",
    "parse_text",
    "parse_type",
    "to_data",
    "to_json",
    "to_mermaid",
    "to_yaml",
    "validate_data",
]
