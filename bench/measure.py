"""Time the variants at one (N, concurrency): warm up, then closed-loop runs in turns."""

from __future__ import annotations

import asyncio
import gc
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol


class Variant(Protocol):
    name: str

    @property
    def statements(self) -> int:
        """Backend statements sent so far (a running total)."""

    async def run(self, n: int) -> dict[str, Any]: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Stats:
    requests: int
    elapsed: float
    latencies: tuple[float, ...]
    statements: int
    store_statements: int | None = None
    cpu: float = 0.0
    """CPU seconds (all threads) of the process measured while the requests ran."""

    @property
    def rate(self) -> float:
        return self.requests / self.elapsed

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile, in milliseconds."""
        ordered = sorted(self.latencies)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1] * 1000

    @property
    def per_request(self) -> float:
        return self.statements / self.requests

    @property
    def cpu_per_request(self) -> float:
        """Milliseconds: what a request cost the process, apart from time spent waiting."""
        return self.cpu / self.requests * 1000


@dataclass(frozen=True)
class Budget:
    seconds: float
    """Timed seconds per variant and cell, split over the rounds."""
    warmup: int
    min_requests: int
    """Timed requests per variant and cell at least, split over the rounds."""
    rounds: int
    """Variants take turns this many times, so drift on a shared machine hits all alike."""


async def measure(
    variants: Mapping[str, Variant],
    n: int,
    concurrency: int,
    budget: Budget,
    *,
    palindrome: bool = False,
    cpu: Callable[[], float] = time.process_time,
) -> dict[str, Stats]:
    """Warm every variant up, then time them in turns; returns each one's merged stats.

    `cpu` is the CPU clock read around each turn: this process's, or that of a server
    process the variants call (bench/servers.py). With `palindrome`, every other round
    takes the variants in reverse order (A B, B A, A B, ...), so with an even number of
    rounds a steady drift favours none of them."""
    for variant in variants.values():
        # whole rounds at full concurrency, so connection pools have grown before timing
        for _ in range(max(1, math.ceil(budget.warmup / concurrency))):
            await asyncio.gather(*(variant.run(n) for _ in range(concurrency)))
    seconds = budget.seconds / budget.rounds
    at_least = math.ceil(budget.min_requests / budget.rounds)
    parts: dict[str, list[Stats]] = {key: [] for key in variants}
    for round_ in range(budget.rounds):
        turns = list(variants.items())
        if palindrome and round_ % 2:
            turns.reverse()
        for key, variant in turns:
            parts[key].append(await _timed(variant, n, concurrency, seconds, at_least, cpu))
    return {key: _merged(stats) for key, stats in parts.items()}


async def _timed(
    variant: Variant,
    n: int,
    concurrency: int,
    seconds: float,
    at_least: int,
    cpu_clock: Callable[[], float],
) -> Stats:
    """Closed loop: `concurrency` tasks each send the next request when one returns."""
    gc.collect()
    statements = variant.statements
    store = getattr(variant, "store_statements", None)
    latencies: list[float] = []
    cpu = cpu_clock()
    started = time.perf_counter()
    deadline = started + seconds
    issued = 0

    async def worker() -> None:
        nonlocal issued
        while time.perf_counter() < deadline or issued < at_least:
            issued += 1
            began = time.perf_counter()
            await variant.run(n)
            latencies.append(time.perf_counter() - began)

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    cpu = cpu_clock() - cpu
    store_after = getattr(variant, "store_statements", None)
    return Stats(
        requests=len(latencies),
        elapsed=elapsed,
        latencies=tuple(latencies),
        statements=variant.statements - statements,
        store_statements=None if store is None or store_after is None else store_after - store,
        cpu=cpu,
    )


def _merged(parts: list[Stats]) -> Stats:
    stores = [part.store_statements for part in parts]
    return Stats(
        requests=sum(part.requests for part in parts),
        elapsed=sum(part.elapsed for part in parts),
        latencies=tuple(latency for part in parts for latency in part.latencies),
        statements=sum(part.statements for part in parts),
        store_statements=None if None in stores else sum(s or 0 for s in stores),
        cpu=sum(part.cpu for part in parts),
    )
