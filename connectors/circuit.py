"""A circuit breaker per source, so a department whose source fails is not asked again
and again, each read waiting for its timeout, while the others answer on time.

Closed, it counts the reads of the last `window_seconds` and how many failed; when at
least `failures` of them failed and they are at least `failure_rate` of the reads, it
opens. Open, every read fails at once without calling the source, for
`cool_down_seconds`; then it is half-open: one read goes to the source as a probe (the
others still fail fast), and the circuit closes if it answers or opens again if not. A
read still running when the circuit opened counts as a probe: the source answering it
closes the circuit, its failing starts the cool-down again.

Written here rather than taken from a library: purgatory (the maintained asyncio one)
opens on consecutive failures only, lets every read through while half-open and times
with the wall clock; aiobreaker has had no release since 2021; pybreaker's asynchronous
calls need Tornado. This is the monotonic clock and a deque of per-second counts.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from pydantic import BaseModel, ConfigDict, Field


class CircuitOptions(BaseModel):
    """A source's `circuit` option: when its circuit opens, and for how long."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failures: int = Field(default=5, gt=0)
    """The fewest failed reads in the window that open the circuit..."""
    failure_rate: float = Field(default=0.5, gt=0, le=1)
    """...if they are at least this share of the window's reads."""
    window_seconds: float = Field(default=30, gt=0)
    cool_down_seconds: float = Field(default=15, gt=0)
    """How long an open circuit fails reads fast before a probe is let through."""


class CircuitState(IntEnum):
    """The values of the circuit-state metric."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass
class _Second:
    at: int
    reads: int = 0
    failures: int = 0


class Circuit:
    def __init__(
        self, options: CircuitOptions, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.options = options
        self._clock = clock
        self._seconds: deque[_Second] = deque()
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at < self.options.cool_down_seconds:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    def admit(self) -> bool:
        """Whether a read may go to the source now; if it may, its outcome must be
        recorded (`succeeded` or `failed`)."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and not self._probing:
            self._probing = True
            return True
        return False

    def succeeded(self) -> None:
        if self._opened_at is not None:  # the probe answered
            self._close()
            return
        self._now().reads += 1

    def failed(self) -> None:
        if self._opened_at is not None:  # the probe failed: another cool-down
            self._opened_at = self._clock()
            self._probing = False
            return
        second = self._now()
        second.reads += 1
        second.failures += 1
        reads = sum(s.reads for s in self._seconds)
        failures = sum(s.failures for s in self._seconds)
        if failures >= self.options.failures and failures >= self.options.failure_rate * reads:
            self._opened_at = self._clock()

    def abandoned(self) -> None:
        """The admitted read ended neither way (cancelled, refused before any call): a
        probe's turn passes to the next read."""
        self._probing = False

    def _close(self) -> None:
        self._opened_at = None
        self._probing = False
        self._seconds.clear()

    def _now(self) -> _Second:
        """This second's counts, after dropping the seconds that left the window."""
        now = self._clock()
        while self._seconds and self._seconds[0].at <= now - self.options.window_seconds:
            self._seconds.popleft()
        if not self._seconds or self._seconds[-1].at != int(now):
            self._seconds.append(_Second(int(now)))
        return self._seconds[-1]
