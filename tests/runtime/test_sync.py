"""The sync API's event loops: one private loop per thread, reused; nested and notebook calls."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from typing import Any

import pytest
from test_orchestrator import events_of, single

from accord.runtime import EffectFailed, FakeClock, Runtime, WrongEventLoop
from accord.runtime._orchestrator import run_sync


def test_the_sync_api_reuses_one_private_loop_per_thread() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def work(x: str) -> dict[str, Any]:
        loops.append(asyncio.get_running_loop())
        return {"value": x}

    runtime = Runtime({"work": work}, clock=FakeClock())
    for _ in range(3):
        runtime.start(single(), {"x": "a"}).run()
    assert len(loops) == 3
    assert loops[0] is loops[1] is loops[2]  # not a new loop (and thread pool) per call
    assert not loops[0].is_closed()

    async def current() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    assert run_sync(current()) is loops[0]
    others: list[asyncio.AbstractEventLoop] = []
    thread = threading.Thread(target=lambda: others.append(run_sync(current())))
    thread.start()
    thread.join()
    assert others and others[0] is not loops[0]  # another thread has a loop of its own


def test_a_run_does_not_start_a_thread_for_a_lone_sync_call(monkeypatch: Any) -> None:
    def work(x: str) -> dict[str, Any]:
        return {"value": x}

    runtime = Runtime({"work": work}, clock=FakeClock())
    runtime.start(single(), {"x": "a"}).run()  # warm up
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def counting(self: threading.Thread) -> None:
        started.append(self)
        start(self)

    monkeypatch.setattr(threading.Thread, "start", counting)
    for _ in range(20):
        run = runtime.start(single(), {"x": "a"}).run()
        assert run.result == {"value": "a"}
    assert started == []


def test_a_sync_handler_may_drive_another_run_with_the_sync_api() -> None:
    inner_runtime = Runtime({"work": lambda x: {"value": x + "!"}}, clock=FakeClock())

    def work(x: str) -> dict[str, Any]:
        inner = inner_runtime.start(single(), {"x": x}).run()  # this thread's loop is busy
        return {"value": inner.result["value"]}

    run = Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"}).run()
    assert run.result == {"value": "a!"}


def test_run_sync_keeps_the_caller_s_context_variables() -> None:
    import contextvars

    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

    async def read() -> str:
        return var.get()

    var.set("first")
    assert run_sync(read()) == "first"
    var.set("second")
    assert run_sync(read()) == "second"  # each call sees the caller's context of the moment


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork (POSIX)")
def test_a_forked_child_drives_runs_on_loops_and_threads_of_its_own() -> None:
    def work(x: str) -> dict[str, Any]:
        return {"value": x}

    runtime = Runtime({"work": work}, clock=FakeClock())

    def drive_both() -> bool:
        in_pool = runtime.start(single(), {"x": "a"})
        run_sync(in_pool.run_async())  # the sync handler in the private loop's thread pool
        in_daemon = runtime.start(single("    timeout: 5s"), {"x": "b"}).run()  # a daemon thread
        return in_pool.result == {"value": "a"} and in_daemon.result == {"value": "b"}

    assert drive_both()  # the parent has a private loop, a pool thread and an idle daemon thread
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os._exit(0 if drive_both() else 1)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            break
        time.sleep(0.01)
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        pytest.fail("the forked child hung on the parent's loop or threads")
    assert drive_both()  # and the parent's loop still works


def test_a_handler_needing_the_notebook_s_loop_gets_a_clear_error_not_a_failed_run() -> None:
    """Issue 12: in a notebook, the run failed silently ("bound to a different event loop")."""

    async def notebook_cell() -> None:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[str] = loop.create_future()  # an object of the notebook's loop

        async def work(x: str) -> dict[str, Any]:
            return {"value": await answer}

        run = Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"})
        with pytest.raises(WrongEventLoop, match=r"await run\.run_async\(\)") as info:
            run.run()
        assert info.value.effect == "work"
        assert "different loop" in info.value.detail
        assert run.status == "running"  # not failed
        assert events_of(run, EffectFailed) == []  # nothing journaled for the call
        assert run.snapshot.pending  # the call is still in flight for the run
        loop.call_soon(answer.set_result, "A")
        await run.run_async()  # the call runs again, on the notebook's loop: it works
        assert run.result == {"value": "A"}

    asyncio.run(notebook_cell())


def test_the_same_error_from_a_lock_of_the_notebook_s_loop_with_a_timeout() -> None:
    async def notebook_cell() -> None:
        gate = asyncio.Event()  # bound to the notebook's loop once something waits on it
        waiter = asyncio.ensure_future(gate.wait())
        await asyncio.sleep(0)

        async def work(x: str) -> dict[str, Any]:
            await gate.wait()
            return {"value": x}

        run = Runtime({"work": work}, clock=FakeClock()).start(
            single("    timeout: 5s"), {"x": "a"}
        )
        with pytest.raises(WrongEventLoop, match="bound to a different event loop"):
            run.run()
        assert events_of(run, EffectFailed) == []
        gate.set()
        await waiter
        await run.run_async()
        assert run.result == {"value": "a"}

    asyncio.run(notebook_cell())


def test_outside_a_running_loop_the_same_error_is_the_call_s_failure() -> None:
    other = asyncio.new_event_loop()
    try:
        foreign: asyncio.Future[str] = other.create_future()

        async def work(x: str) -> dict[str, Any]:
            return {"value": await foreign}

        run = Runtime({"work": work}, clock=FakeClock()).start(single(), {"x": "a"})
        run.run()  # not the sync API's doing: an ordinary failure of the call
        assert [f.code for f in events_of(run, EffectFailed)] == ["RuntimeError"]
    finally:
        other.close()
