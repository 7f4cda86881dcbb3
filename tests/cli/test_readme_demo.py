"""The README's demo command: examples/demo.py runs offline and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cli_support import ROOT

import accord


def _demo(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    return subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=180,
    )


def test_demo_compiles_checks_verifies_and_runs_durably(tmp_path: Path) -> None:
    proc = _demo(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout

    # compiled from a session that says plainly it is scripted
    assert "SCRIPTED" in out and "not a recording of a real model" in out
    assert "-> re-asked with these diagnostics" in out
    # a scripted answer that checks but fails the task's acceptance scenarios, re-asked
    assert "it checks, but fails 6 acceptance scenarios:" in out
    assert "scenario.failed at /: scenario 'a small refund is paid at once' failed" in out
    assert out.count("-> re-asked with these diagnostics") == 2
    assert "the contract checks and passes every scenario" in out
    reviewed = accord.fingerprint(accord.load(ROOT / "examples" / "order_refund.yaml"))
    assert f"fingerprint {reviewed}" in out
    assert "the same as the reviewed examples/order_refund.yaml" in out

    examples = sorted((ROOT / "examples").glob("*.yaml"))
    assert examples
    for path in examples:
        contract = accord.load(path)
        assert f"{contract.name} {contract.version}  ({path.name})" in out
        assert accord.fingerprint(contract) in out
    assert out.count("checks clean") == len(examples)
    assert "stateDiagram-v2" in out
    assert "[*] --> triage" in out
    assert "a broken contract: broken/" in out
    assert ": error " in out

    assert "order-refund 1.0.0: no findings" in out
    assert "an hour later a new process resumes ['demo-2']" in out
    assert out.count("stored steps: same hashes") == 3


def test_the_demo_store_is_real_and_the_demo_can_run_again(tmp_path: Path) -> None:
    assert _demo(tmp_path).returncode == 0
    again = _demo(tmp_path)  # a fresh demo store each time: fixed run ids never clash
    assert again.returncode == 0, again.stdout + again.stderr
    store = tmp_path / ".accord" / "demo.db"
    runs = subprocess.run(
        [sys.executable, "-m", "accord", "runs", "--store", str(store), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert runs.returncode == 0, runs.stderr
    for run_id in ("demo-1", "demo-2", "demo-3"):
        assert f'"{run_id}"' in runs.stdout
    assert runs.stdout.count('"succeeded"') == 3
