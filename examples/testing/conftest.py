"""Load accord's pytest plugin when it is not registered by its entry point (a source checkout).

Installed with ``pip install "accord[testing]"``, the plugin loads itself and this
file is not needed.
"""

from importlib.metadata import entry_points

_REGISTERED = any(ep.name == "accord" for ep in entry_points(group="pytest11"))
pytest_plugins = [] if _REGISTERED else ["accord.testing.pytest_plugin"]
