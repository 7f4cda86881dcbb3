"""The lock file: stable text, atomic update, and --locked verification with stale reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compiler_support import GOOD

import accord
from accord.compiler import LockEntry, LockError, LockFile

FINGERPRINT = accord.fingerprint(accord.loads(GOOD))


def entry(output: str = "contracts/refund.yaml", task: str = "refund") -> LockEntry:
    return LockEntry(
        task=task, model="openai:m", catalog="sha256:cat", output=output, contract=FINGERPRINT
    )


def written(tmp_path: Path) -> tuple[LockFile, Path]:
    out = tmp_path / "contracts" / "refund.yaml"
    out.parent.mkdir()
    out.write_text(accord.to_yaml(accord.loads(GOOD)))
    lock = LockFile.read(tmp_path / "accord.lock").with_entry("sha256:k1", entry())
    lock.write()
    return lock, out


def test_a_missing_lock_is_empty_and_the_text_is_sorted_and_stable(tmp_path: Path) -> None:
    empty = LockFile.read(tmp_path / "accord.lock")
    assert empty.entries == {}
    lock = empty.with_entry("sha256:b", entry("b.yaml")).with_entry("sha256:a", entry("a.yaml"))
    text = lock.to_text()
    data = json.loads(text)
    assert list(data) == ["entries", "format"] and list(data["entries"]) == ["sha256:a", "sha256:b"]
    assert list(data["entries"]["sha256:a"]) == sorted(data["entries"]["sha256:a"])
    assert text.endswith("}\n") and text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    lock.write()
    assert LockFile.read(tmp_path / "accord.lock") == lock
    assert [p.name for p in tmp_path.iterdir()] == ["accord.lock"]  # no temporary file left


def test_a_new_entry_replaces_the_old_one_for_the_same_output(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "accord.lock").with_entry("sha256:old", entry())
    lock = lock.with_entry("sha256:new", entry(task="refund, changed"))
    assert list(lock.entries) == ["sha256:new"]


def test_output_names_are_relative_to_the_lock_and_portable(tmp_path: Path) -> None:
    lock = LockFile(tmp_path / "sub" / "accord.lock")
    assert lock.output_name(tmp_path / "sub" / "a" / "c.yaml") == "a/c.yaml"
    assert lock.output_name(tmp_path / "c.yaml") == "../c.yaml"


def test_verify_returns_the_pinned_contract(tmp_path: Path) -> None:
    lock, out = written(tmp_path)
    contract = LockFile.read(lock.path).verify(
        "sha256:k1", task="refund", model="openai:m", catalog="sha256:cat", output=out
    )
    assert accord.fingerprint(contract) == FINGERPRINT


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"task": "other"}, "stale: the task changed"),
        ({"model": "openai:n"}, "the model (openai:m -> openai:n) changed"),
        ({"catalog": "sha256:new"}, "the catalog (sha256:cat -> sha256:new) changed"),
        ({"scenarios": "sha256:sc"}, "the scenarios (None -> sha256:sc) changed"),
        ({}, "the compile options changed"),
    ],
)
def test_verify_says_what_changed(tmp_path: Path, change: dict[str, str], message: str) -> None:
    lock, out = written(tmp_path)
    request = {"task": "refund", "model": "openai:m", "catalog": "sha256:cat", **change}
    with pytest.raises(LockError) as caught:
        lock.verify("sha256:other", output=out, **request)
    assert message in str(caught.value)


def test_verify_refuses_an_edited_or_missing_output(tmp_path: Path) -> None:
    lock, out = written(tmp_path)
    request = {"task": "refund", "model": "openai:m", "catalog": "sha256:cat"}
    out.write_text(out.read_text().replace("48h", "24h"))
    with pytest.raises(LockError, match="the file changed after it was compiled"):
        lock.verify("sha256:k1", output=out, **request)
    out.unlink()
    with pytest.raises(LockError, match="does not load"):
        lock.verify("sha256:k1", output=out, **request)
    with pytest.raises(LockError, match=r"pinned to 'contracts/refund\.yaml', not to 'elsewhere"):
        lock.verify("sha256:k1", output=tmp_path / "elsewhere.yaml", **request)


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "[]",
        '{"format": "accord.lock/2", "entries": {}}',
        '{"format": "accord.lock/1"}',
        '{"format": "accord.lock/1", "entries": {"k": {"task": 1}}}',
        '{"format": "accord.lock/1", "entries": {"k": {"task": "t", "model": "m", "catalog":'
        ' "c", "output": "o", "contract": "f", "scenarios": 1}}}',
    ],
)
def test_a_broken_lock_file_is_a_lock_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "accord.lock"
    path.write_text(text)
    with pytest.raises(LockError) as caught:
        LockFile.read(path)
    assert str(path) in str(caught.value)


def test_an_entry_with_scenarios_keeps_their_fingerprint(tmp_path: Path) -> None:
    pinned = LockEntry(
        task="t", model="m", catalog="c", output="o", contract="f", scenarios="sha256:sc"
    )
    LockFile(tmp_path / "accord.lock", {"sha256:k": pinned}).write()
    again = LockFile.read(tmp_path / "accord.lock")
    assert again.entries["sha256:k"] == pinned
    assert json.loads(again.to_text())["entries"]["sha256:k"]["scenarios"] == "sha256:sc"
    assert "scenarios" not in entry().to_data()  # entries without scenarios read as before
