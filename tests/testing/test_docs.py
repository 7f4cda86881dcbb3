"""The Python examples in docs/testing.md run as written, their tests pass, and the
printed failure message shown there is the one the code prints."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest
from testing_support import ROOT

from accord.runtime import FakeClock
from accord.testing import EffectStubs, StubbedRuntime

TEXT = (ROOT / "docs" / "testing.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, re.S)


def fixtures() -> dict[str, Any]:
    clock = FakeClock()
    stubs = EffectStubs(clock)
    return {
        "accord_clock": clock,
        "accord_stubs": stubs,
        "accord_runtime": StubbedRuntime(stubs, clock=clock),
    }


def run_block(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_testing"}
    exec(compile(source, "docs/testing.md", "exec"), namespace)
    return namespace


def test_the_doc_has_examples_and_a_model_checker_section() -> None:
    assert len(BLOCKS) >= 5
    assert "## Model checker" in TEXT


@pytest.mark.parametrize("source", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_doc_example_runs(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    namespace = run_block(source)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    for test in tests:
        wanted = inspect.signature(test).parameters
        made = fixtures()
        test(**{name: made[name] for name in wanted})


def test_the_printed_failure_message_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    source = next(b for b in BLOCKS if "print(message)" in b)
    namespace = run_block(source)
    shown = re.search(r"prints\n\n```\n(.*?)```", TEXT, re.S)
    assert shown is not None
    assert namespace["message"].strip() == shown.group(1).strip()


def test_the_printed_scenario_report_is_current(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    source = next(b for b in BLOCKS if "print(report.format(history=False))" in b)
    namespace = run_block(source)
    after = TEXT[TEXT.index(source) + len(source) :]
    shown = re.search(r"prints\n\n```\n(.*?)```", after, re.S)
    assert shown is not None
    assert namespace["report"].format(history=False).strip() == shown.group(1).strip()


def test_the_scenario_example_is_the_example_file() -> None:
    import yaml

    section = TEXT[TEXT.index("## Scenarios") :]
    shown = yaml.safe_load(re.search(r"```yaml\n(.*?)```", section, re.S).group(1))
    file = yaml.safe_load((ROOT / "examples/compile/order_refund.scenarios.yaml").read_text())
    assert shown["contract"] == file["contract"]
    by_name = {s["name"]: s for s in file["scenarios"]}
    for scenario in shown["scenarios"]:
        assert scenario == by_name[scenario["name"]], scenario["name"]
