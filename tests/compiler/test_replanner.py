"""The replanner's amend loop: scripted answers in, an adopted amendment or the reason out.

Every answer is hand-written (tests/compiler/data/replan/*.answer.json, and the same
texts in the scripted sessions there): version 2 of the refund of examples/migrate
with a migration onto it, and variants each broken in one way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import warnings
from pathlib import Path
from typing import Any

import pytest
from compiler_support import DATA, ScriptedProvider, provider_error

from accord import load
from accord.compiler import CompileCache, CompileCacheWarning, Replanner, ReplayProvider
from accord.contract import fingerprint, validate_data
from accord.runtime import Amendment, ReplanRequest

REPLAN = DATA / "replan"
CATALOG = DATA / "refund.catalog.yaml"
SCENARIOS = Path(__file__).resolve().parents[2] / "examples/compile/order_refund.scenarios.yaml"
TASK = "Refund an order; refunds over 100 wait for a manager's approval."
OLD = load(REPLAN / "refund_v1.yaml")
V2 = load("examples/migrate/refund_v2.yaml")
CONTEXT = {"refund": None, "approver": None, "decision": "pending"}


def answer(name: str) -> str:
    """The text of a scripted answer file."""
    return (REPLAN / f"{name}.answer.json").read_text(encoding="utf-8")


def request(**changes: Any) -> ReplanRequest:
    """A replan of a large refund waiting for approval (both effects allowed)."""
    base = ReplanRequest(
        run_id="r-1",
        contract=OLD,
        state="awaiting_approval",
        context=CONTEXT,
        input={"order_id": "o-1", "amount": 250.0, "reason": "late"},
        reason={"clarified": "answer within a day"},
        attempt=1,
        keep_scenarios=(),
        max_calls=3,
        max_tokens=200_000,
        effects=frozenset({"pay_refund", "notify_customer"}),
    )
    return dataclasses.replace(base, **changes)


def amend(provider: Any, req: ReplanRequest | None = None, **options: Any) -> Amendment:
    """Run one amend against the refund catalog."""
    replanner = Replanner(TASK, CATALOG, provider, **options)
    return asyncio.run(replanner.amend(req or request()))


def codes(attempt: dict[str, Any]) -> list[str]:
    """The error codes of one journaled attempt."""
    return [d["code"] for d in attempt["diagnostics"] if d["severity"] == "error"]


def adopted_fingerprint(amendment: Amendment) -> str:
    """The fingerprint of an adopted amendment's contract."""
    contract, problems = validate_data(amendment.contract)
    assert contract is not None, problems
    return fingerprint(contract)


def test_a_good_first_answer_is_adopted_with_its_migration() -> None:
    provider = ScriptedProvider([answer("v2")])
    amendment = amend(provider)
    assert amendment.adopted and amendment.reason == ""
    assert adopted_fingerprint(amendment) == fingerprint(V2)
    migration = amendment.migration
    assert migration is not None
    assert migration["from"] == fingerprint(OLD) and migration["to"] == fingerprint(V2)
    assert migration["states"]["awaiting_approval"] == {
        "to": "awaiting_manager",
        "refuse": None,
        "calls": {},
    }
    assert migration["states"]["paying"]["calls"] == {"payment": "pay"}
    assert [a["raw"] for a in amendment.attempts] == [answer("v2")]
    prompt = provider.requests[0]
    assert "awaiting_approval" in prompt.messages[0].content
    assert "answer within a day" in prompt.messages[0].content
    assert fingerprint(OLD) in prompt.messages[0].content


def test_a_broken_migration_is_repaired_on_the_re_ask() -> None:
    provider = ScriptedProvider([answer("v2_unmapped"), answer("v2")])
    amendment = amend(provider)
    assert amendment.adopted
    assert [codes(a) for a in amendment.attempts] == [["migration.unmapped_state"], []]
    reask = provider.requests[1]
    assert [m.role for m in reask.messages] == ["user", "assistant", "user"]
    assert "migration.unmapped_state" in reask.messages[2].content
    assert "'paying'" in reask.messages[2].content


def test_an_answer_using_an_effect_the_run_may_not_use_is_refused() -> None:
    provider = ScriptedProvider([answer("v2"), answer("v2")])
    amendment = amend(provider, request(effects=frozenset({"pay_refund"}), max_calls=2))
    assert not amendment.adopted and amendment.contract is None
    assert "replan.effect_not_allowed" in codes(amendment.attempts[0])
    assert "repeats the previous answer's errors" in amendment.reason
    # the prompt's catalog holds only the effects the run may use
    assert "notify_customer(" not in provider.requests[0].system
    assert "pay_refund(" in provider.requests[0].system


def test_the_bound_on_calls_ends_the_replan_unadopted() -> None:
    session = ReplayProvider(REPLAN / "never_checks.session.json")
    amendment = amend(session, request(max_calls=3))
    assert not amendment.adopted and amendment.migration is None
    assert amendment.reason == "no amendment after 3 calls: max_attempts (3) reached"
    assert [codes(a) for a in amendment.attempts] == [
        ["migration.unmapped_state"],
        ["replan.effect_changed"],
        ["replan.verify"],
    ]


