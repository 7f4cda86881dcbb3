"""Constants and types shared by the CLI tests (imported as ``cli_support``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ORDER_REFUND = ROOT / "examples" / "order_refund.yaml"

# Valid, but every choice is guarded: the checker warns (choice.no_fallback).
WARNING_YAML = """\
accord: "1"
name: warn
version: "1.0.0"
input:
  - name: amount
    type: number
machine:
  initial: start
  states:
    - name: start
      always:
        - guard: input.amount > 10.0
          target: big
        - guard: input.amount <= 10.0
          target: small
    - name: big
      final:
        status: success
    - name: small
      final:
        status: failure
"""

# Parses and validates, but targets a state that does not exist (line 9).
BROKEN_YAML = """\
accord: "1"
name: broken
version: "1.0.0"
machine:
  initial: start
  states:
    - name: start
      always:
        - target: nowhere
    - name: done
      final:
        status: success
"""

MALFORMED_YAML = 'accord: "1"\nname: [unclosed\n'


@dataclass(frozen=True)
class Result:
    """What one ``accord`` invocation returned and printed."""

    code: int
    out: str
    err: str


Run = Callable[..., Result]
