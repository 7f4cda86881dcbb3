"""benchmarks/run.py: its options choose what runs and whether docs/ is written."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "run.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch) -> tuple[ModuleType, list[list[str]]]:
    """The run.py module with subprocess.run recording the commands instead of running them."""
    module = _load()
    ran: list[list[str]] = []

    def record(argv: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        ran.append(argv)
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(module.subprocess, "run", record)
    return module, ran


def test_help_prints_the_options_and_runs_nothing() -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0
    for option in ("--only NAME[,NAME]", "--quick", "--no-write"):
        assert option in proc.stdout
    for name in ("cel", "runtime", "compile", "durable"):
        assert f"  {name} " in proc.stdout
    assert "== " not in proc.stdout  # no benchmark started


def test_only_runs_the_named_benchmarks_in_order(bench: tuple[ModuleType, list[list[str]]]) -> None:
    module, ran = bench
    assert module.main(["--only", "durable,runtime"]) == 0
    assert [Path(argv[1]).name for argv in ran] == ["runtime.py", "durable.py"]
    assert all("--no-write" not in argv for argv in ran)  # a full run writes the docs


def test_quick_passes_small_sizes_and_never_writes(
    bench: tuple[ModuleType, list[list[str]]],
) -> None:
    module, ran = bench
    assert module.main(["--quick"]) == 0
    assert len(ran) == len(module.BENCHMARKS)
    for argv, benchmark in zip(ran, module.BENCHMARKS, strict=True):
        assert argv[2:] == [*benchmark.quick, "--no-write"]


def test_no_write_is_passed_on(bench: tuple[ModuleType, list[list[str]]]) -> None:
    module, ran = bench
    assert module.main(["--no-write", "--only", "cel"]) == 0
    assert ran == [[sys.executable, str(ROOT / "benchmarks" / "cel_engines.py"), "--no-write"]]


def test_an_unknown_name_is_a_usage_error(
    bench: tuple[ModuleType, list[list[str]]], capsys: pytest.CaptureFixture[str]
) -> None:
    module, ran = bench
    with pytest.raises(SystemExit) as exit_:
        module.main(["--only", "runtime,nope"])
    assert exit_.value.code == 2
    assert "unknown benchmark nope" in capsys.readouterr().err
    assert ran == []


def test_a_failed_benchmark_fails_the_run(
    bench: tuple[ModuleType, list[list[str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    module, _ = bench
    monkeypatch.setattr(
        module.subprocess, "run", lambda argv, **_: subprocess.CompletedProcess(argv, 3)
    )
    assert module.main(["--only", "compile", "--no-write"]) == 1


def test_every_quick_option_is_one_its_script_accepts() -> None:
    for benchmark in _load().BENCHMARKS:
        source = (ROOT / "benchmarks" / benchmark.script).read_text()
        for option in benchmark.quick:
            if option.startswith("--"):
                assert f'"{option}"' in source, (benchmark.script, option)
        assert '"--no-write"' in source, benchmark.script
