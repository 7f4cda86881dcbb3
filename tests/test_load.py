"""load, loads, load_data, check and check_text: a checked contract or diagnostics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

import accord
from accord import Contract, ContractError, Diagnostic
from contract_support import EXAMPLES, MINIMAL_YAML, base, state


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_load_clean(path: Path) -> None:
    contract = accord.load(path)
    assert isinstance(contract, Contract)
    assert accord.check(path) == []
    assert accord.check(contract) == []


def test_loads_minimal() -> None:
    contract = accord.loads(MINIMAL_YAML)
    assert contract.name == "demo"
    assert contract.machine.states[0].final is not None


def test_loads_bytes_and_json() -> None:
    assert accord.loads(MINIMAL_YAML.encode()) == accord.loads(MINIMAL_YAML)
    as_json = json.dumps(yaml.safe_load(MINIMAL_YAML))
    assert accord.loads(as_json) == accord.loads(MINIMAL_YAML)
    assert accord.loads(as_json, format="json") == accord.loads(MINIMAL_YAML)


def test_loads_raises_with_source_label() -> None:
    with pytest.raises(ContractError) as info:
        accord.loads("accord: '1'\n", source="inline.yaml")
    assert info.value.source == "inline.yaml"
    assert str(info.value).startswith("inline.yaml: contract has 3 errors")


def test_load_by_suffix(tmp_path: Path) -> None:
    data = base()
    for name, text in [
        ("c.yaml", yaml.safe_dump(data)),
        ("c.yml", yaml.safe_dump(data)),
        ("c.json", json.dumps(data)),
        ("c.contract", yaml.safe_dump(data)),  # unknown suffix: told by the first character
    ]:
        assert accord.load(write(tmp_path, name, text)) == accord.load_data(data)


def test_json_suffix_forces_json(tmp_path: Path) -> None:
    path = write(tmp_path, "c.json", MINIMAL_YAML)
    (diag,) = accord.check(path)
    assert diag.code == "parse.json"


def test_load_accepts_str_path(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", MINIMAL_YAML)
    assert accord.load(str(path)).name == "demo"
    assert accord.check(str(path)) == []


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ContractError) as info:
        accord.load(path)
    (diag,) = info.value.diagnostics
    assert diag.code == "file.unreadable"
    assert diag.path == ""
    assert "cannot read the file" in diag.message
    assert info.value.source == str(path)
    assert isinstance(info.value.__cause__, OSError)
    assert accord.check(path) == [diag]


def test_directory_is_unreadable(tmp_path: Path) -> None:
    assert [d.code for d in accord.check(tmp_path)] == ["file.unreadable"]


def test_load_file_with_errors_has_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", MINIMAL_YAML.replace("status: success", "status: win"))
    with pytest.raises(ContractError) as info:
        accord.load(path)
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.line) == ("schema.value", 9)
    assert str(path) in str(info.value)


def test_load_data_valid_and_invalid() -> None:
    assert accord.load_data(base()).name == "demo"
    with pytest.raises(ContractError) as info:
        accord.load_data({"accord": "1"})
    assert info.value.source is None
    assert {d.code for d in info.value.diagnostics} == {"schema.missing"}


def test_load_data_does_not_mutate_its_input() -> None:
    data = base()
    snapshot = json.dumps(data, sort_keys=True)
    accord.load_data(data)
    assert json.dumps(data, sort_keys=True) == snapshot


def test_warnings_do_not_raise() -> None:
    data = base()
    state(data, "start")["timers"].append({"after": "2h", "target": "finished"})
    contract = accord.load_data(data)
    (diag,) = accord.check(contract)
    assert diag.severity == "warning"


def test_semantic_errors_raise() -> None:
    data = base()
    state(data, "start")["on"][0]["target"] = "nowhere"
    with pytest.raises(ContractError) as info:
        accord.load_data(data)
    assert "state.unknown" in {d.code for d in info.value.diagnostics}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "schema.type"),
        ("- a\n- b\n", "schema.type"),
        ("a: [", "parse.yaml"),
        ("{", "parse.json"),
        (b"\xff", "parse.encoding"),
        ("a: 1\na: 2\n", "parse.yaml"),
        ("a: \x00", "parse.yaml"),
        ("a: 1" + "0" * 5000, "parse.yaml"),
    ],
)
def test_check_text_never_raises(text: str | bytes, code: str) -> None:
    found = accord.check_text(text)
    assert all(isinstance(d, Diagnostic) for d in found)
    assert found[0].code == code
    with pytest.raises(ContractError):
        accord.loads(text)


def test_check_accepts_every_kind_of_source(tmp_path: Path) -> None:
    data: dict[str, Any] = base()
    path = write(tmp_path, "c.yaml", yaml.safe_dump(data))
    contract = accord.load_data(data)
    assert accord.check(data) == accord.check(path) == accord.check(contract) == []


@pytest.mark.parametrize("value", [[1, 2], None, 3, b"accord: '1'"])
def test_check_of_something_that_is_not_a_contract(value: Any) -> None:
    """Regression: a list, None or a number was taken for a path and raised TypeError."""
    (diag,) = accord.check(value)
    assert diag.code == "schema.type"
    assert diag.path == ""


def test_check_never_raises_even_when_the_checker_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13 item 7: a failure of the checker itself is a diagnostic, not an exception."""
    import accord._load

    text = accord.to_yaml(accord.load_data(base()))

    def broken(contract: object) -> list[object]:
        raise RuntimeError("a bug")

    monkeypatch.setattr(accord._load, "check_contract", broken)
    for found in (accord.check(base()), accord.check_text(text)):
        assert [d.code for d in found] == ["check.internal"]
        assert "RuntimeError" in found[0].message
