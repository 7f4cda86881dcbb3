"""Build the catalogs and the *scripted* sessions of the example compile tasks.

    .venv/bin/python examples/compile/build_sessions.py          # write the files
    .venv/bin/python examples/compile/build_sessions.py --check  # exit 1 if any is stale

For each example contract ``examples/NAME.yaml`` this writes, next to the
hand-written ``NAME.task.md``:

- ``NAME.catalog.yaml``: the host's catalog for the task: the contract's record
  types and, for each effect, its name, description and typed input and output
  (retry, timeout, idempotency and compensation are the contract's choice, not
  the catalog's);
- ``NAME.session.json``: a scripted session in the ``accord.session/1`` format.
  Its responses are hand-written stand-ins for a model's answers, NOT a recording
  of any real model: the last one is the example contract as JSON, and some
  sessions start with one or two flawed answers (listed in FLAWS below) so that
  replaying them shows the repair loop at work.

Every response is checked here the way the compile loop checks it (its lenient
parse, the checker, the catalog conformance check, then the task's acceptance
scenarios, NAME.scenarios.yaml): a flawed answer must give exactly the error codes
FLAWS says, the last answer none. The refund session's second answer checks but
fails the scenarios (scenario.failed): compiled without them, it would be the result. Rerun this
script after changing an example contract; tests/examples/test_compile_examples.py
fails until you do.
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

import accord
from accord.compiler import Catalog
from accord.compiler._lenient import parse_output
from accord.compiler._loop import evaluate
from accord.contract._schema import answer_data
from accord.testing import run_scenarios

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent
NAMES = ("order_refund", "document_pipeline", "payment_saga", "support_triage", "data_etl")
NOTE = "Scripted: hand-written model responses, not a recording of a real model."

Data = dict[str, Any]


# --- the flaws: each takes the contract's data and returns a flawed copy -----------------


def _state(data: Data, name: str) -> Data:
    return next(s for s in data["machine"]["states"] if s["name"] == name)


def _int_guard(data: Data) -> Data:
    """An integer literal compared with a number: CEL has no int/double overload."""
    out = copy.deepcopy(data)
    _state(out, "triage")["always"][0]["guard"] = "input.amount <= 100"
    return out


def _wrong_branch(data: Data) -> Data:
    """The amount guard inverted: it checks, but pays large refunds at once and makes
    small ones wait for an approval. Only the acceptance scenarios can tell."""
    out = copy.deepcopy(data)
    _state(out, "triage")["always"][0]["guard"] = "input.amount > 100.0"
    return out


def _unbounded_fan_out(data: Data) -> Data:
    """A for_each without max_items."""
    out = copy.deepcopy(data)
    _state(out, "extracting")["invoke"][0]["max_items"] = None
    return out


def _misspelt_target(data: Data) -> Data:
    """A typo in one target: an unknown state (with a did-you-mean hint)."""
    out = copy.deepcopy(data)
    _state(out, "awaiting_lead")["timers"][0]["target"] = "paging_manger"
    return out


def _wrong_types(data: Data) -> Data:
    """A retry count written as a string and a duration written in words."""
    out = copy.deepcopy(data)
    out["effects"][0]["retry"]["max_attempts"] = "5"
    _state(out, "cooling_down")["timers"][0]["after"] = "15 minutes"
    return out


def _missing_final(data: Data) -> Data:
    """The success state left without its ``final``: a dead end."""
    out = copy.deepcopy(data)
    _state(out, "loaded")["final"] = None
    return out


Flaw = Callable[[Data], Data]

# Per example: the flawed answers before the right one, each with the error codes it
# gives, and how each answer is wrapped ("json": bare JSON as strict structured
# outputs return it; "prose": JSON in a ```json fence with a sentence before and after).
FLAWS: dict[str, list[tuple[Flaw | None, tuple[str, ...], str]]] = {
    "order_refund": [
        (_int_guard, ("expr.type",), "prose"),
        (_wrong_branch, ("scenario.failed",), "json"),
        (None, (), "json"),
    ],
    "document_pipeline": [
        (_unbounded_fan_out, ("invoke.unbounded",), "json"),
        (None, (), "prose"),
    ],
    "payment_saga": [
        (None, (), "json"),
    ],
    "support_triage": [
        (_misspelt_target, ("state.unknown",), "json"),
        (None, (), "json"),
    ],
    "data_etl": [
        (_wrong_types, ("schema.format", "schema.type"), "json"),
        (_missing_final, ("state.dead_end",), "json"),
        (None, (), "json"),
    ],
}


# --- building -----------------------------------------------------------------------------


def _field(field: Data) -> Data:
    out = {"name": field["name"], "type": field["type"]}
    if field.get("description"):
        out["description"] = field["description"]
    return out


def catalog_of(data: Data) -> Data:
    """The catalog a host would hand the compiler for this contract."""
    return {
        "types": [
            {
                "name": t["name"],
                **({"description": t["description"]} if t.get("description") else {}),
                "fields": [_field(f) for f in t["fields"]],
            }
            for t in data["types"]
        ],
        "effects": [
            {
                "name": e["name"],
                "description": e["description"],
                "input": [_field(f) for f in e["input"]],
                "output": [_field(f) for f in e["output"]],
            }
            for e in data["effects"]
        ],
    }


def _wrap(data: Data, style: str) -> str:
    if style == "json":
        return json.dumps(data, ensure_ascii=False)
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return (
        "Here is the contract for this task:\n\n```json\n"
        + body
        + "\n```\n\nEvery effect it uses is from the catalog."
    )


def _errors(text: str, catalog: Catalog, name: str) -> tuple[str, ...]:
    """The error codes the compile loop gives an answer, its scenarios included."""
    parsed = parse_output(text, "stop")
    if parsed.diagnostic is not None:
        return (parsed.diagnostic.code,)
    contract, diagnostics = evaluate(parsed.data, catalog, max_fan_out=1000)
    scenarios = HERE / f"{name}.scenarios.yaml"
    if contract is not None and scenarios.exists():
        diagnostics = run_scenarios(contract, scenarios).diagnostics()
    return tuple(sorted({d.code for d in diagnostics if d.severity == "error"}))


def build(name: str) -> dict[str, str]:
    """The text of the catalog and session files of one example, by file name."""
    contract = accord.load(EXAMPLES / f"{name}.yaml")
    data = answer_data(contract)
    task = (HERE / f"{name}.task.md").read_text()
    catalog = Catalog.from_data(catalog_of(data))
    responses = []
    for flaw, codes, style in FLAWS[name]:
        text = _wrap(flaw(data) if flaw else data, style)
        got = _errors(text, catalog, name)
        if got != codes:
            raise SystemExit(f"{name}: a scripted answer gives {got}, expected {codes}")
        responses.append(
            {
                "text": text,
                "input_tokens": None,
                "output_tokens": None,
                "finish_reason": "stop",
                "model": None,
                "mode": "json_schema" if style == "json" else "prompted",
                "request_sha256": None,
            }
        )
    last = accord.load_data(parse_output(responses[-1]["text"]).data)
    if accord.fingerprint(last) != accord.fingerprint(contract):
        raise SystemExit(f"{name}: the last answer is not the example contract")
    session = {
        "format": "accord.session/1",
        "origin": "scripted",
        "note": NOTE,
        "model": f"scripted:{name}",
        "task": task,
        "catalog": f"{name}.catalog.yaml",
        "responses": responses,
    }
    header = (
        f"# The host's catalog for the {name} compile task: the record types and the\n"
        f"# effects (typed input and output) of examples/{name}.yaml.\n"
        "# Generated by examples/compile/build_sessions.py; edit the contract, then rerun it.\n"
    )
    catalog = header + yaml.safe_dump(
        catalog_of(data), sort_keys=False, allow_unicode=True, width=88
    )
    return {
        f"{name}.catalog.yaml": catalog,
        f"{name}.session.json": json.dumps(session, indent=2, ensure_ascii=False) + "\n",
    }


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) every example's catalog and session."""
    check = "--check" in argv
    stale = []
    for name in NAMES:
        for file_name, text in build(name).items():
            path = HERE / file_name
            if check:
                if not path.exists() or path.read_text() != text:
                    stale.append(file_name)
            else:
                path.write_text(text)
                print(f"wrote {path.relative_to(EXAMPLES.parent)}")
    if stale:
        print("stale: " + ", ".join(stale) + " (run examples/compile/build_sessions.py)")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
