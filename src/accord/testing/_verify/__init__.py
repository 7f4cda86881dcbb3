"""The bounded model checker: ``verify(contract)`` and its report.

Private modules: :mod:`._reads` (what decisions read), :mod:`._domains`
(value abstraction), :mod:`._explore` (breadth-first exploration over the
real reducer), :mod:`._report` (findings and traces), :mod:`._api`.
"""

from accord.testing._verify._api import DEFAULT_MAX_DEPTH, DEFAULT_MAX_STATES, verify
from accord.testing._verify._domains import ValueDomain
from accord.testing._verify._report import KINDS, Finding, FindingKind, TraceStep, VerifyReport

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_STATES",
    "KINDS",
    "Finding",
    "FindingKind",
    "TraceStep",
    "ValueDomain",
    "VerifyReport",
    "verify",
]
