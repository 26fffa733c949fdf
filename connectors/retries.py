"""Retries of a source's reads, within a budget, as gRPC's and Finagle's retry budgets.

A read is idempotent, so one that failed transiently (`SourceFailure.TRANSIENT`: a
connection lost or reset, a busy gateway) is tried again, up to `most` more times,
after a backoff of up to `backoff_seconds`, doubled each time, with full jitter (so
reads that failed together do not come back together). A timeout is never retried: it
used the read's time. Nor is an error or a refusal: it would come back.

Retries of a source are capped at `budget` times its reads of the last
`window_seconds`, plus `reserve` for a source read rarely. So a source that fails
every read gets a tenth more calls (by default), never three times as many.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field


class RetryOptions(BaseModel):
    """A source's `retries` option."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    most: int = Field(default=2, ge=0)
    """The most retries of one read; 0 never retries."""
    budget: float = Field(default=0.1, ge=0, le=1)
    """Retries of the source, as a share of its reads in the window..."""
    reserve: int = Field(default=3, ge=0)
    """...plus these, in any window."""
    window_seconds: float = Field(default=10, gt=0)
    backoff_seconds: float = Field(default=0.05, ge=0)
    """The longest wait before the first retry; it doubles for each next one."""


class RetryBudget:
    def __init__(self, options: RetryOptions, clock: Callable[[], float] = time.monotonic) -> None:
        self.options = options
        self._clock = clock
        self._reads: deque[float] = deque()
        self._retries: deque[float] = deque()

    def read(self) -> None:
        """Count a read (not a retry) of the source."""
        self._reads.append(self._clock())

    def withdraw(self) -> bool:
        """Whether one more retry is within the budget; if it is, it is counted."""
        now = self._clock()
        for times in (self._reads, self._retries):
            while times and times[0] <= now - self.options.window_seconds:
                times.popleft()
        allowed = self.options.budget * len(self._reads) + self.options.reserve
        if len(self._retries) + 1 > allowed:
            return False
        self._retries.append(now)
        return True

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1, 2, …): full jitter."""
        return random.uniform(0, self.options.backoff_seconds * 2 ** (retry - 1))
