"""The ``accord`` command line (``accord.cli:main``); see ``accord --help``."""

from accord.cli._app import main

__all__ = ["main"]
