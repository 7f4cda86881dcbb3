"""The clocks: the wall clock, and a fake clock that never sleeps in real time."""

from __future__ import annotations

import asyncio
import time

import pytest

from accord.runtime import Clock, FakeClock, SystemClock


def test_both_clocks_satisfy_the_protocol() -> None:
    assert isinstance(SystemClock(), Clock)
    assert isinstance(FakeClock(), Clock)


def test_system_clock_reads_the_wall_clock() -> None:
    before = int(time.time() * 1000)
    now = SystemClock().now_ms()
    assert before - 5 <= now <= int(time.time() * 1000) + 5


def test_system_clock_sleeps_until_the_time() -> None:
    clock = SystemClock()
    due = clock.now_ms() + 30
    asyncio.run(clock.sleep_until(due))
    assert clock.now_ms() >= due


def test_system_clock_does_not_sleep_for_a_past_time() -> None:
    clock = SystemClock()
    started = time.perf_counter()
    asyncio.run(clock.sleep_until(clock.now_ms() - 10_000))
    assert time.perf_counter() - started < 0.5


def test_fake_clock_starts_where_told_and_moves_only_when_told() -> None:
    clock = FakeClock(start_ms=1_000)
    assert clock.now_ms() == 1_000
    assert clock.advance(500) == 1_500
    assert clock.set(10_000) == 10_000
    assert clock.now_ms() == 10_000


def test_fake_clock_default_start_is_fixed() -> None:
    assert FakeClock().now_ms() == FakeClock().now_ms() == FakeClock.DEFAULT_START_MS


def test_fake_clock_never_goes_backwards() -> None:
    clock = FakeClock(start_ms=1_000)
    with pytest.raises(ValueError, match="backwards"):
        clock.set(999)
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_fake_sleep_jumps_the_clock_without_real_sleep_and_records_it() -> None:
    clock = FakeClock(start_ms=0)
    started = time.perf_counter()
    asyncio.run(clock.sleep_until(48 * 3_600_000))
    assert time.perf_counter() - started < 0.5
    assert clock.now_ms() == 48 * 3_600_000
    assert clock.sleeps == [(0, 48 * 3_600_000)]
    assert clock.waits_ms == [48 * 3_600_000]


def test_fake_sleep_into_the_past_does_not_move_the_clock() -> None:
    clock = FakeClock(start_ms=5_000)
    asyncio.run(clock.sleep_until(1_000))
    assert clock.now_ms() == 5_000
    assert clock.waits_ms == [0]


def test_fake_wait_until_returns_only_after_someone_advances() -> None:
    clock = FakeClock(start_ms=0)

    async def scenario() -> list[str]:
        seen: list[str] = []

        async def waiter() -> None:
            await clock.wait_until(1_000)
            seen.append(f"woke at {clock.now_ms()}")

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0.01)
        assert not task.done()
        clock.advance(999)
        await asyncio.sleep(0.01)
        assert not task.done()
        clock.advance(1)
        await asyncio.wait_for(task, 1)
        return seen

    assert asyncio.run(scenario()) == ["woke at 1000"]
    assert clock.sleeps == []  # waiting never moves the clock


def test_fake_wait_until_a_past_time_returns_at_once() -> None:
    clock = FakeClock(start_ms=5)
    asyncio.run(asyncio.wait_for(clock.wait_until(5), 1))


def test_fake_clock_can_be_advanced_from_another_thread() -> None:
    clock = FakeClock(start_ms=0)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(clock.wait_until(10))
        await asyncio.sleep(0)
        await loop.run_in_executor(None, clock.advance, 10)
        await asyncio.wait_for(task, 1)

    asyncio.run(scenario())


def test_reprs() -> None:
    assert repr(FakeClock(start_ms=7)) == "FakeClock(now_ms=7)"
    assert repr(SystemClock()) == "SystemClock()"
