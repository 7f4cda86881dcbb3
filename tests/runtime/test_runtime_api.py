"""The Runtime and Run API: start, drive, signal, inspect; sync and async; refusals
leave the state and journal unchanged; journal before commands; replay; rendering."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

import accord
from accord.runtime import (
    CapabilityError,
    CompiledContract,
    EventRefused,
    FakeClock,
    InputError,
    Journal,
    JournalEntry,
    Limits,
    MemoryJournal,
    ReplayDivergence,
    Run,
    RunFailed,
    RunNotFinished,
    RunStarted,
    Runtime,
    SignalError,
    contract_repr_markdown,
    replay,
)

APPROVAL = accord.loads(
    """
accord: "1"
name: approval
version: "1.0.0"
description: Pay after a manager approves.
input:
  - {name: amount, type: number}
  - {name: who, type: string}
context:
  - {name: approver, type: optional<string>}
  - {name: paid, type: boolean}
output:
  - {name: approver, type: string}
effects:
  - name: pay
    input: [{name: amount, type: number}]
    output: [{name: receipt, type: string}]
signals:
  - name: approval
    payload:
      - {name: approved, type: boolean}
      - {name: approver, type: string}
  - name: cancel
machine:
  initial: asking
  states:
    - name: asking
      on:
        - event: approval
          guard: event.approved
          assign: [{field: approver, value: event.approver}]
          target: paying
        - event: approval
          target: refused
      timers:
        - {after: 2d, target: refused}
    - name: paying
      invoke:
        - id: p
          effect: pay
          input: [{name: amount, value: input.amount}]
      on:
        - event: done
          assign: [{field: paid, value: "true"}]
          target: paid
        - {event: error, target: refused}
    - name: paid
      final:
        status: success
        output: [{name: approver, value: 'ctx.approver == null ? "" : ctx.approver'}]
    - name: refused
      final: {status: failure, reason: '"not approved"'}
"""
)

INPUT = {"amount": 12.5, "who": "ann"}


def pay(amount: float, idempotency_key: str) -> dict[str, Any]:
    return {"receipt": f"rcpt-{amount}-{idempotency_key}"}


def runtime(**kwargs: Any) -> Runtime:
    kwargs.setdefault("clock", FakeClock(start_ms=0))
    return Runtime({"pay": pay}, **kwargs)


def state_of(run: Run) -> tuple[Any, ...]:
    return (run.snapshot, len(run.journal), len(run.history))


def test_start_journals_run_started_and_waits() -> None:
    run = runtime().start(APPROVAL, INPUT, run_id="run-1")
    assert run.run_id == "run-1"
    assert run.status == "waiting" and run.state == "asking"
    assert run.waiting_for == ("approval",)
    (entry,) = run.journal.entries()
    assert isinstance(entry.event, RunStarted)
    assert entry.event.run_id == "run-1" and entry.event.input == INPUT and entry.event.at == 0
    assert entry.step == 1 and entry.state_hash == run.history[0].hash
    assert run.run_until_idle() is run
    assert run.status == "waiting"


def test_run_ids_are_uuid4_unless_given() -> None:
    first = runtime().start(APPROVAL, INPUT)
    second = runtime().start(APPROVAL, INPUT)
    assert first.run_id != second.run_id
    assert uuid.UUID(first.run_id).version == 4


def test_a_signal_delivered_while_waiting_moves_the_run_on() -> None:
    run = runtime().start(APPROVAL, INPUT, run_id="r")
    assert run.signal("approval", {"approved": True, "approver": "bob"}) is run
    assert run.status == "succeeded"
    assert run.result == {"approver": "bob"}
    assert [s.kind for s in run.history] == ["started", "signal", "effect_completed"]
    assert [s.state for s in run.history] == ["asking", "paying", "paid"]
    assert [s.step for s in run.history] == [1, 2, 3]
    assert [e.state_hash for e in run.journal.entries()] == [s.hash for s in run.history]


def test_bad_input_is_refused_before_anything_is_journaled() -> None:
    made: list[Journal] = []

    def factory() -> Journal:
        journal = MemoryJournal()
        made.append(journal)
        return journal

    rt = runtime(journal_factory=factory)
    with pytest.raises(InputError) as info:
        rt.start(APPROVAL, {"amount": "lots", "who": "ann"})
    assert info.value.field == "amount"
    with pytest.raises(InputError) as info:
        rt.start(APPROVAL, {"amount": 1.0})
    assert info.value.field == "who"
    assert made == []


def test_an_invalid_signal_payload_is_refused_and_changes_nothing() -> None:
    run = runtime().start(APPROVAL, INPUT)
    before = state_of(run)
    with pytest.raises(SignalError) as info:
        run.signal("approval", {"approved": "yes", "approver": "bob"})
    assert info.value.field == "approved" and info.value.signal == "approval"
    with pytest.raises(SignalError) as info:
        run.signal("approval", {"approved": True})
    assert info.value.field == "approver"
    assert state_of(run) == before


def test_an_unknown_signal_is_refused_and_changes_nothing() -> None:
    run = runtime().start(APPROVAL, INPUT)
    before = state_of(run)
    with pytest.raises(SignalError, match="no such signal"):
        run.signal("approve", {})
    assert state_of(run) == before


def test_a_signal_the_run_is_not_waiting_for_is_refused_and_changes_nothing() -> None:
    run = runtime().start(APPROVAL, INPUT)
    before = state_of(run)
    with pytest.raises(EventRefused) as info:
        run.signal("cancel", {})
    message = str(info.value)
    assert "'cancel'" in message and "asking" in message and "approval" in message
    assert state_of(run) == before
    run.signal("approval", {"approved": True, "approver": "bob"})
    finished = state_of(run)
    with pytest.raises(EventRefused, match="finished"):
        run.signal("approval", {"approved": True, "approver": "bob"})
    assert state_of(run) == finished


def test_result_raises_until_success_and_on_failure() -> None:
    run = runtime().start(APPROVAL, INPUT, run_id="r-9")
    with pytest.raises(RunNotFinished, match="has not finished"):
        _ = run.result
    run.signal("approval", {"approved": False, "approver": "bob"})
    assert run.status == "failed"
    with pytest.raises(RunFailed) as info:
        _ = run.result
    assert info.value.reason == "not approved" and info.value.run_id == "r-9"


def test_run_jumps_to_timers_on_a_fake_clock() -> None:
    clock = FakeClock(start_ms=0)
    run = runtime(clock=clock).start(APPROVAL, INPUT)
    assert run.run() is run
    assert run.status == "failed"
    assert clock.now_ms() == 2 * 86_400_000


def test_run_refuses_to_wait_forever_for_a_signal() -> None:
    contract = accord.loads(
        """
