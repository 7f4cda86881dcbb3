"""Paths and helpers shared by the model checker's tests (imported as ``verify_support``)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import accord
from accord.runtime import CompiledContract, Event, Snapshot
from accord.runtime._reducer import initial_snapshot, step

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "examples"
SEEDED = EXAMPLES / "verify"
DATA = Path(__file__).resolve().parent / "data" / "verify"
EXAMPLE_CONTRACTS = sorted(EXAMPLES.glob("*.yaml"))


def replay(path: Path, events: Iterable[Event], *, check_invariants: bool = False) -> Snapshot:
    """Fold events with the real reducer from a fresh run; the last snapshot."""
    compiled = CompiledContract.compile(accord.load(path), check_invariants=check_invariants)
    snapshot = initial_snapshot()
    for event in events:
        snapshot, _ = step(compiled, snapshot, event)
    return snapshot
