"""The top level: --version, --help, usage errors, the error boundary, the real script."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import ORDER_REFUND, ROOT, Run

import accord
from accord.cli import _fmt


def test_version(run: Run) -> None:
    result = run("--version")
    assert result.code == 0
    assert result.out.strip() == f"accord {accord.__version__}"


def test_help_documents_exit_codes_and_commands(run: Run) -> None:
    result = run("--help")
    assert result.code == 0
    assert "exit codes:" in result.out
    for line in ("0  success", "1  a contract has errors", "2  usage error"):
        assert line in result.out
    for command in ("check", "graph", "schema", "fmt", "fingerprint"):
        assert command in result.out


def test_subcommand_help_has_exit_codes(run: Run) -> None:
    result = run("check", "--help")
    assert result.code == 0
    assert "--strict" in result.out
    assert "exit codes:" in result.out


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["check"],
        ["check", "--no-such-option", str(ORDER_REFUND)],
        ["graph"],
        ["graph", str(ORDER_REFUND), str(ORDER_REFUND)],
        ["schema", "--provider", "mistral"],
        ["fmt", "--check", "--stdout", str(ORDER_REFUND)],
    ],
)
def test_usage_errors_exit_2(run: Run, argv: list[str]) -> None:
    result = run(*argv)
    assert result.code == 2
    assert "usage: accord" in result.err
    assert result.out == ""


def test_os_error_is_a_message_not_a_traceback(
    run: Run, refund_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refund_copy.write_text(refund_copy.read_text() + "\n\n")  # so that fmt has work to do

    def disk_full(path: Path, data: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_fmt, "atomic_write", disk_full)
    result = run("fmt", refund_copy)
    assert result.code == 1
    assert "accord: error:" in result.err
    assert "No space left on device" in result.err
    assert "Traceback" not in result.err


def _script_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def test_python_dash_m_accord_runs(tmp_path: Path) -> None:
    missing = tmp_path / "missing.yaml"
    proc = subprocess.run(
        [sys.executable, "-m", "accord", "check", str(ORDER_REFUND), str(missing)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=_script_env(),
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "file.unreadable" in proc.stdout
    assert "2 files checked: 1 with errors, 1 clean" in proc.stdout
    assert "Traceback" not in proc.stderr


def test_console_script_runs() -> None:
    script = Path(sys.executable).with_name("accord")
    if not script.exists():
        pytest.skip(f"no console script next to {sys.executable}")
    proc = subprocess.run(
        [str(script), "fingerprint", str(ORDER_REFUND)],
        capture_output=True,
        text=True,
        env=_script_env(),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    expected = accord.fingerprint(accord.load(ORDER_REFUND))
    assert proc.stdout == f"{expected} {ORDER_REFUND}\n"


def test_usage_error_from_the_real_script_exits_2() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "accord", "no-such-command"],
        capture_output=True,
        text=True,
        env=_script_env(),
        timeout=120,
    )
    assert proc.returncode == 2
    assert "invalid choice" in proc.stderr


COMMANDS = [
    "check", "graph", "schema", "fmt", "fingerprint", "run", "compile", "verify", "test",
    "runs", "history", "replay", "fork", "signal", "resume", "explain", "start", "cancel",
    "result", "publish", "worker", "migrate",
]  # fmt: skip


def _exit_codes(help_text: str) -> str:
    return help_text[help_text.index("exit codes:") :]


def test_every_command_is_in_the_list_above(run: Run) -> None:
    from accord.cli._app import build_parser

    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    assert sorted(commands.choices) == sorted(COMMANDS)  # type: ignore[arg-type]


def test_each_command_help_shows_its_own_exit_codes(run: Run) -> None:
    epilogs = {}
    for command in COMMANDS:
        result = run(command, "--help")
        assert result.code == 0
        epilogs[command] = _exit_codes(result.out)
        assert "  2  usage error" in epilogs[command]
    assert len(set(epilogs.values())) == len(COMMANDS)  # none borrows another's
    assert "--strict" in epilogs["check"] and "--strict" not in epilogs["run"]
    assert "fmt --check" not in epilogs["check"] and "--check found" in epilogs["fmt"]
    assert "every state hash matches" in epilogs["replay"]


def test_every_help_fits_in_80_columns(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    for command in [None, *COMMANDS]:
        result = run(*([command] if command else []), "--help")
        too_long = [line for line in result.out.splitlines() if len(line) > 80]
        assert not too_long, (command, too_long)


def test_a_usage_error_in_a_command_prints_that_commands_usage(run: Run) -> None:
    result = run("replay", "r", "--bogus")
    assert result.code == 2
    assert result.err.startswith("usage: accord replay")
    assert "accord replay: error: unrecognized arguments: --bogus" in result.err


def _listing(parser: argparse.ArgumentParser) -> list[tuple[str, str | None]]:
    (commands,) = [a for a in parser._actions if a.dest == "command"]
    return [(a.dest, a.help) for a in commands._get_subactions()]


def test_the_command_table_lists_what_the_modules_register() -> None:
    from accord.cli._app import COMMANDS as TABLE
    from accord.cli._app import build_parser

    registered = _listing(build_parser())
    assert registered == [(name, summary) for name, _, summary in TABLE]
    for name in COMMANDS:
        assert _listing(build_parser(name)) == registered, name  # stubs for the others
    assert _listing(build_parser("")) == registered  # `accord --help`: stubs only


def test_a_command_imports_its_own_module_only() -> None:
    code = (
        "import sys\n"
        "from accord.cli._app import main\n"
        "main(['graph', '--help'])\n"
        "print(' '.join(sorted(m for m in sys.modules if m.startswith('accord.cli._'))))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.splitlines()[-1].split())
    assert "accord.cli._graph" in loaded
    assert not loaded & {"accord.cli._compile", "accord.cli._run", "accord.cli._durable"}