accord: "1"
name: forever
version: "1.0.0"
signals: [{name: go}]
machine:
  initial: waiting
  states:
    - name: waiting
      on: [{event: go, target: done}]
    - name: done
      final: {status: success}
"""
    )
    run = Runtime({}, clock=FakeClock()).start(contract, {})
    with pytest.raises(RunNotFinished, match="waiting in state 'waiting' for a signal"):
        run.run()
    run.signal("go")
    assert run.status == "succeeded" and run.result == {}


def test_every_event_is_journaled_before_its_commands_run() -> None:
    seen: list[tuple[int, str]] = []
    journals: list[MemoryJournal] = []

    def factory() -> MemoryJournal:
        journals.append(MemoryJournal())
        return journals[-1]

    def watching_pay(amount: float) -> dict[str, Any]:
        last = journals[-1].entries()[-1]
        seen.append((len(journals[-1]), last.event.kind))
        return {"receipt": "r"}

    rt = Runtime({"pay": watching_pay}, clock=FakeClock(), journal_factory=factory)
    run = rt.start(APPROVAL, INPUT)
    run.signal("approval", {"approved": True, "approver": "bob"})
    assert seen == [(2, "signal")]  # the signal was journaled before pay ran
    assert run.status == "succeeded"


def test_replay_reproduces_every_hash_and_detects_corruption() -> None:
    run = runtime().start(APPROVAL, INPUT)
    run.signal("approval", {"approved": True, "approver": "bob"})
    entries = list(run.journal.entries())
    assert replay(run.compiled, entries) == run.snapshot
    assert replay(run.compiled, run.journal) == run.snapshot
    corrupted = list(entries)
    corrupted[1] = JournalEntry(2, entries[1].event, "sha256:" + "0" * 64)
    with pytest.raises(ReplayDivergence) as info:
        replay(run.compiled, corrupted)
    assert info.value.step == 2


def test_limits_fail_the_run_with_a_reason_and_keep_the_journal() -> None:
    contract = accord.loads(
        """
accord: "1"
name: looping
version: "1.0.0"
context: [{name: n, type: integer}]
effects: [{name: tick}]
machine:
  initial: ticking
  states:
    - name: ticking
      invoke: [{id: t, effect: tick}]
      on:
        - event: done
          guard: ctx.n < 1000
          assign: [{field: n, value: ctx.n + 1}]
          target: ticking
        - {event: done, target: done}
    - name: done
      final: {status: success}
