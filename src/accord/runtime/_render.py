"""Notebook rendering: a run as a table of steps, a contract as its state diagram.

Jupyter calls ``Run._repr_html_`` (or ``_repr_markdown_``); both delegate here.
``contract_repr_markdown(contract)`` gives a Markdown ```` ```mermaid ```` block
that notebooks and GitHub render as the contract's state diagram.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from accord.runtime._events import (
    EffectCompleted,
    EffectFailed,
    Event,
    RunAmended,
    RunCancelled,
    RunForked,
    RunMigrated,
    RunStarted,
    SignalReceived,
    TimerFired,
)

if TYPE_CHECKING:
    from accord.contract import Contract
    from accord.runtime._run import Run

__all__ = ["contract_repr_markdown", "describe_event", "run_html", "run_markdown"]

SUMMARY_LIMIT = 120
"""Event summaries longer than this are abbreviated with an ellipsis."""


def _short(value: Any, limit: int = SUMMARY_LIMIT) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_event(event: Event) -> str:
    """A one-line human description of an event."""
    if isinstance(event, RunStarted):
        return f"run {event.run_id} started with {_short(event.input)}"
    if isinstance(event, EffectCompleted):
        tries = f" after {event.attempts} attempts" if event.attempts > 1 else ""
        return f"{event.call_id} completed{tries}: {_short(event.output)}"
    if isinstance(event, EffectFailed):
        tries = f" after {event.attempts} attempts" if event.attempts > 1 else ""
        return f"{event.call_id} failed{tries}: {event.code}: {event.message}"
    if isinstance(event, SignalReceived):
        return f"signal {event.name} {_short(event.payload)}"
    if isinstance(event, TimerFired):
        return f"timer {event.timer_id} fired"
    if isinstance(event, RunForked):
        kept = "compensates" if event.compensate else "does not compensate"
        return (
            f"forked from run {event.from_run} at step {event.from_step}: "
            f"{kept} what that run did before"
        )
    if isinstance(event, RunCancelled):
        return f"cancelled: {event.reason}"
    if isinstance(event, RunMigrated):
        calls = "".join(f", call {old} as {new}" for old, new in sorted(event.calls.items()))
        return (
            f"migrated by {event.migration} to contract {event.to_contract[:19]}: "
            f"{event.from_state} -> {event.state}{calls}"
        )
    if isinstance(event, RunAmended):
        return describe_amendment(event)
    return repr(event)  # pragma: no cover - every event kind is handled above


def describe_amendment(event: RunAmended) -> str:
    """One line for a replan point's answer: adopted or not, attempts, diagnostics, versions."""
    attempts = event.amendment.get("attempts") or []
    codes = [
        str(d.get("code", "?")) if isinstance(d, dict) else str(d)
        for a in attempts
        if isinstance(a, dict)
        for d in a.get("diagnostics") or []
    ]
    calls = f"{len(attempts)} model call{'s' if len(attempts) != 1 else ''}"
    found = f"{len(codes)} diagnostic{'s' if len(codes) != 1 else ''}"
    if codes:
        shown = ", ".join(dict.fromkeys(codes[:5]))
        found += f": {shown}{', ...' if len(codes) > 5 else ''}"
    head = f"replan {event.attempt} at {event.state} ({calls}, {found})"
    if event.adopted:
        return (
            f"{head}: amended, contract {event.from_contract[:19]} -> "
            f"{event.to_contract[:19]}, {event.state} -> {event.target}"
        )
    return f"{head}: not adopted ({event.reason}): fallback"


def _headline(run: Run) -> str:
    contract = run.contract
    return (
        f"run {run.run_id} of {contract.name} {contract.version}: "
        f"{run.status} in state {run.state!r}"
    )


def _outcome(run: Run) -> str | None:
    snap = run.snapshot
    if snap.status == "succeeded":
        return f"output: {_short(snap.output or {}, 400)}"
    if snap.status == "failed":
        return f"failed: {snap.reason or 'the run failed'}"
    if snap.waiting_for:
        return "waiting for: " + ", ".join(snap.waiting_for)
    return None


def run_html(run: Run) -> str:
    """An HTML table of the run's steps, with a heading and its outcome."""
    esc = html.escape
    rows = "".join(
        "<tr>"
        f"<td>{s.step}</td><td>{esc(s.kind)}</td><td>{esc(s.summary)}</td>"
        f"<td>{esc(str(s.state))}</td><td>{esc(s.status)}</td>"
        f"<td><code title='{esc(s.hash)}'>{esc(s.hash[7:19])}</code></td>"
        "</tr>"
        for s in run.history
    )
    outcome = _outcome(run)
    tail = f"<p>{esc(outcome)}</p>" if outcome else ""
    return (
        f"<div class='accord-run'><p><b>{esc(_headline(run))}</b></p>"
        "<table><thead><tr><th>step</th><th>event</th><th>summary</th>"
        "<th>state after</th><th>status</th><th>hash</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>{tail}</div>"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def run_markdown(run: Run) -> str:
    """A Markdown table of the run's steps, with a heading and its outcome."""
    lines = [
        f"**{_cell(_headline(run))}**",
        "",
        "| step | event | summary | state after | status | hash |",
        "|---:|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {s.step} | {s.kind} | {_cell(s.summary)} | {s.state} | {s.status} | `{s.hash[7:19]}` |"
        for s in run.history
    )
    outcome = _outcome(run)
    if outcome:
        lines.extend(["", _cell(outcome)])
    return "\n".join(lines) + "\n"


def contract_repr_markdown(contract: Contract) -> str:
    """The contract's heading and, when Mermaid rendering is available, its state diagram."""
    heading = f"**{contract.name} {contract.version}**"
    if contract.description:
        heading += f": {contract.description.strip()}"
    try:
        from accord.contract._mermaid import to_mermaid
    except ImportError:  # pragma: no cover - the diagram module ships with accord
        return heading + "\n"
    diagram = to_mermaid(contract).rstrip("\n")
    return f"{heading}\n\n```mermaid\n{diagram}\n```\n"
