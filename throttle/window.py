"""Counting in this server's own memory: the moving window of the `limits` library's
MovingWindowRateLimiter, kept in plain deques and decided without awaiting anything.

Why not the library's in-memory storage: for every request it admits it schedules a
clean-up task that hops to a thread once per key it has ever counted, and it inserts
each request at the front of a list — on the path of every request, a task, thread
hops that wait for the GIL back from a busy event loop, and copying that grows with
the rate. Here a request costs a few list operations; expired requests leave their
window when it is next counted, and keys nobody counts any more are swept at most
once per `_SWEEP_SECONDS`.

The answers are the library's: a hit is admitted while fewer than the rate's amount
of requests lie in the window, `test` says whether one more would be, and the window
stats give the oldest request's time plus the window's length as the reset time. It
offers the three methods `Throttle` calls, with the library's signatures, so Redis
(shared counting) and this (local counting) are interchangeable.
"""

from __future__ import annotations

import time
from collections import deque

from limits import RateLimitItem, WindowStats

# How often keys whose whole window has passed are dropped (addresses that stopped
# calling): the memory a server keeps is bounded by the requests of one window.
_SWEEP_SECONDS = 10.0

_Key = tuple[object, ...]


class LocalWindows:
    def __init__(self) -> None:
        self._windows: dict[_Key, deque[float]] = {}
        """Per (amount, window length, holder...): the times of its requests, oldest first."""
        self._swept = time.time()

    async def hit(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        """Spend `cost` requests; False (spending nothing) when the window holds too many."""
        now = time.time()
        window = self._window(item, identifiers, now)
        if len(window) + cost > item.amount:
            return False
        window.extend([now] * cost)
        return True

    async def test(self, item: RateLimitItem, *identifiers: str, cost: int = 1) -> bool:
        """Whether `cost` more requests would be admitted, spending nothing."""
        now = time.time()
        return len(self._window(item, identifiers, now)) <= item.amount - cost

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str) -> WindowStats:
        now = time.time()
        window = self._window(item, identifiers, now)
        start = window[0] if window else now
        return WindowStats(start + item.get_expiry(), item.amount - len(window))

    def _window(
        self, item: RateLimitItem, identifiers: tuple[str, ...], now: float
    ) -> deque[float]:
        """The key's requests still in the window (those older have left it)."""
        if now - self._swept >= _SWEEP_SECONDS:
            self._sweep(now)
        expiry = item.get_expiry()
        key = (item.amount, expiry, *identifiers)
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = deque()
            return window
        cutoff = now - expiry  # a request exactly one window old is still in it
        while window and window[0] < cutoff:
            window.popleft()  # each request leaves once: constant time per request
        return window

    def _sweep(self, now: float) -> None:
        self._swept = now
        for key, window in list(self._windows.items()):
            expiry = key[1]
            assert isinstance(expiry, int | float)
            if not window or window[-1] < now - expiry:
                del self._windows[key]
