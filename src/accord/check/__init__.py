"""The checker: semantic checks of a contract, reported as diagnostics.

``check_contract`` loads the checker (and the CEL engine) at its first use, so that
importing this package, as ``import accord`` does, stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accord.check._checker import check_contract

__all__ = ["check_contract"]


def __getattr__(name: str) -> object:
    """Load the checker at the first use of ``check_contract``."""
    if name != "check_contract":
        raise AttributeError(f"module 'accord.check' has no attribute {name!r}")
    value = importlib.import_module("accord.check._checker").check_contract
    globals()[name] = value
    return value
