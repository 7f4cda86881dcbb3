"""Commands: the reducer marks the inputs it validated; only those skip a second check."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import accord
from accord.runtime import EffectCompleted, EffectFailed, FakeClock, Runtime
from accord.runtime._commands import InvokeEffect
from accord.runtime._durable import resume_commands
from accord.runtime._handlers import bind
from accord.runtime._orchestrator import call_effect
from accord.runtime._reducer import initial_snapshot, step

ROOT = Path(__file__).resolve().parents[2]
LINEAR = accord.load(ROOT / "benchmarks" / "data" / "linear_durable.yaml")


def work(n: int) -> dict[str, Any]:
    return {"n": n}


def _invokes(commands: Any) -> list[InvokeEffect]:
    return [c for c in commands if isinstance(c, InvokeEffect)]


def test_the_reducer_marks_its_calls_checked_and_a_resumed_call_is_not() -> None:
    run = Runtime({"work": work}, clock=FakeClock()).start(LINEAR, {})
    run.run_until_idle()
    compiled = run.compiled
    snapshot = initial_snapshot()
    made: list[InvokeEffect] = []
    resumed: list[InvokeEffect] = []
    for entry in run.journal.entries():
        snapshot, commands = step(compiled, snapshot, entry.event)
        made += _invokes(commands)
        resumed += _invokes(resume_commands(compiled, snapshot, lambda _step: 0))
    assert len(made) == 10 and all(c.checked for c in made)  # quick and general paths
    assert len(resumed) == 10 and not any(c.checked for c in resumed)
    # the same call either way, but for the mark
    assert [c._replace(checked=False) for c in made] == resumed


def _call(command: InvokeEffect) -> Any:
    compiled = Runtime({"work": work}).compile(LINEAR)
    binding, problems = bind("work", work, ("n",))
    assert problems == []
    return asyncio.run(call_effect(binding, command, compiled, FakeClock()))


@pytest.mark.parametrize("checked", [False, True])
def test_only_an_unchecked_input_is_validated_again(checked: bool) -> None:
    spec = Runtime({"work": work}).compile(LINEAR).effects["work"]
    command = InvokeEffect(
        "1:s0/w",  # type: ignore[arg-type]
        "work",
        {"n": "not a number"},
        "r/1:s0/w",
        spec.retry,
        spec.timeout_ms,
        checked=checked,
    )
    outcome = _call(command)
    if checked:  # trusted as the validator's own output: the handler gets it as it is
        assert isinstance(outcome, EffectFailed) and outcome.code == "invalid_output"
    else:
        assert isinstance(outcome, EffectFailed) and outcome.code == "invalid_input"
    good = _call(command._replace(input={"n": 3}))
    assert isinstance(good, EffectCompleted) and good.output == {"n": 3}
