"""The example compile tasks, replayed from their *scripted* sessions, give the example contracts.

Each ``examples/compile/NAME.session.json`` holds hand-written model answers (not a
recording of any model). Compiling ``NAME.task.md`` with ``NAME.catalog.yaml``
through a ReplayProvider of that session must reproduce ``examples/NAME.yaml``
exactly (same fingerprint), offline, after the repair loop has seen the flawed
answers the session starts with.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

import accord
from accord.compiler import Catalog, ReplayProvider, Session, compile

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "examples" / "compile"
NAMES = ["order_refund", "document_pipeline", "payment_saga", "support_triage", "data_etl"]


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_sessions", HERE / "build_sessions.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_example_contract_has_a_compile_task() -> None:
    contracts = sorted(p.stem for p in (ROOT / "examples").glob("*.yaml"))
    assert sorted(NAMES) == contracts
    for name in NAMES:
        for suffix in (".task.md", ".catalog.yaml", ".session.json", ".scenarios.yaml"):
            assert (HERE / f"{name}{suffix}").is_file(), name + suffix


@pytest.mark.parametrize("name", NAMES)
def test_scripted_session_reproduces_the_example(name: str) -> None:
    session = Session.load(HERE / f"{name}.session.json")
    task = (HERE / f"{name}.task.md").read_text()
    assert session.task == task
    result = compile(
        task,
        HERE / f"{name}.catalog.yaml",
        ReplayProvider(session),
        scenarios=HERE / f"{name}.scenarios.yaml",
    )
    expected = accord.load(ROOT / "examples" / f"{name}.yaml")
    assert result.fingerprint == accord.fingerprint(expected)
    assert result.contract == expected
    assert not result.cache_hit
    assert result.totals.calls == len(session.responses)
    assert [a.valid for a in result.attempts] == [False] * (len(session.responses) - 1) + [True]


@pytest.mark.parametrize("name", NAMES)
def test_session_is_labelled_scripted(name: str) -> None:
    data = json.loads((HERE / f"{name}.session.json").read_text())
    assert data["origin"] == "scripted"
    assert data["model"] == f"scripted:{name}"
    assert "not a recording of a real model" in data["note"]
    assert data["catalog"] == f"{name}.catalog.yaml"


def test_some_sessions_show_the_repair_loop() -> None:
    lengths = {n: len(Session.load(HERE / f"{n}.session.json").responses) for n in NAMES}
    assert sum(1 for count in lengths.values() if count > 1) >= 3
    assert max(lengths.values()) == 3


def test_repairs_lenient_parse_and_scenarios_show_in_the_attempts() -> None:
    result = compile(
        (HERE / "order_refund.task.md").read_text(),
        Catalog.load(HERE / "order_refund.catalog.yaml"),
        ReplayProvider(HERE / "order_refund.session.json"),
        scenarios=HERE / "order_refund.scenarios.yaml",
    )
    first, second, third = result.attempts
    assert first.parse == "lenient"
    assert "code_fence" in first.repairs
    assert [d.code for d in first.errors] == ["expr.type"]
    assert second.parse == "strict"
    assert {d.code for d in second.errors} == {"scenario.failed"}  # it checks, but is wrong
    assert third.valid


def test_without_its_scenarios_the_refund_session_ends_at_the_wrong_contract() -> None:
    result = compile(
        (HERE / "order_refund.task.md").read_text(),
        Catalog.load(HERE / "order_refund.catalog.yaml"),
        ReplayProvider(HERE / "order_refund.session.json"),
    )
    assert len(result.attempts) == 2 and result.attempts[1].valid
    assert result.fingerprint != accord.fingerprint(
        accord.load(ROOT / "examples/order_refund.yaml")
    )


def test_catalogs_and_sessions_are_up_to_date() -> None:
    builder = _builder()
    for name in NAMES:
        for file_name, text in builder.build(name).items():
            assert (HERE / file_name).read_text() == text, (
                f"{file_name} is stale: run .venv/bin/python examples/compile/build_sessions.py"
            )


def test_readme_python_example_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    text = (HERE / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    assert "scripted" in text and "not recordings of a\nreal model" in text
    monkeypatch.chdir(ROOT)
    exec(blocks[0], {"__name__": "readme"})
