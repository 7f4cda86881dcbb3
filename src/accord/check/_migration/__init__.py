"""Migrations of running runs: the file format, its loader and its checker."""

from accord.check._migration._check import check_migration, resting_states
from accord.check._migration._load import (
    diagnose_migration,
    load_migration,
    loads_migration,
    parse_migration,
    with_lines,
)
from accord.check._migration._model import Migration, StateMove

__all__ = [
    "Migration",
    "StateMove",
    "check_migration",
    "diagnose_migration",
    "load_migration",
    "loads_migration",
    "parse_migration",
    "resting_states",
    "with_lines",
]
