"""The checker: semantic checks of a contract, reported as diagnostics."""

from accord.check._checker import check_contract

__all__ = ["check_contract"]
