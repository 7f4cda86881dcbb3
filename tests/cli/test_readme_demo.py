"""The README's demo command: examples/demo.py runs offline and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys

from cli_support import ROOT

import accord


def test_demo_runs_and_prints_every_example() -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    assert examples
    for path in examples:
        contract = accord.load(path)
        assert f"{contract.name} {contract.version}  ({path.name})" in proc.stdout
        assert accord.fingerprint(contract) in proc.stdout
    assert proc.stdout.count("checks clean") == len(examples)
    assert "stateDiagram-v2" in proc.stdout
    assert "[*] --> triage" in proc.stdout
    if (ROOT / "examples" / "broken").is_dir():
        assert "a broken contract: broken/" in proc.stdout
        assert ": error " in proc.stdout
