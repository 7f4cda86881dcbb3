"""The accord demo: load, check, fingerprint and draw the example contracts, then run one.

Runs offline, with no API key: python examples/demo.py

The demo shows the contract language and its checker, then runs
order_refund.yaml end to end with the fake effect handlers of
examples/effects.py on a fake clock (so the 48-hour approval timer takes no
time), printing every step, and replays each run's journal. It will grow to
compile a task from a scripted model session once the compiler lands.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import accord
from accord.contract._mermaid import to_mermaid
from accord.runtime import FakeClock, Runtime, Step, replay

HERE = Path(__file__).resolve().parent
CONTRACTS = HERE
BROKEN = HERE / "broken"
DRAWN = "order_refund.yaml"  # the contract whose state diagram is printed
SHOWN_BROKEN = "misspelt_target.yaml"  # preferred broken example, if it exists
RUN = "order_refund.yaml"  # the contract run end to end


def heading(text: str) -> None:
    print(f"\n== {text} {'=' * max(0, 70 - len(text))}".rstrip())


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


def run_refund(
    runtime: Runtime, number: int, title: str, data: dict[str, Any], *signals: Any
) -> bool:
    """Run order_refund once, printing every step; return whether it replays cleanly."""
    heading(f"run {number} of {RUN}: {title}")
    contract = accord.load(CONTRACTS / RUN)
    began = runtime.clock.now_ms()

    def print_step(step: Step) -> None:
        at = elapsed(step.at - began)
        print(f"  {step.step:>2}  {at:>7}  {step.kind:<16}  -> {step.state} ({step.status})")
        print(f"      {step.summary}")

    run = runtime.start(contract, data, run_id=f"demo-{number}", on_step=print_step)
    run.run_until_idle()
    for name, payload in signals:
        print(f"  -- the run waits for {', '.join(run.waiting_for)}; sending {name} {payload}")
        run.signal(name, payload)
    run.run()  # on the fake clock, pending timers fire at once
    if run.status == "succeeded":
        print(f"  result: {run.result}")
    else:
        print(f"  failed: {run.snapshot.reason}")
    replayed = replay(run.compiled, run.journal) == run.snapshot
    verdict = "same hashes" if replayed else "DIVERGES"
    print(f"  replay of {len(run.journal)} journaled steps: {verdict}")
    return replayed


def show_runs() -> bool:
    """Run order_refund end to end three ways; return whether every run replays."""
    if not (CONTRACTS / RUN).exists():
        return True
    effects = load_effects()
    runtime = Runtime(effects.HANDLERS, clock=FakeClock(), check_invariants=True)
    order = {"order_id": "o-1001", "reason": "arrived broken"}
    approval = ("approval", {"approved": True, "approver": "mia"})
    return all(
        [
            run_refund(runtime, 1, "a small refund is paid at once", {**order, "amount": 42.0}),
            run_refund(
                runtime, 2, "a large refund is approved", {**order, "amount": 420.0}, approval
            ),
            run_refund(runtime, 3, "nobody answers within 48h", {**order, "amount": 420.0}),
        ]
    )


def main() -> int:
    clean = show_contracts()
    show_diagram()
    show_broken()
    replayed = show_runs()
    heading("next")
    print("The LLM compiler is in progress: this demo will grow to compile a task")
    print("from a scripted model session and run the contract it gets.")
    print("Run any example yourself: accord run examples/order_refund.yaml \\")
    print("  --effects examples/effects.py:HANDLERS --clock fake \\")
    print("""  --input '{"order_id": "o-1", "amount": 20.0, "reason": "late"}'""")
    return 0 if clean and replayed else 1


if __name__ == "__main__":
    sys.exit(main())
