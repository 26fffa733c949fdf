"""The throttle's own moving window (counting without Redis): the `limits` library's
answers, with time moved by hand rather than waited for."""

from __future__ import annotations

import pytest
from limits import parse

from throttle import window
from throttle.window import LocalWindows

pytestmark = pytest.mark.anyio

RATE = parse("3/minute")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(window.time, "time", clock)
    return clock


async def test_a_full_window_refuses_until_its_oldest_request_leaves(clock: Clock) -> None:
    windows = LocalWindows()
    for second in range(3):
        clock.now += second
        assert await windows.hit(RATE, "system", "a")
    assert not await windows.hit(RATE, "system", "a")
    assert not await windows.test(RATE, "system", "a")
    stats = await windows.get_window_stats(RATE, "system", "a")
    assert (stats.reset_time, stats.remaining) == (1_000_000.0 + 60, 0)
    clock.now = 1_000_000.0 + 59.5
    assert not await windows.hit(RATE, "system", "a")  # a refusal spends nothing
    clock.now = 1_000_000.0 + 60.5
    assert await windows.test(RATE, "system", "a")
    assert await windows.hit(RATE, "system", "a")
    assert not await windows.hit(RATE, "system", "a")


async def test_holders_and_rates_count_apart(clock: Clock) -> None:
    windows = LocalWindows()
    for _ in range(3):
        assert await windows.hit(RATE, "system", "a")
    assert await windows.hit(RATE, "system", "b")
    assert await windows.hit(parse("4/minute"), "system", "a")
    assert await windows.hit(RATE, "system", "b", cost=2)
    assert not await windows.hit(RATE, "system", "b")


async def test_holders_that_stop_calling_are_forgotten(clock: Clock) -> None:
    windows = LocalWindows()
    for address in ("10.0.0.1", "10.0.0.2"):
        await windows.hit(RATE, "client_address", address)
    clock.now += 61
    await windows.hit(parse("3/hour"), "client_address", "10.0.0.3")
    assert len(windows._windows) == 1
