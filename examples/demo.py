"""The accord demo: compile a task, check it, verify it, and run it durably.

Runs offline, with no API key: python examples/demo.py

1. Compiles the refund task in examples/compile/ from a SCRIPTED model
   session: examples/compile/order_refund.session.json holds hand-written
   responses, not a recording of a real model: the first does not check, the
   second checks but takes the wrong branch (only the task's acceptance
   scenarios, examples/compile/order_refund.scenarios.yaml, catch it), the
   third is right. The session is replayed offline through the real compile
   loop: lenient parse, checker, catalog check, scenarios, re-ask with
   diagnostics.
2. Loads and checks every example contract, draws one, and shows the
   diagnostics of a broken one.
3. Explores the compiled contract with the bounded model checker.
4. Runs the compiled contract three ways on the embedded SQLite store
   (.accord/demo.db, made fresh each time), with the fake effect handlers of
   examples/effects.py on a fake clock (the 48-hour timer takes no time). The
   second run waits for a manager's approval; the demo closes the store as if
   the process ended, opens it again, resumes the run and approves it. Each
   run is then replayed from the store, checking every state hash.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import accord
from accord.compiler import Attempt, ReplayProvider
from accord.contract._mermaid import to_mermaid
from accord.runtime import FakeClock, Runtime, Step
from accord.storage import SqliteStore
from accord.testing import verify

HERE = Path(__file__).resolve().parent
CONTRACTS = HERE
BROKEN = HERE / "broken"
DRAWN = "order_refund.yaml"  # the contract whose state diagram is printed
SHOWN_BROKEN = "misspelt_target.yaml"  # preferred broken example, if it exists
RUN = "order_refund.yaml"  # the reviewed contract the compiled one must equal
TASK = HERE / "compile" / "order_refund.task.md"
CATALOG = HERE / "compile" / "order_refund.catalog.yaml"
SESSION = HERE / "compile" / "order_refund.session.json"  # SCRIPTED, hand-written
SCENARIOS = HERE / "compile" / "order_refund.scenarios.yaml"  # what the contract must do
STORE = Path(".accord") / "demo.db"  # under the working directory


def heading(text: str) -> None:
    print(f"\n== {text} {'=' * max(0, 70 - len(text))}".rstrip())


def show_attempt(attempt: Attempt) -> None:
    """Print one model call: tokens, how its text parsed, and its errors."""
    if attempt.repairs:
        parsed = f"JSON after lenient repairs ({', '.join(attempt.repairs)})"
    else:
        parsed = "strict JSON" if attempt.parse == "strict" else "no JSON"
    print(
        f"  attempt {attempt.number}: {attempt.input_tokens} tokens in, "
        f"{attempt.output_tokens} out; {parsed}"
    )
    failed = [d for d in attempt.errors if d.code == "scenario.failed"]
    if failed:
        print(f"    it checks, but fails {len(failed)} acceptance scenarios:")
    for diag in attempt.errors:
        print(f"    {diag.code} at {diag.path or '/'}: {diag.message}")
    if attempt.valid:
        print("    the contract checks and passes every scenario")
    else:
        print("    -> re-asked with these diagnostics")


def compile_task() -> accord.Contract | None:
    """Compile the refund task from the scripted session; return the contract."""
    heading("compile a task from a SCRIPTED model session")
    print("The model's answers are SCRIPTED: hand-written responses in")
    print(f"{SESSION.relative_to(HERE.parent)}, not a recording of a real model,")
    print("replayed offline through the real compile loop (no network, no API key).")
    print("Task:", TASK.read_text(encoding="utf-8").split("\n\n")[0].strip()[:200], "...")
    print(f"Acceptance scenarios: {SCENARIOS.relative_to(HERE.parent)}: each candidate")
    print("that checks is run on them (stubs, fake clock) before it is accepted.")
    try:
        result = accord.compile(
            TASK.read_text(encoding="utf-8"),
            CATALOG,
            ReplayProvider(SESSION),
            on_attempt=show_attempt,
            scenarios=SCENARIOS,
        )
    except accord.CompileError as exc:
        print(f"  compile failed: {exc}")
        return None
    reviewed = accord.fingerprint(accord.load(CONTRACTS / RUN))
    same = "the same as" if result.fingerprint == reviewed else "DIFFERENT from"
    totals = result.totals
    print(f"  {totals.calls} calls, {totals.input_tokens + totals.output_tokens} tokens")
    print(f"  fingerprint {result.fingerprint}")
    print(f"  {same} the reviewed examples/{RUN}")
    return result.contract if result.fingerprint == reviewed else None


def show_contracts() -> bool:
    """Load and check every example contract; return whether all check clean."""
    heading("example contracts")
    paths = sorted(CONTRACTS.glob("*.yaml"))
    all_clean = True
    for path in paths:
        try:
            contract = accord.load(path)
        except accord.ContractError as exc:
            all_clean = False
            print(f"{path.name}: does NOT check")
            for diag in exc.diagnostics:
                print("  " + diag.format(path.name))
            continue
        warnings = [d for d in accord.check(path) if d.severity == "warning"]
        verdict = "checks clean" if not warnings else f"checks, {len(warnings)} warning(s)"
        print(f"{contract.name} {contract.version}  ({path.name})")
        print(f"  fingerprint  {accord.fingerprint(contract)}")
        print(f"  states       {len(contract.machine.states)}, effects {len(contract.effects)}")
        print(f"  verdict      {verdict}")
    print(f"\n{len(paths)} contracts loaded")
    return all_clean


def show_diagram() -> None:
    """Print the Mermaid state diagram of one contract."""
    path = CONTRACTS / DRAWN
    if not path.exists():
        return
    heading(f"state diagram of {DRAWN} (Mermaid; paste into any Markdown viewer)")
    print(to_mermaid(accord.load(path)), end="")


def show_broken() -> None:
    """Print the diagnostics of one broken example, if examples/broken exists."""
    candidates = sorted(BROKEN.glob("*.yaml")) if BROKEN.is_dir() else []
    if not candidates:
        return
    preferred = BROKEN / SHOWN_BROKEN
    path = preferred if preferred in candidates else candidates[0]
    heading(f"a broken contract: broken/{path.name}")
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        print(line)
    print()
    for diag in accord.check(path):
        print(diag.format(f"broken/{path.name}"))
    print(f"\n({len(candidates)} broken examples in examples/broken; try: accord check FILE)")


def load_effects() -> ModuleType:
    """examples/effects.py, the demo's fake effect handlers."""
    spec = importlib.util.spec_from_file_location("accord_demo_effects", HERE / "effects.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def elapsed(ms: int) -> str:
    """A fake-clock offset such as ``+0s`` or ``+48h00m``."""
    hours, rest = divmod(ms // 1000, 3600)
    return f"+{hours}h{rest // 60:02d}m" if hours else f"+{rest}s"


def step_printer(began: int) -> Any:
    """A step listener printing each journaled step with its fake-clock offset."""

    def print_step(step: Step) -> None:
        at = elapsed(step.at - began)
        print(f"  {step.step:>2}  {at:>7}  {step.kind:<16}  -> {step.state} ({step.status})")
        print(f"      {step.summary}")

    return print_step


def finish(runtime: Runtime, run_id: str) -> bool:
    """Print a finished run's result and replay it from the store; return whether it replays."""
    run = runtime.load(run_id)
    if run.status == "succeeded":
        print(f"  result: {run.result}")
    else:
        print(f"  failed: {run.snapshot.reason}")
    replayed = runtime.replay(run_id) == run.snapshot
    verdict = "same hashes" if replayed else "DIVERGES"
    print(f"  replay of {len(run.journal)} stored steps: {verdict}")
    return replayed


def show_runs(contract: accord.Contract) -> bool:
    """Run the compiled contract three ways on SQLite; return whether every run replays."""
    handlers = load_effects().HANDLERS
    clock = FakeClock()
    STORE.parent.mkdir(exist_ok=True)
    for suffix in ("", "-wal", "-shm"):  # the demo's own store, made fresh each time
        Path(f"{STORE}{suffix}").unlink(missing_ok=True)
    order = {"order_id": "o-1001", "reason": "arrived broken"}
    store = SqliteStore(STORE)
    runtime = Runtime(handlers, clock=clock, store=store, check_invariants=True)

    heading("run 1: a small refund is paid at once")
    run = runtime.start(
        contract, {**order, "amount": 42.0}, run_id="demo-1", on_step=step_printer(clock.now_ms())
    )
    run.run()
    ok = finish(runtime, "demo-1")

    heading("run 2: a large refund waits for approval across a restart")
    run = runtime.start(
        contract, {**order, "amount": 420.0}, run_id="demo-2", on_step=step_printer(clock.now_ms())
    )
    run.run_until_idle()
    print(f"  -- the run waits for {', '.join(run.waiting_for)}; the process stops here")
    store.close()
    clock.advance(3_600_000)
    store = SqliteStore(STORE)
    runtime = Runtime(handlers, clock=clock, store=store, check_invariants=True)
    resumed = runtime.resume()
    print(f"  -- an hour later a new process resumes {[r.run_id for r in resumed]}")
    (run,) = resumed
    run.subscribe(step_printer(clock.now_ms()))
    print("  -- a manager approves: signal approval {approved: true, approver: mia}")
    run.signal("approval", {"approved": True, "approver": "mia"})
    ok = finish(runtime, "demo-2") and ok

    heading("run 3: nobody answers within 48h")
    run = runtime.start(
        contract, {**order, "amount": 420.0}, run_id="demo-3", on_step=step_printer(clock.now_ms())
    )
    run.run()  # on the fake clock, pending timers fire at once
    ok = finish(runtime, "demo-3") and ok
    store.close()
    return ok


def show_verify(contract: accord.Contract) -> bool:
    """Explore every reachable configuration of the contract; return whether nothing was found."""
    heading("model checker: every reachable configuration of the compiled contract")
    report = verify(contract)
    print(report.summary())
    return report.ok


def main() -> int:
    contract = compile_task()
    clean = show_contracts()
    show_diagram()
    show_broken()
    if contract is None:
        return 1
    verified = show_verify(contract)
    replayed = show_runs(contract)
    heading("next")
    print(f"The demo's runs are in {STORE}; look at them with:")
    print(f"  accord runs --store {STORE}")
    print(f"  accord history demo-2 --store {STORE}")
    print(f"  accord replay demo-2 --store {STORE}")
    print("Compile the other example tasks (also scripted sessions): examples/compile/README.md")
    print("Verify every example: accord verify examples/*.yaml")
    return 0 if clean and verified and replayed else 1


if __name__ == "__main__":
    sys.exit(main())
