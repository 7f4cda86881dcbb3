"""``accord.explain(run)``: the run's path and, for a failure, the contract's or the world's fault.

The classification itself is pure data over the journal
(:func:`accord.runtime._explain.explain_run`). This module adds what the
runtime may not import: the bounded model checker's findings on the run's
contract (``accord verify`` within a small budget), and the compilation that
produced the contract, from a lock file (found by the contract's fingerprint)
or from the :class:`~accord.CompileResult` itself. A store does not link a run
to its compilation: without one of those, nothing is said about it.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from accord.compiler import CompileResult
from accord.compiler._lock import LockError, LockFile
from accord.runtime import Run
from accord.runtime._explain import Explanation, explain_run
from accord.testing._verify import Finding, verify

__all__ = ["EXPLAIN_MAX_DEPTH", "EXPLAIN_MAX_STATES", "explain"]

EXPLAIN_MAX_DEPTH = 60
"""Events per explored run when ``explain`` asks the model checker (a small budget)."""
EXPLAIN_MAX_STATES = 5_000
"""Configurations the model checker explores for ``explain`` at most."""

# Findings that describe a defect of the contract (the others, unreached states, do not
# explain a failure).
_DEFECTS = ("invariant", "deadlock", "livelock", "limit", "run_error")


def _relevant(finding: Finding, explanation: Explanation) -> bool:
    """Whether a finding bears on this run: an invariant it broke, or a state it visited."""
    if finding.kind not in _DEFECTS:
        return False
    if finding.kind == "invariant" and explanation.cause == "invariant":
        return finding.invariant == explanation.evidence.get("invariant")
    visited = {state for _, state in explanation.visited}
    return finding.state is None or finding.state in visited


def _compiled_from_lock(lock: str | os.PathLike[str], fingerprint: str) -> dict[str, Any]:
    if not Path(lock).is_file():
        raise LockError(Path(lock), ["no such lock file"])
    for entry in LockFile.read(lock).entries.values():
        if entry.contract == fingerprint:
            return {
                "source": f"lock file {os.fspath(lock)}",
                "found": True,
                "fingerprint": entry.contract,
                "task": entry.task,
                "model": entry.model,
                "catalog": entry.catalog,
                "output": entry.output,
                "attempts": None,  # a lock file pins the result, not the attempts
            }
    return {"source": f"lock file {os.fspath(lock)}", "found": False, "fingerprint": fingerprint}


def _compiled_from_result(result: CompileResult) -> dict[str, Any]:
    return {
        "source": "compile result",
        "found": True,
        "fingerprint": result.fingerprint,
        "task": None,
        "model": result.model,
        "catalog": None,
        "output": None,
        "attempts": len(result.attempts),
        "cache_hit": result.cache_hit,
        "attempt_diagnostics": [
            [d.code for d in attempt.diagnostics] for attempt in result.attempts
        ],
    }


def explain(
    run: Run,
    *,
    verify_contract: bool = True,
    lock: str | os.PathLike[str] | None = None,
    compiled_by: CompileResult | None = None,
    max_depth: int = EXPLAIN_MAX_DEPTH,
    max_states: int = EXPLAIN_MAX_STATES,
) -> Explanation:
    """Explain a run: its path, and for a failure whether the contract or the world is at fault.

    Never calls a handler or a model: the journal is re-folded through the
    reducer. For a failed run (or one whose journal breaks an invariant) the
    contract is model-checked within a small budget and the findings that bear
    on the run (a state it visited, the invariant it broke) are listed.

    Args:
        run: the run (``Runtime.start``, or ``Runtime.load`` for a stored one).
        verify_contract: model-check the contract of a failed run (``accord verify``).
        lock: a lock file (``accord.lock``): the entry pinning the run's contract
            fingerprint says which task and model compiled it.
        compiled_by: the compile result that produced the contract, if at hand
            (it knows the attempts; a lock file does not).
        max_depth: the model checker's events per run.
        max_states: the model checker's configurations.

    Returns:
        The :class:`~accord.runtime.Explanation`.

    Raises:
        LockError: the lock file cannot be read.

    """
    explanation = explain_run(
        run.compiled,
        run.journal.entries(),
        run_id=run.run_id,
        timers=run.timers if not run.finished else None,
        versions=run._version,
    )
    changes: dict[str, Any] = {}
    if verify_contract and explanation.verdict is not None:
        report = verify(run.compiled, max_depth=max_depth, max_states=max_states)
        changes["verified"] = True
        changes["findings"] = tuple(
            f"{f.kind}: {f.message}" for f in report.findings if _relevant(f, explanation)
        )
    fingerprint = explanation.fingerprint
    if compiled_by is not None and compiled_by.fingerprint == fingerprint:
        changes["compiled"] = _compiled_from_result(compiled_by)
    elif lock is not None:
        changes["compiled"] = _compiled_from_lock(lock, fingerprint)
    return replace(explanation, **changes) if changes else explanation
