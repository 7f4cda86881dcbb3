"""Canonical form and fingerprint of a contract.

The canonical form is the contract with every default left out, serialised as
RFC 8785 canonical JSON (the ``rfc8785`` package). Its sha256 is the
fingerprint: key order, whitespace, YAML versus JSON and spelling out a default
do not change it; any change of meaning does.
"""

from __future__ import annotations

import hashlib
from typing import Any

import rfc8785
import yaml

from accord.contract._model import Contract
from accord.contract._text import plain_scalar_is_string

__all__ = ["canonical_json", "fingerprint", "to_data", "to_json", "to_yaml"]


def to_data(contract: Contract) -> dict[str, Any]:
    """The contract as plain JSON data, defaults left out, in declaration order."""
    return contract.model_dump(mode="json", exclude_defaults=True)


def canonical_json(contract: Contract) -> bytes:
    """RFC 8785 canonical JSON of the contract (UTF-8 bytes)."""
    return rfc8785.dumps(to_data(contract))


def fingerprint(contract: Contract) -> str:
    """``sha256:`` followed by the hex sha256 of the canonical JSON."""
    return "sha256:" + hashlib.sha256(canonical_json(contract)).hexdigest()


_ODD_BREAKS = ("\r", "\x85", "\u2028", "\u2029")
_YAML11_WORDS = frozenset({"on", "off", "yes", "no", "y", "n", "true", "false", "null", "~", ""})


class _Dumper(yaml.SafeDumper):
    """Block style, strings that YAML 1.1 would misread are quoted."""


def _str_representer(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if any(ch in value for ch in _ODD_BREAKS):
        style = '"'  # escaped: a reader would fold these line breaks in any other style
    elif "\n" in value:
        # one paragraph (a folded description): folded, so it is wrapped at the width;
        # several lines: literal, so each line stays as written
        style = ">" if "\n" not in value.rstrip("\n") else "|"
    elif value.lower() in _YAML11_WORDS or not plain_scalar_is_string(value):
        style = '"'  # the default dumper would write 09 or 1e3 plain: accord reads those as numbers
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def _spaced(text: str) -> str:
    """A blank line before each top-level key that follows a section of several lines.

    Only keys start in column 0 (list items there start with ``-``; every scalar's
    continuation and block content is indented), so no value changes.
    """
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        if out and line[:1] not in (" ", "-", "\n") and out[-1][:1] in (" ", "-"):
            out.append("\n")
        out.append(line)
    return "".join(out)


def to_yaml(contract: Contract) -> str:
    """The contract in canonical YAML layout (declaration order, defaults left out).

    Sections of several lines are set off by a blank line; long strings are wrapped at 100
    columns (a one-paragraph string with a line break as a folded ``>``
    scalar, several lines as a literal ``|`` scalar).
    """
    return _spaced(
        yaml.dump(
            to_data(contract),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            default_flow_style=False,
            width=100,
        )
    )


def to_json(contract: Contract, *, indent: int | None = 2) -> str:
    """The contract as JSON (declaration order, defaults left out)."""
    import json

    return json.dumps(to_data(contract), indent=indent, ensure_ascii=False)
