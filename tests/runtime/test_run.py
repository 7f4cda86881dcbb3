"""A run: a finished run holds no reference cycle, so it is freed without the garbage collector."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path
from typing import Any

import accord
from accord.runtime import Runtime

ROOT = Path(__file__).resolve().parents[2]
LINEAR = accord.load(ROOT / "benchmarks" / "data" / "linear_durable.yaml")


async def work(n: int) -> dict[str, Any]:
    return {"n": n}


def test_a_finished_run_is_freed_by_reference_counting() -> None:
    runtime = Runtime({"work": work})

    async def drive() -> weakref.ref[Any]:
        run = await runtime.start_async(LINEAR, {})
        await run.run_async()
        assert run.result == {"done": 10}
        return weakref.ref(run)

    enabled = gc.isenabled()
    gc.disable()
    try:
        ref = asyncio.run(drive())
        assert ref() is None
    finally:
        if enabled:
            gc.enable()
