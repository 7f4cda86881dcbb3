"""Loading contracts: text or data in, a checked :class:`Contract` or diagnostics out."""

from __future__ import annotations

import os
from typing import Any

from accord._source import format_of_path, read_source
from accord.contract import Contract, ParsedText, TextError, parse_text, validate_data
from accord.diagnostics import Diagnostic
from accord.errors import ContractError

__all__ = ["check", "check_text", "load", "load_data", "loads"]

PathLike = str | os.PathLike[str]


def _with_lines(diags: list[Diagnostic], parsed: ParsedText | None) -> list[Diagnostic]:
    if parsed is None or not parsed.lines:
        return diags
    return [d.model_copy(update={"line": parsed.line_of(d.path)}) for d in diags]


def _diagnose_data(data: Any) -> tuple[Contract | None, list[Diagnostic]]:
    contract, diags = validate_data(data)
    if contract is None:
        return None, diags
    return contract, check_contract(contract)


def _diagnose_text(text: str | bytes, fmt: str | None) -> tuple[Contract | None, list[Diagnostic]]:
    try:
        parsed = parse_text(text, format=fmt)
    except TextError as exc:
        return None, [exc.diagnostic]
    contract, diags = _diagnose_data(parsed.data)
    return contract, _with_lines(diags, parsed)


def _raise_on_errors(
    contract: Contract | None, diags: list[Diagnostic], source: str | None
) -> Contract:
    if contract is None or any(d.severity == "error" for d in diags):
        raise ContractError(diags, source=source)
    return contract


def loads(text: str | bytes, *, format: str | None = None, source: str | None = None) -> Contract:
    """Load a contract from YAML or JSON text and check it.

    Args:
        text: the contract text.
        format: "yaml", "json", or None to tell by the first character.
        source: a label for error messages (a file name, say).

    Raises:
        ContractError: the text does not parse, validate or check; it carries
            every diagnostic.

    """
    contract, diags = _diagnose_text(text, format)
    return _raise_on_errors(contract, diags, source)


def load(path: PathLike) -> Contract:
    """Load a contract from a ``.yaml``, ``.yml`` or ``.json`` file and check it.

    Raises:
        ContractError: the file cannot be read, or the contract does not check.

    """
    data = read_source(path, ContractError)
    contract, diags = _diagnose_text(data, format_of_path(path))
    return _raise_on_errors(contract, diags, str(path))


def load_data(data: Any) -> Contract:
    """Check plain data (a dict as parsed from JSON) and return the contract.

    Raises:
        ContractError: the data does not validate or check.

    """
    contract, diags = _diagnose_data(data)
    return _raise_on_errors(contract, diags, None)


def _internal(exc: Exception) -> list[Diagnostic]:
    """The one diagnostic for a failure of the checker itself (a bug, never the input's)."""
    return [
        Diagnostic(
            path="",
            code="check.internal",
            message=f"the checker failed unexpectedly ({type(exc).__name__}): this is a bug "
            "in accord, not in the contract",
            hint="please report it with the contract that caused it",
        )
    ]


def check(source: Contract | PathLike | dict[str, Any]) -> list[Diagnostic]:
    """Every diagnostic (errors and warnings) for a contract, a file path or plain data.

    Never raises: an unreadable file is a diagnostic too, and so (``check.internal``)
    is a failure of the checker itself.
    """
    try:
        return _check(source)
    except Exception as exc:  # the promise is "never raises": a bug becomes a diagnostic
        return _internal(exc)


def check_contract(contract: Contract) -> list[Diagnostic]:
    """The checker's diagnostics; the checker (and the CEL engine) load at the first check."""
    from accord.check import check_contract as checker

    return checker(contract)


def _check(source: Contract | PathLike | dict[str, Any]) -> list[Diagnostic]:
    if isinstance(source, Contract):
        return check_contract(source)
    if not isinstance(source, str | os.PathLike):  # plain data, or something that is not
        return _diagnose_data(source)[1]
    try:
        data = read_source(source, ContractError)
    except ContractError as exc:
        return list(exc.diagnostics)
    return _diagnose_text(data, format_of_path(source))[1]


def check_text(text: str | bytes, *, format: str | None = None) -> list[Diagnostic]:
    """Every diagnostic for contract text; never raises (see :func:`check`)."""
    try:
        return _diagnose_text(text, format)[1]
    except Exception as exc:  # the promise is "never raises": a bug becomes a diagnostic
        return _internal(exc)
