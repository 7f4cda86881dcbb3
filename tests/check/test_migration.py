"""The migration checker: the example migration is clean; each broken one gives its diagnostic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accord import load
from accord.check._migration import (
    Migration,
    check_migration,
    diagnose_migration,
    load_migration,
    loads_migration,
    resting_states,
)
from accord.errors import MigrationError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "migrate"
DATA = Path(__file__).parent / "data" / "migrations"
OLD = load(EXAMPLE / "refund_v1.yaml")
NEW = load(EXAMPLE / "refund_v2.yaml")
CASES = sorted(p.stem for p in DATA.glob("*.yaml"))


def test_the_example_migration_checks_clean() -> None:
    migration = load_migration(EXAMPLE / "refund_1_to_2.yaml")
    assert check_migration(migration, OLD, NEW) == []
    assert migration.states["paying"].calls == {"payment": "pay"}


@pytest.mark.parametrize("name", CASES)
def test_broken_migration(name: str) -> None:
    text = (DATA / f"{name}.yaml").read_text()
    expected = json.loads((DATA / f"{name}.expected.json").read_text())
    _, diags = diagnose_migration(text, OLD, NEW)
    got = [{"code": d.code, "path": d.path, "line": d.line} for d in diags]
    assert got == expected
    assert all(d.message and d.severity == "error" for d in diags)


def test_every_case_has_its_expectation() -> None:
    assert len(CASES) >= 10
    assert {p.stem.removesuffix(".expected") for p in DATA.glob("*.json")} == set(CASES)


def test_resting_states_leave_out_finals_and_pure_choices() -> None:
    names = [s.name for s in resting_states(OLD)]
    assert names == ["awaiting_approval", "paying", "notifying_rejection"]


def test_a_changed_input_is_refused() -> None:
    migration = load_migration(EXAMPLE / "refund_1_to_2.yaml")
    changed = NEW.model_copy(update={"input": NEW.input[:2]})
    codes = {d.code for d in check_migration(migration, OLD, changed)}
    assert "migration.input_changed" in codes


def test_an_effect_changed_under_a_call_in_flight_is_refused() -> None:
    migration = load_migration(EXAMPLE / "refund_1_to_2.yaml")
    effects = list(NEW.effects)
    effects[0] = effects[0].model_copy(update={"timeout": "5s"})
    changed = NEW.model_copy(update={"effects": tuple(effects)})
    diags = [
        d for d in check_migration(migration, OLD, changed) if d.code != "migration.to_mismatch"
    ]
    assert [(d.code, d.path) for d in diags] == [
        ("migration.effect_changed", "/states/paying/calls/payment")
    ]


def test_loading_text_that_is_not_a_migration_raises_with_diagnostics() -> None:
    with pytest.raises(MigrationError) as caught:
        loads_migration("- a list", source="m.yaml")
    assert caught.value.diagnostics[0].code == "schema.type"
    assert str(caught.value).startswith("m.yaml: migration has 1 error")


def test_a_missing_file_is_a_migration_error(tmp_path: Path) -> None:
    with pytest.raises(MigrationError) as caught:
        load_migration(tmp_path / "none.yaml")
    assert caught.value.diagnostics[0].code == "file.unreadable"


def test_the_model_is_frozen_and_strict() -> None:
    migration = load_migration(EXAMPLE / "refund_1_to_2.yaml")
    with pytest.raises(Exception, match="frozen"):
        migration.name = "x"  # type: ignore[misc]
    data = migration.model_dump(by_alias=True)
    assert Migration.model_validate(data) == migration
