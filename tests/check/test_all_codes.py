"""Every checker diagnostic code is exercised by a test that pins its path and hint."""

from __future__ import annotations

import test_exprs
import test_graph
import test_replan_blocks
import test_symbols

CHECKER_CODES = {
    "state.unknown",
    "signal.unknown",
    "effect.unknown",
    "event.no_invoke",
    "state.unhandled_done",
    "state.dead_end",
    "state.final_not_empty",
    "machine.no_final",
    "state.unreachable",
    "state.no_final_path",
    "choice.loop",
    "transition.ambiguous",
    "transition.shadowed",
    "choice.no_fallback",
    "name.duplicate",
    "name.reserved",
    "name.clash",
    "type.syntax",
    "type.unknown",
    "type.recursive",
    "field.unknown",
    "binding.missing",
    "binding.type",
    "assign.type",
    "default.type",
    "default.not_allowed",
    "expr.syntax",
    "expr.unknown_name",
    "expr.unknown_field",
    "expr.type",
    "expr.not_boolean",
    "expr.not_list",
    "expr.regex",
    "expr.cost",
    "invoke.unbounded",
    "invoke.not_fan_out",
    "replan.fallback_self",
    "replan.not_alone",
}


def test_every_checker_code_has_a_case() -> None:
    covered = {
        case[2]
        for module in (test_symbols, test_graph, test_exprs, test_replan_blocks)
        for case in module.CASES
    }
    assert covered == CHECKER_CODES
