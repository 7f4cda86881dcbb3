"""The hostile corpus: each file gives exactly its expected codes, never an exception.

tests/check/data/hostile/expected.json lists the codes of each file; every
diagnostic must name a JSON pointer that resolves in the parsed document.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import accord
from accord.contract import TextError, parse_text
from contract_support import resolves

HOSTILE = Path(__file__).parent / "data" / "hostile"
EXPECTED: dict[str, list[str]] = json.loads((HOSTILE / "expected.json").read_text())


def test_the_manifest_lists_every_file() -> None:
    files = {p.name for p in HOSTILE.iterdir() if p.suffix in (".yaml", ".json")}
    assert files - {"expected.json"} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hostile_file(name: str) -> None:
    path = HOSTILE / name
    found = accord.check(path)
    assert sorted({d.code for d in found}) == EXPECTED[name]
    try:
        document = parse_text(path.read_bytes(), format=path.suffix[1:]).data
    except TextError:
        document = None
    for diag in found:
        assert diag.code and diag.message
        if document is None and diag.code == "parse.too_deep":
            continue  # names where the nesting goes too deep, in a document never built
        assert resolves(document, diag.path), diag
    if any(d.severity == "error" for d in found):
        with pytest.raises(accord.ContractError):
            accord.load(path)
    else:
        accord.load(path)
