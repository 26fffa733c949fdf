"""A histogram kept as plain counts, for the metrics to read at a scrape: the rooms
that count (a source's reads, the audit log's commits) need no metrics library."""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Histogram:
    bounds: tuple[float, ...]
    """Upper bounds of the buckets, ascending; one more bucket holds what is past them."""
    counts: list[int] = field(init=False)
    """Observations per bucket (not cumulative)."""
    sum: float = 0.0

    def __post_init__(self) -> None:
        self.counts = [0] * (len(self.bounds) + 1)

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    def buckets(self) -> Iterator[tuple[str, float]]:
        """Prometheus's buckets: cumulative counts by upper bound, `+Inf` last."""
        bounds = (*self.bounds, math.inf)
        cumulative = itertools.accumulate(self.counts)
        for bound, count in zip(bounds, cumulative, strict=True):
            yield ("+Inf" if bound == math.inf else str(bound)), float(count)
