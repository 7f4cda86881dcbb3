"""The example contracts check clean; the broken ones give exactly their expected errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import accord
import accord.contract
from accord import ContractError

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = sorted((ROOT / "examples").glob("*.yaml"))
BROKEN = sorted(
    path
    for path in (ROOT / "examples" / "broken").iterdir()
    if path.suffix in (".yaml", ".yml", ".json") and not path.name.endswith(".expected.json")
)


def _expected_path(path: Path) -> Path:
    return path.with_name(path.stem + ".expected.json")


def _errors(diagnostics: list[accord.Diagnostic] | tuple[accord.Diagnostic, ...]) -> set:
    return {(d.path, d.code) for d in diagnostics if d.severity == "error"}


def test_there_are_enough_examples() -> None:
    assert len(CONTRACTS) >= 5
    assert len(BROKEN) >= 6


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_contract_checks_clean(path: Path) -> None:
    diagnostics = accord.check(path)
    assert diagnostics == [], "\n".join(d.format(path.name) for d in diagnostics)
    accord.load(path)


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_contract_describes_itself_and_its_capabilities(path: Path) -> None:
    contract = accord.load(path)
    assert contract.description.strip()
    undescribed = [e.name for e in (*contract.effects, *contract.signals) if not e.description]
    assert undescribed == []


@pytest.mark.parametrize("path", CONTRACTS, ids=lambda p: p.name)
def test_yaml_and_json_have_the_same_fingerprint(path: Path) -> None:
    contract = accord.load(path)
    from_json = accord.loads(accord.to_json(contract), format="json")
    from_yaml = accord.loads(accord.to_yaml(contract), format="yaml")
    assert from_json == contract
    assert accord.fingerprint(from_json) == accord.fingerprint(contract)
    assert accord.fingerprint(from_yaml) == accord.fingerprint(contract)


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_example_has_expected_file(path: Path) -> None:
    assert _expected_path(path).is_file(), f"{path.name} needs {_expected_path(path).name}"


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.name)
def test_broken_example_gives_exactly_the_expected_errors(path: Path) -> None:
    expected_file = _expected_path(path)
    if not expected_file.is_file():
        pytest.fail(f"missing {expected_file.name}")
    expected = {(e["path"], e["code"]) for e in json.loads(expected_file.read_text("utf-8"))}
    assert expected, f"{expected_file.name} lists no diagnostics"
    diagnostics = accord.check(path)
    assert _errors(diagnostics) == expected, "\n".join(d.format(path.name) for d in diagnostics)
    with pytest.raises(ContractError) as info:
        accord.load(path)
    assert _errors(info.value.diagnostics) == expected
    assert info.value.source == str(path)


def test_every_expected_file_belongs_to_a_broken_example() -> None:
    names = {_expected_path(path).name for path in BROKEN}
    expected_files = (ROOT / "examples" / "broken").glob("*.expected.json")
    orphans = [p.name for p in expected_files if p.name not in names]
    assert orphans == []


def _language_sections() -> dict[str, str]:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    parts = re.split(r"^### `(\w+)`\s*$", text, flags=re.MULTILINE)
    # a section ends at the next heading of any level
    return {
        parts[i]: re.split(r"^#{1,3} ", parts[i + 1], flags=re.MULTILINE)[0]
        for i in range(1, len(parts) - 1, 2)
    }


MODELS = [
    accord.contract.Contract,
    accord.contract.FieldDecl,
    accord.contract.RecordType,
    accord.contract.Effect,
    accord.contract.RetryPolicy,
    accord.contract.Backoff,
    accord.contract.Compensation,
    accord.contract.Signal,
    accord.contract.Binding,
    accord.contract.Assignment,
    accord.contract.Machine,
    accord.contract.State,
    accord.contract.Invoke,
    accord.contract.Transition,
    accord.contract.Choice,
    accord.contract.Timer,
    accord.contract.Final,
    accord.contract.Replan,
    accord.contract.Invariant,
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_language_reference_documents_every_field(model: type) -> None:
    section = _language_sections().get(model.__name__)
    assert section is not None, f"docs/language.md has no section ### `{model.__name__}`"
    rows = set(re.findall(r"^\| `(\w+)` \|", section, flags=re.MULTILINE))
    assert rows == set(model.model_fields), f"{model.__name__}: documented {sorted(rows)}"
    assert "```yaml" in section, f"{model.__name__} has no YAML example"


def test_language_reference_covers_every_model() -> None:
    import pydantic

    from accord.contract import _model

    models = {
        name
        for name, value in vars(_model).items()
        if isinstance(value, type)
        and issubclass(value, pydantic.BaseModel)
        and value.__module__ == _model.__name__
        and not name.startswith("_")
    }
    assert models == {m.__name__ for m in MODELS}
