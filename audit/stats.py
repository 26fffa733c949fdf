"""What the metrics report of the audit log's writer: how long a record waits from
its making to its commit, and how many records a commit takes (Art. 13). Times and
counts only, never a record's content."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

from histogram import Histogram

LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
"""Upper bounds, in seconds, of the write-lag buckets: a caller waits this long."""
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


@dataclass
class AuditStats:
    """Counted since start-up, for committed batches only: a failed one is logged."""

    lag: Histogram = field(default_factory=lambda: Histogram(LAG_BUCKETS))
    batches: Histogram = field(default_factory=lambda: Histogram(BATCH_BUCKETS))

    def committed(self, occurred: Iterable[datetime.datetime]) -> None:
        """A batch of records made at `occurred` is committed now. Wall-clock times, as
        the records keep them: a clock stepped back counts as no lag, not less."""
        now, size = datetime.datetime.now(datetime.UTC), 0
        for made in occurred:
            self.lag.observe(max((now - made).total_seconds(), 0.0))
            size += 1
        self.batches.observe(size)