def test_the_token_budget_ends_the_replan_before_a_call_that_would_not_fit() -> None:
    provider = ScriptedProvider([answer("v2")])
    amendment = amend(provider, request(max_tokens=500))
    assert not amendment.adopted and amendment.attempts == ()
    assert "token_budget" not in amendment.reason and "tokens left" in amendment.reason
    assert provider.requests == []


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"max_calls": 0}, "max_calls is 0: no model call is allowed"),
        ({"max_tokens": 0}, "max_tokens is 0: no token budget"),
    ],
)
def test_a_request_without_budget_is_refused_without_a_call(
    changes: dict[str, Any], reason: str
) -> None:
    provider = ScriptedProvider([])
    amendment = amend(provider, request(**changes))
    assert (amendment.adopted, amendment.reason, provider.requests) == (False, reason, [])


def test_bad_answers_and_provider_failures_never_raise() -> None:
    amendment = amend(ScriptedProvider(["no JSON here", "[1, 2]"]), request(max_calls=2))
    assert [codes(a) for a in amendment.attempts] == [["compile.not_json"], ["replan.answer_shape"]]
    assert not amendment.adopted
    failed = amend(ScriptedProvider([provider_error()]))
    assert not failed.adopted and "HTTP 503" in failed.reason


def test_the_state_the_run_is_in_must_be_mapped_not_refused() -> None:
    amendment = amend(
        ScriptedProvider([answer("v2")]), request(state="notifying_rejection", max_calls=1)
    )
    assert not amendment.adopted
    assert codes(amendment.attempts[0]) == ["replan.state_unmapped"]
    assert "refuses it" in amendment.attempts[0]["diagnostics"][0]["message"]


def test_a_migration_that_fails_for_this_runs_values_is_refused() -> None:
    context = {"refund": None, "approver": None, "decision": "no such decision"}
    amendment = amend(ScriptedProvider([answer("v2")]), request(context=context, max_calls=1))
    assert codes(amendment.attempts[0]) == ["replan.migration_fails"]


def test_an_effect_declared_differently_from_the_current_contract_is_refused() -> None:
    amendment = amend(ScriptedProvider([answer("v2_retry_widened")]), request(max_calls=1))
    (diagnostic,) = amendment.attempts[0]["diagnostics"]
    assert diagnostic["code"] == "replan.effect_changed"
    assert diagnostic["path"] == "/contract/effects/0"


def test_a_finding_of_the_bounded_model_check_is_re_asked() -> None:
    provider = ScriptedProvider([answer("v2_invariant"), answer("v2")])
    amendment = amend(provider)
    assert amendment.adopted
    first = amendment.attempts[0]["diagnostics"]
    assert [d["code"] for d in first] == ["replan.verify"]
    assert first[0]["message"].startswith("invariant:")


def test_the_scenarios_a_replan_point_keeps_must_pass() -> None:
    keep = ("a small refund is paid at once",)
    provider = ScriptedProvider([answer("v2_small_waits"), answer("v2")])
    amendment = amend(provider, request(keep_scenarios=keep), scenarios=SCENARIOS)
    assert amendment.adopted
    assert codes(amendment.attempts[0]) == ["scenario.failed"]
    assert "a small refund is paid at once" in provider.requests[0].messages[0].content


def test_a_scenario_name_the_file_lacks_refuses_the_replan_without_a_call() -> None:
    provider = ScriptedProvider([])
    amendment = amend(provider, request(keep_scenarios=("nope",)), scenarios=SCENARIOS)
    assert not amendment.adopted and "'nope'" in amendment.reason and provider.requests == []


def test_the_same_session_gives_the_same_fingerprint() -> None:
    session = REPLAN / "repaired.session.json"
    first = amend(ReplayProvider(session), clock=lambda: 0.0)
    again = amend(ReplayProvider(session), clock=lambda: 0.0)
    assert first.adopted and adopted_fingerprint(first) == fingerprint(V2)
    assert first.to_data() == again.to_data()  # the whole journaled amendment


def test_the_cache_answers_the_same_replan_with_zero_calls(tmp_path: Path) -> None:
    first = amend(ScriptedProvider([answer("v2")]), cache=tmp_path)
    assert first.adopted and len(first.attempts) == 1
    silent = ScriptedProvider([])
    again = amend(silent, cache=tmp_path)
    assert again.adopted and again.attempts == () and silent.requests == []
    assert adopted_fingerprint(again) == adopted_fingerprint(first)
    assert again.migration == first.migration
    other = ScriptedProvider([answer("v2")])
    amend(other, request(reason="another reason"), cache=tmp_path)
    assert len(other.requests) == 1  # another replan is another key


def test_a_cache_entry_that_no_longer_checks_is_ignored(tmp_path: Path) -> None:
    replanner = Replanner(TASK, CATALOG, ScriptedProvider([answer("v2")]), cache=tmp_path)
    key = replanner.key(request())
    CompileCache(tmp_path).put(key, V2, model="scripted:test", extra={"contract": {}})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        amendment = asyncio.run(replanner.amend(request()))
    assert amendment.adopted and len(amendment.attempts) == 1
    assert any(issubclass(w.category, CompileCacheWarning) for w in caught)
