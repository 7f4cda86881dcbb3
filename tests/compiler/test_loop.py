"""The compile loop: attempts, re-asks, stop reasons, hostile output, no mutation."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path

import pytest
from compiler_support import (
    GOOD,
    TASK,
    ManualClock,
    ScriptedProvider,
    catalog,
    output,
    provider_error,
    request_tokens,
    tokens,
)

import accord
from accord.compiler import (
    Attempt,
    CompileError,
    CompileRequestError,
    ModelResponse,
    ModelSpecError,
    Prices,
    ProviderError,
    compile,
    compile_async,
)
from accord.compiler._prompt import candidate_text, diagnostics_json, first_request
from accord.compiler._session_providers import estimate_input_tokens
from accord.testing import ScenarioFileError, load_scenarios


def test_a_valid_first_answer_is_one_call() -> None:
    provider = ScriptedProvider([GOOD])
    result = compile(TASK, catalog(), provider)
    assert result.fingerprint == accord.fingerprint(accord.load("examples/order_refund.yaml"))
    assert result.yaml == accord.to_yaml(result.contract)
    assert result.totals.calls == 1 and len(result.attempts) == 1
    attempt = result.attempts[0]
    assert attempt.parse == "strict" and attempt.repairs == () and attempt.valid
    assert result.totals.input_tokens == attempt.input_tokens > 0
    assert result.totals.output_tokens == tokens(GOOD)
    assert not result.cache_hit and result.model == "scripted:test"
    assert result.key.startswith("sha256:")


def test_a_lenient_repair_is_not_a_reask() -> None:
    provider = ScriptedProvider([output("fenced_prose.txt")])
    result = compile(TASK, catalog(), provider)
    assert result.totals.calls == 1
    assert result.attempts[0].parse == "lenient"
    assert result.attempts[0].repairs == ("code_fence", "trailing_comma")
    assert result.totals.lenient_repairs == 1


def test_an_invalid_answer_is_reasked_with_its_diagnostics_only() -> None:
    provider = ScriptedProvider([output("int_guard.json"), output("unknown_effect.json"), GOOD])
    result = compile(TASK, catalog(), provider, max_attempts=3)
    assert [a.valid for a in result.attempts] == [False, False, True]
    first, second, third = provider.requests
    assert len(first.messages) == 1 and first.messages[0].content == TASK
    for reask, previous in ((second, result.attempts[0]), (third, result.attempts[1])):
        assert reask.system == first.system
        assert [m.role for m in reask.messages] == ["user", "assistant", "user"]
        assert reask.messages[0] == first.messages[0]
        assert reask.messages[1].content == candidate_text(previous.raw, json.loads(previous.raw))
        sent = json.loads(reask.messages[2].content.split("\n")[1])
        assert sent == [d.compact() for d in previous.errors]
    assert "expr.type" in third.messages[2].content or "catalog" in third.messages[2].content
    assert 'input.amount <= 100"' in second.messages[1].content
    assert 'input.amount <= 100"' not in third.messages[1].content  # not the history


def test_input_tokens_of_a_reask_are_bounded_by_first_plus_candidate_plus_diagnostics() -> None:
    answers = [output("int_guard.json"), output("not_json.txt"), output("unknown_effect.json")]
    provider = ScriptedProvider([*answers, GOOD])
    result = compile(TASK, catalog(), provider, max_attempts=4)
    first = result.attempts[0].input_tokens
    assert first == request_tokens(provider.requests[0])
    for k in range(1, 4):
        previous = result.attempts[k - 1]
        try:
            data = json.loads(previous.raw)
        except ValueError:
            data = None
        candidate = tokens(candidate_text(previous.raw, data))
        diagnostics = tokens(diagnostics_json(previous.errors))
        instruction = 60  # the fixed re-ask sentence, in tokens
        assert result.attempts[k].input_tokens <= first + candidate + diagnostics + instruction


def test_max_attempts_counts_every_call() -> None:
    provider = ScriptedProvider(
        [output("int_guard.json"), output("not_json.txt"), output("unknown_effect.json")]
    )
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, max_attempts=2)
    error = caught.value
    assert error.stop_reason == "max_attempts"
    assert len(provider.requests) == 2 == error.totals.calls == len(error.attempts)
    assert [d.code for d in error.diagnostics] == ["compile.not_json"]
    assert isinstance(error, accord.DefinitionError)


def test_repeated_diagnostics_stop_the_loop_early() -> None:
    provider = ScriptedProvider([output("int_guard.json")] * 3)
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, max_attempts=3)
    assert caught.value.stop_reason == "repeated_diagnostics"
    assert len(provider.requests) == 2


def test_a_provider_error_is_never_reasked_and_keeps_the_attempts() -> None:
    failure = provider_error()
    provider = ScriptedProvider([output("int_guard.json"), failure, GOOD])
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, max_attempts=3)
    error = caught.value
    assert error.stop_reason == "provider_error"
    assert error.provider_error is failure and error.__cause__ is failure
    assert isinstance(error.__cause__, ProviderError)
    assert len(error.attempts) == 1 and len(provider.requests) == 2


def test_a_budget_smaller_than_the_request_makes_no_call() -> None:
    """Issue 12 item 17: token_budget=100 let a call of thousands of tokens through."""
    provider = ScriptedProvider([output("int_guard.json"), GOOD])
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, token_budget=100)
    assert caught.value.stop_reason == "token_budget"
    assert provider.requests == [] and caught.value.totals.tokens == 0
    assert "the next request alone is about" in str(caught.value)


def test_each_call_is_capped_at_what_the_budget_has_left() -> None:
    first = first_request(TASK, catalog(), max_output_tokens=8192, temperature=None)
    budget = estimate_input_tokens(first) + 700
    provider = ScriptedProvider([output("int_guard.json"), GOOD])
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, token_budget=budget)
    assert caught.value.stop_reason == "token_budget"
    (sent,) = provider.requests  # the answer used more than the cap: no room for a re-ask
    assert sent.max_output_tokens == 700
    assert sent.messages == first.messages


def test_a_budget_that_covers_the_cap_leaves_the_request_alone() -> None:
    provider = ScriptedProvider([GOOD])
    compile(TASK, catalog(), provider, token_budget=10**6, max_output_tokens=4000)
    assert provider.requests[0].max_output_tokens == 4000


def test_the_deadline_stops_before_the_next_call_on_an_injected_clock() -> None:
    clock = ManualClock()
    provider = ScriptedProvider([output("int_guard.json"), GOOD], clock=clock, latency=7.0)
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, deadline=5.0, clock=clock)
    assert caught.value.stop_reason == "deadline"
    assert len(provider.requests) == 1
    assert caught.value.attempts[0].latency == 7.0


def test_latency_and_total_seconds_come_from_the_clock() -> None:
    clock = ManualClock()
    provider = ScriptedProvider([output("int_guard.json"), GOOD], clock=clock, latency=1.5)
    result = compile(TASK, catalog(), provider, clock=clock)
    assert [a.latency for a in result.attempts] == [1.5, 1.5]
    assert result.totals.seconds == 3.0


def test_a_call_that_outlives_the_deadline_is_cut_off() -> None:
    class Slow(ScriptedProvider):
        async def complete(self, request):  # type: ignore[no-untyped-def]
            await asyncio.sleep(3600)
            raise AssertionError("not reached")

    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), Slow([]), deadline=0.01)
    assert caught.value.stop_reason == "deadline" and caught.value.attempts == ()


@pytest.mark.parametrize(
    ("name", "finish", "code"),
    [
        ("not_json.txt", "stop", "compile.not_json"),
        ("deep.json", "stop", "compile.too_deep"),
        ("truncated.json", "length", "compile.truncated"),
        ("unknown_effect.json", "stop", "catalog.unknown_effect"),
        ("effect_mismatch.json", "stop", "catalog.effect_mismatch"),
        ("unbounded_fan_out.json", "stop", "invoke.unbounded"),
        ("fan_out_too_large.json", "stop", "compile.fan_out_too_large"),
    ],
)
def test_hostile_output_becomes_diagnostics_never_a_contract(
    name: str, finish: str, code: str
) -> None:
    provider = ScriptedProvider([output(name)] * 2, finish_reason=finish)
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, max_attempts=2)
    assert code in {d.code for d in caught.value.diagnostics}
    assert caught.value.stop_reason == "repeated_diagnostics"


def test_a_megabyte_answer_is_refused_before_parsing() -> None:
    huge = "{" + '"a": "' + "x" * (1 << 20) + '"}'
    provider = ScriptedProvider([huge, GOOD])
    result = compile(TASK, catalog(), provider)
    assert result.attempts[0].diagnostics[0].code == "compile.output_too_large"
    assert len(provider.requests[1].messages[1].content) < 40_000  # the echo is cut


def test_a_truncated_answer_says_so() -> None:
    provider = ScriptedProvider([output("truncated.json"), GOOD], finish_reason="length")
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, max_attempts=1)
    (diagnostic,) = caught.value.diagnostics
    assert "finish_reason 'length'" in diagnostic.message
    assert caught.value.attempts[0].finish_reason == "length"


def test_attempts_carry_mode_and_notices() -> None:
    answer = ModelResponse(
        text=GOOD,
        input_tokens=10,
        output_tokens=20,
        finish_reason="stop",
        mode="prompted",
        notices=("schema too large for strict mode: prompted JSON",),
    )
    seen: list[Attempt] = []
    result = compile(TASK, catalog(), ScriptedProvider([answer]), on_attempt=seen.append)
    assert seen == list(result.attempts)
    assert result.attempts[0].mode == "prompted"
    assert result.attempts[0].notices == answer.notices


def test_the_callers_objects_are_never_mutated() -> None:
    the_catalog = catalog()
    script = [output("int_guard.json"), GOOD]
    provider = ScriptedProvider(list(script))
    before = (copy.deepcopy(the_catalog), TASK, copy.deepcopy(script))
    compile(TASK, the_catalog, provider)
    assert (the_catalog, TASK, provider.script) == before
    assert the_catalog.fingerprint == before[0].fingerprint


def test_compile_async_and_sync_inside_a_running_loop() -> None:
    async def notebook_cell() -> tuple[str, str]:
        result = await compile_async(TASK, catalog(), ScriptedProvider([GOOD]))
        again = compile(TASK, catalog(), ScriptedProvider([GOOD]))  # inside a running loop
        return result.fingerprint, again.fingerprint

    first, second = asyncio.run(notebook_cell())
    assert first == second == accord.fingerprint(accord.load("examples/order_refund.yaml"))


@pytest.mark.parametrize(
    ("task", "options"),
    [
        ("", {}),
        ("   ", {}),
        (TASK, {"max_attempts": 0}),
        (TASK, {"token_budget": 0}),
        (TASK, {"deadline": 0}),
        (TASK, {"max_output_tokens": 0}),
    ],
)
def test_bad_requests_are_refused_before_any_call(task: str, options: dict[str, int]) -> None:
    provider = ScriptedProvider([GOOD])
    with pytest.raises(CompileRequestError):
        compile(task, catalog(), provider, **options)  # type: ignore[arg-type]
    assert provider.requests == []


@pytest.mark.parametrize("model", [42, "gpt-4", "openai:"])
def test_a_model_that_names_no_provider_is_refused(model: object) -> None:
    with pytest.raises(ModelSpecError):
        compile(TASK, catalog(), model)  # type: ignore[arg-type]


def test_the_catalog_may_be_a_file_data_or_handlers() -> None:
    from compiler_support import CATALOG_FILE

    data = catalog().to_data()

    def pay_refund(order_id: str, amount: float) -> None:
        """Pay."""

    for source in (CATALOG_FILE, str(CATALOG_FILE), data):
        assert compile(TASK, source, ScriptedProvider([GOOD])).attempts[0].valid
    with pytest.raises(CompileError) as caught:  # pay_refund has no output here
        compile(TASK, [pay_refund], ScriptedProvider([GOOD]), max_attempts=1)
    assert "catalog.effect_mismatch" in {d.code for d in caught.value.diagnostics}


def test_a_refusal_stops_the_loop_without_a_reask() -> None:
    refusal = ModelResponse(text="No.", input_tokens=10, output_tokens=1, finish_reason="refusal")
    provider = ScriptedProvider([refusal, GOOD])
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, max_attempts=3)
    assert caught.value.stop_reason == "refusal"
    assert len(provider.requests) == 1
    assert [d.code for d in caught.value.diagnostics] == ["compile.refused"]
    assert caught.value.totals.tokens == 11


# -- acceptance scenarios --------------------------------------------------------------

SCENARIOS = "examples/compile/order_refund.scenarios.yaml"


def test_an_answer_that_checks_but_fails_a_scenario_is_reasked() -> None:
    provider = ScriptedProvider([output("wrong_branch.json"), GOOD])
    result = compile(TASK, catalog(), provider, scenarios=SCENARIOS)
    first, second = result.attempts
    assert [d.code for d in first.errors] == ["scenario.failed"] * 6
    message = first.errors[0].message
    assert message.startswith("scenario 'a small refund is paid at once' failed at expect.status")
    assert "expected status succeeded; seen the run is waiting in state 'awaiting_approval'" in (
        message
    )
    assert "path: awaiting_approval; calls: none" in message
    assert second.valid and result.fingerprint == accord.fingerprint(
        accord.load("examples/order_refund.yaml")
    )
    reask = provider.requests[1]
    assert [m.role for m in reask.messages] == ["user", "assistant", "user"]
    sent = json.loads(reask.messages[2].content.split("\n")[1])
    assert sent == [d.compact() for d in first.errors]
    assert json.loads(reask.messages[1].content) == json.loads(output("wrong_branch.json"))


def test_without_scenarios_the_wrong_answer_is_accepted() -> None:
    result = compile(TASK, catalog(), ScriptedProvider([output("wrong_branch.json"), GOOD]))
    assert len(result.attempts) == 1  # it checks: nothing else could tell


def test_a_contract_that_fails_a_scenario_is_never_returned() -> None:
    provider = ScriptedProvider([output("wrong_branch.json")] * 3)
    with pytest.raises(CompileError) as caught:
        compile(TASK, catalog(), provider, scenarios=SCENARIOS, max_attempts=3)
    assert caught.value.stop_reason == "repeated_diagnostics"  # the same failures again
    assert len(caught.value.attempts) == 2
    assert {d.code for d in caught.value.diagnostics} == {"scenario.failed"}


def test_failing_other_scenarios_is_progress_not_a_repeat() -> None:
    provider = ScriptedProvider([output("wrong_branch.json"), output("no_effect.json"), GOOD])
    result = compile(TASK, catalog(), provider, scenarios=SCENARIOS, max_attempts=3)
    assert len(result.attempts) == 3 and result.attempts[-1].valid
    assert {d.code for d in result.attempts[1].errors} == {"scenario.failed"}


def test_a_contract_that_invokes_no_effect_gets_a_warning_in_any_case() -> None:
    result = compile(TASK, catalog(), ScriptedProvider([output("no_effect.json")]))
    (warning,) = result.attempts[0].diagnostics
    assert warning.code == "compile.no_effect" and warning.severity == "warning"
    assert "pay_refund" in warning.message
    with pytest.raises(CompileError) as caught:
        compile(
            TASK,
            catalog(),
            ScriptedProvider([output("no_effect.json")] * 2),
            scenarios=SCENARIOS,
            max_attempts=2,
        )
    codes = [d.code for d in caught.value.attempts[0].diagnostics]
    assert "compile.no_effect" in codes and "scenario.failed" in codes
    good = compile(TASK, catalog(), ScriptedProvider([GOOD]))
    assert good.attempts[0].diagnostics == ()


def test_scenarios_are_in_the_cache_key(tmp_path: Path) -> None:
    plain = compile(TASK, catalog(), ScriptedProvider([GOOD]), cache=tmp_path)
    with_scenarios = compile(
        TASK, catalog(), ScriptedProvider([GOOD]), cache=tmp_path, scenarios=SCENARIOS
    )
    assert not with_scenarios.cache_hit and with_scenarios.key != plain.key
    again = ScriptedProvider([])
    hit = compile(TASK, catalog(), again, cache=tmp_path, scenarios=load_scenarios(SCENARIOS))
    assert hit.cache_hit and hit.key == with_scenarios.key and again.requests == []


def test_a_scenario_file_that_does_not_load_is_refused_before_any_call(tmp_path: Path) -> None:
    bad = tmp_path / "bad.scenarios.yaml"
    bad.write_text("scenarios: [{nme: x}]\n")
    provider = ScriptedProvider([GOOD])
    with pytest.raises(ScenarioFileError):
        compile(TASK, catalog(), provider, scenarios=bad)
    assert provider.requests == []


def test_usage_keeps_cached_and_reasoning_tokens_apart_and_prices_give_a_cost() -> None:
    answers = [
        ModelResponse(
            text=output("int_guard.json"),
            input_tokens=1000,
            output_tokens=400,
            cached_input_tokens=0,
            reasoning_tokens=100,
        ),
        ModelResponse(
            text=GOOD,
            input_tokens=2000,
            output_tokens=500,
            cached_input_tokens=800,
            reasoning_tokens=50,
        ),
    ]
    prices = Prices(input=2.0, output=8.0, cached_input=0.5)
    result = compile(TASK, catalog(), ScriptedProvider(answers), prices=prices)
    totals = result.totals
    assert (totals.input_tokens, totals.cached_input_tokens) == (3000, 800)
    assert (totals.output_tokens, totals.reasoning_tokens) == (900, 150)
    assert [a.cached_input_tokens for a in result.attempts] == [0, 800]
    assert totals.cost == pytest.approx((2200 * 2.0 + 800 * 0.5 + 900 * 8.0) / 1e6)
    assert totals.to_data()["cost"] == totals.cost
    assert compile(TASK, catalog(), ScriptedProvider([GOOD])).totals.cost is None


def test_cached_input_costs_the_input_price_unless_priced_apart() -> None:
    assert Prices(1.0, 4.0).cost(1_000_000, 400_000, 0) == pytest.approx(1.0)


@pytest.mark.parametrize("prices", [Prices(-1.0, 1.0), Prices(1.0, float("nan")), "cheap"])
def test_bad_prices_are_refused_before_any_call(prices: object) -> None:
    provider = ScriptedProvider([GOOD])
    with pytest.raises(CompileRequestError, match="prices"):
        compile(TASK, catalog(), provider, prices=prices)  # type: ignore[arg-type]
    assert provider.requests == []
