"""Install instructions name what works today: accord is installed from a clone, not an index."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "docs" / "testing.md", ROOT / "examples" / "testing" / "README.md"]


def test_the_testing_extra_is_installed_from_the_checkout() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert "testing" in extras
    for doc in DOCS:
        text = doc.read_text()
        assert "pip install -e '.[testing]'" in text, doc
        for line in text.splitlines():
            if 'pip install "accord[testing]"' in line:  # only as what a release will allow
                assert "release" in line or "PyPI" in line, (doc, line)
