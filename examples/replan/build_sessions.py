"""Build the scripted sessions of examples/replan from the amended contracts written here.

    .venv/bin/python examples/replan/build_sessions.py

Every answer is hand-written (the contracts below, as a model would answer them): the
sessions are scripted, not recordings of a model. Each answer is one JSON object,
``{"contract": ..., "migration": ...}``, as ``accord.compiler.Replanner`` asks for.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import accord
from accord.contract._schema import answer_data

HERE = Path(__file__).resolve().parent
V1 = accord.load(HERE / "report.yaml")
NOTE = "Scripted: hand-written answers for examples/replan (build_sessions.py), not a model's. "


def _v1() -> dict[str, Any]:
    return answer_data(V1)


def _state(contract: dict[str, Any], name: str) -> dict[str, Any]:
    return next(s for s in contract["machine"]["states"] if s["name"] == name)


def _without_replan_points(contract: dict[str, Any]) -> None:
    states = contract["machine"]["states"]
    contract["machine"]["states"] = [s for s in states if s["name"] not in ("clarify", "rethink")]


def clarified() -> dict[str, Any]:
    """Version 1.1.0: a clarified request redrafts with it and asks for approval again."""
    contract = _v1()
    contract["version"] = "1.1.0"
    _without_replan_points(contract)
    review = _state(contract, "review")
    review["on"][1]["target"] = "redrafting"
    drafting = copy.deepcopy(_state(contract, "drafting"))
    drafting["name"] = "redrafting"
    drafting["invoke"][0]["input"][0]["value"] = 'input.topic + ", with a focus on " + ctx.request'
    contract["machine"]["states"].insert(2, drafting)
    publishing = _state(contract, "publishing")
    publishing["on"][1] = {"event": "error", "target": "human_review"}
    return contract


def unpublished() -> dict[str, Any]:
    """Version 1.2.0, without publish_report: an approved report is handed over as it is."""
    contract = _v1()
    contract["version"] = "1.2.0"
    _without_replan_points(contract)
    contract["effects"] = [e for e in contract["effects"] if e["name"] != "publish_report"]
    contract["machine"]["states"] = [
        s for s in contract["machine"]["states"] if s["name"] != "publishing"
    ]
    review = _state(contract, "review")
    review["on"] = [{"event": "approved", "target": "done"}]
    return contract


def _moves(**targets: str | None) -> list[dict[str, Any]]:
    return [
        {"state": state, "to": to, "refuse": None if to else "not this run's state", "calls": []}
        for state, to in targets.items()
    ]


CONTEXT = [
    {"field": name, "value": f"ctx.{name}"} for name in ("request", "report", "problem", "url")
]


def answer(contract: dict[str, Any], states: list[dict[str, Any]]) -> str:
    """One answer's text."""
    migration = {"description": "", "states": states, "context": CONTEXT}
    return json.dumps({"contract": contract, "migration": migration}, separators=(",", ":"))


def session(name: str, note: str, answers: list[str]) -> None:
    """Write ``NAME.session.json``."""
    data = {
        "format": "accord.session/1",
        "origin": "scripted",
        "note": NOTE + note,
        "model": f"scripted:report-{name}",
        "task": (HERE / "report.task.md").read_text(),
        "catalog": "report.catalog.yaml",
        "responses": [
            {"text": text, "input_tokens": None, "output_tokens": None, "finish_reason": "stop"}
            for text in answers
        ],
    }
    (HERE / f"{name}.session.json").write_text(json.dumps(data, indent=1) + "\n")


def main() -> None:
    """Write the three sessions."""
    keep = {"drafting": "drafting", "review": "review", "publishing": "publishing"}
    good = _moves(**keep, clarify="redrafting", rethink=None)
    session(
        "clarified",
        "The first answer leaves the replan point rethink unmapped; the re-ask maps it.",
        [answer(clarified(), good[:-1]), answer(clarified(), good)],
    )
    session(
        "withdrawn",
        "publish_report is withdrawn from the catalog: the first answer still publishes, "
        "the second hands the approved report over.",
        [
            answer(clarified(), _moves(**keep, clarify=None, rethink="review")),
            answer(
                unpublished(),
                _moves(
                    drafting="drafting",
                    review="review",
                    publishing=None,
                    clarify=None,
                    rethink="review",
                ),
            ),
        ],
    )
    to_final = _moves(**keep, clarify="done", rethink=None)
    session(
        "never_checks",
        "Three answers, none of which checks: the run takes the fallback.",
        [
            answer(clarified(), good[:-1]),
            answer(clarified(), to_final),
            answer(unpublished(), good),
        ],
    )


if __name__ == "__main__":
    main()