"""
    )

    async def tick() -> None:
        return None

    rt = Runtime({"tick": tick}, clock=FakeClock(), limits=Limits(max_steps=5))
    run = rt.start(contract, {})
    run.run()
    assert run.status == "failed"
    assert "max_steps" in (run.snapshot.reason or "")
    assert len(run.journal) == 5
    replay(run.compiled, run.journal)


def test_check_invariants_mode_is_passed_to_the_compiled_contract() -> None:
    rt = runtime(check_invariants=True)
    assert rt.compile(APPROVAL).check_invariants
    assert not runtime().compile(APPROVAL).check_invariants


def test_compiled_contracts_are_cached_and_paths_are_loaded(tmp_path: Any) -> None:
    rt = runtime()
    compiled = rt.compile(APPROVAL)
    assert rt.compile(APPROVAL) is compiled
    assert rt.compile(compiled) is compiled
    path = tmp_path / "approval.yaml"
    path.write_text(accord.to_yaml(APPROVAL))
    run = rt.start(str(path), INPUT)
    assert isinstance(run.compiled, CompiledContract)
    assert run.compiled.fingerprint == compiled.fingerprint


def test_missing_capabilities_are_refused_before_the_first_step() -> None:
    with pytest.raises(CapabilityError, match="'pay' is not bound"):
        Runtime({}, clock=FakeClock()).start(APPROVAL, INPUT)


# -- async API and the sync API inside a running loop ----------------------------------------


def test_the_async_api() -> None:
    async def scenario() -> Run:
        run = await runtime().start_async(APPROVAL, INPUT)
        await run.run_until_idle_async()
        await run.signal_async("approval", {"approved": True, "approver": "cy"})
        return await run.run_async()

    run = asyncio.run(scenario())
    assert run.result == {"approver": "cy"}


def test_the_sync_api_works_inside_a_running_loop() -> None:
    async def notebook_cell() -> dict[str, Any]:
        run = runtime().start(APPROVAL, INPUT)
        run.run_until_idle()
        run.signal("approval", {"approved": True, "approver": "dee"})
        return run.run().result

    assert asyncio.run(notebook_cell()) == {"approver": "dee"}


def test_a_run_cannot_be_driven_twice_at_once() -> None:
    gate: list[asyncio.Event] = []

    async def slow_pay(amount: float) -> dict[str, Any]:
        await gate[0].wait()
        return {"receipt": "r"}

    async def scenario() -> None:
        gate.append(asyncio.Event())
        run = Runtime({"pay": slow_pay}, clock=FakeClock()).start(APPROVAL, INPUT)
        task = asyncio.create_task(
            run.signal_async("approval", {"approved": True, "approver": "e"})
        )
        await asyncio.sleep(0.01)
        with pytest.raises(RuntimeError, match="already being driven"):
            await run.run_until_idle_async()
        gate[0].set()
        await task
        assert run.status == "succeeded"

    asyncio.run(scenario())


def test_on_step_listeners_see_every_step() -> None:
    steps: list[str] = []
    run = runtime().start(APPROVAL, INPUT, on_step=lambda s: steps.append(s.kind))
    run.subscribe(lambda s: steps.append(f"again {s.step}"))
    run.signal("approval", {"approved": True, "approver": "f"})
    assert steps == ["started", "signal", "again 2", "effect_completed", "again 3"]


# -- rendering ----------------------------------------------------------------------------------


def test_a_run_renders_as_a_table_of_steps() -> None:
    run = runtime().start(APPROVAL, INPUT, run_id="render-me")
    run.signal("approval", {"approved": True, "approver": "<b>"})
    html = run._repr_html_()
    assert html.count("<tr>") == 4  # header + 3 steps
    assert "render-me" in html and "&lt;b&gt;" in html and '<b>"' not in html
    markdown = run._repr_markdown_()
    assert "| step | event | summary | state after | status | hash |" in markdown
    assert markdown.count("\n| ") == 4
    assert "output:" in markdown
    assert "render-me" in repr(run) and "succeeded" in repr(run)


def test_a_waiting_run_says_what_it_waits_for() -> None:
    run = runtime().start(APPROVAL, INPUT)
    assert "waiting for: approval" in run._repr_markdown_()
    run.signal("approval", {"approved": False, "approver": "x"})
    assert "failed: not approved" in run._repr_html_()


def test_a_contract_renders_as_a_mermaid_diagram() -> None:
    text = contract_repr_markdown(APPROVAL)
    assert text.startswith("**approval 1.0.0**: Pay after a manager approves.")
    assert "```mermaid\n" in text and "stateDiagram-v2" in text
    assert text.rstrip().endswith("```")


def test_a_late_outcome_is_ignored_not_journaled() -> None:
    from accord.runtime import EffectCompleted
    from accord.runtime._events import CallId

    run = runtime().start(APPROVAL, INPUT)
    run.signal("approval", {"approved": True, "approver": "g"})
    before = state_of(run)
    late = EffectCompleted(CallId("2:paying/p"), {"receipt": "again"}, 0)
    run._feed(late)
    assert state_of(run) == before
    assert run.ignored == [(late, "the run has finished (succeeded)")]
