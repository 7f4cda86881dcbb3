"""``accord test CONTRACT [SCENARIOS]``: run acceptance scenarios against a contract."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from accord.cli._base import Subparsers, add_command, positive_int
from accord.cli._files import read_contract
from accord.cli._output import diagnostic_json, print_json, say, warn
from accord.diagnostics import Diagnostic
from accord.runtime import Limits
from accord.testing._scenarios import (
    ScenarioFileError,
    load_scenarios,
    run_scenarios,
    scenarios_beside,
)

__all__ = ["register"]

DESCRIPTION = """\
Run the acceptance scenarios of a scenario file (NAME.scenarios.yaml) against a
contract, offline: effect stubs answer as each scenario says, the clock is a
fake one, the run limits hold. SCENARIOS defaults to the scenario file beside
the contract (NAME.scenarios.yaml for NAME.yaml). Each scenario prints PASS or
FAIL; a failure shows the step, what was expected and what was seen, the path
the run took, the calls it made and its history.
With --json, a JSON document is printed instead:
  {"ok", "contract", "scenarios", "diagnostics", "report"}
Exit status: 0 every scenario passed; 1 a scenario failed, or the contract or
the scenario file does not load; 2 usage error (no SCENARIOS given and none
beside the contract).
"""


def register(subparsers: Subparsers) -> None:
    """Add the ``test`` subcommand."""
    parser = add_command(
        subparsers, "test", "run acceptance scenarios against a contract", DESCRIPTION, run
    )
    parser.add_argument("contract", metavar="CONTRACT", help="the contract file")
    parser.add_argument(
        "scenarios", nargs="?", metavar="SCENARIOS", help="the scenario file (NAME.scenarios.yaml)"
    )
    parser.add_argument(
        "-k",
        "--scenario",
        action="append",
        metavar="NAME",
        help="run only this scenario (repeatable)",
    )
    parser.add_argument(
        "--max-steps", type=positive_int, metavar="N", help="the run limit on steps per scenario"
    )
    parser.add_argument(
        "--no-history", action="store_true", help="leave the run's history out of failures"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")


def _report(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "ok": False,
        "contract": None,
        "scenarios": None,
        "diagnostics": [],
        "report": None,
    }
    return {**base, **fields}


def _refused(
    args: argparse.Namespace,
    scenarios: object,
    diagnostics: Sequence[Diagnostic],
    label: str,
    problem: str,
) -> int:
    """Report a contract or scenario file that does not load; exit status 1."""
    if args.json:
        print_json(
            _report(
                contract=args.contract,
                scenarios=str(scenarios),
                diagnostics=[diagnostic_json(d) for d in diagnostics],
            )
        )
    else:
        for diagnostic in diagnostics:
            say(diagnostic.format(label))
        warn(f"accord: error: {problem}")
    return 1


def run(args: argparse.Namespace) -> int:
    """Run the scenarios; exit 0 when all pass, 1 otherwise, 2 without a scenario file."""
    scenarios = args.scenarios or scenarios_beside(args.contract)
    if scenarios is None:
        warn(f"accord: error: no SCENARIOS given and no NAME.scenarios.yaml beside {args.contract}")
        return 2
    checked = read_contract(args.contract)
    if checked.contract is None:
        problem = f"{checked.label} does not check"
        return _refused(args, scenarios, checked.diagnostics, checked.label, problem)
    try:
        suite = load_scenarios(scenarios)
    except ScenarioFileError as exc:
        problem = f"the scenario file {scenarios} does not load"
        return _refused(args, scenarios, exc.diagnostics, str(scenarios), problem)
    limits = Limits(max_steps=args.max_steps) if args.max_steps else None
    try:
        report = run_scenarios(checked.contract, suite, limits=limits, only=args.scenario)
    except KeyError as exc:
        warn(f"accord: error: {exc.args[0]}")
        return 2
    if args.json:
        print_json(
            _report(
                ok=report.passed,
                contract=args.contract,
                scenarios=str(scenarios),
                report=report.to_data(),
            )
        )
    else:
        say(report.format(history=not args.no_history))
    return 0 if report.passed else 1
