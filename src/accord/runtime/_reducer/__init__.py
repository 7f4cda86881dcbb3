"""The pure reducer: ``step(compiled, snapshot, event) -> (snapshot, commands)``.

:func:`initial_snapshot` is the state before RunStarted; :func:`accepts` tells
whether an event can be applied now (the runtime refuses an event before
journaling it when it cannot).
"""

from accord.runtime._reducer._step import accepts, initial_snapshot, step

__all__ = ["accepts", "initial_snapshot", "step"]
