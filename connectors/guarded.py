"""Every source's connector, whatever its kind, wrapped once (`SourceKinds.open`) so
that one slow or dead department never stalls the rest:

- a read (or count) takes at most the source's `timeout_seconds`, retries and their
  backoff included, whatever the connector does;
- a transient failure is retried within the source's budget (`retries.py`);
- a source that keeps failing has its circuit opened (`circuit.py`): its reads fail
  fast, SOURCE_UNAVAILABLE without a call, until a probe finds it answering.

What it counts (`SourceStats`) is for the metrics: times, and failures by kind, per
source, never a value read or who read it.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from connectors.base import Connector, Read, ReadContext, Row
from connectors.capabilities import Capabilities
from connectors.circuit import Circuit, CircuitOptions, CircuitState
from connectors.retries import RetryBudget, RetryOptions
from connectors.updates import Dated, UpdateSign
from errors import SourceFailure, SourceUnavailable
from histogram import Histogram

logger = logging.getLogger("gov_share.connectors")
Answer = TypeVar("Answer")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
"""Upper bounds, in seconds, of the read-latency histogram's buckets (Prometheus's)."""


@dataclass
class SourceStats:
    """What the metrics of one source report, counted since start-up."""

    latency: Histogram = field(default_factory=lambda: Histogram(LATENCY_BUCKETS))
    failures: Counter[SourceFailure] = field(default_factory=Counter)
    calls: int = 0
    """Calls made to the source: reads, counts and their retries."""
    retries: int = 0

    def took(self, seconds: float) -> None:
        self.latency.observe(seconds)


class GuardedConnector:
    """A source's connector behind its timeout, retry budget and circuit breaker."""

    def __init__(
        self,
        source: Connector,
        *,
        timeout_seconds: float,
        circuit: CircuitOptions,
        retries: RetryOptions,
    ) -> None:
        self.source = source
        """The kind's own connector."""
        self.timeout_seconds = timeout_seconds
        self.circuit = Circuit(circuit)
        self.budget = RetryBudget(retries)
        self.stats = SourceStats()

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def capabilities(self) -> Capabilities:
        return self.source.capabilities

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        return await self._guarded(lambda: self.source.read(read, context))

    async def count(self, read: Read, context: ReadContext) -> list[int]:
        return await self._guarded(lambda: self.source.count(read, context))

    async def ping(self) -> None:
        """Whether the source answers; an open circuit says it does not, without a
        call. A ping is not a read: it neither opens nor closes the circuit."""
        if self.circuit.state is CircuitState.OPEN:
            raise self._circuit_open()
        await self.source.ping()

    async def last_update(self, sign: UpdateSign) -> datetime.datetime | None:
        """When a resource was last updated, if the kind's connector can tell (`Dated`).
        Like a ping, not a read: an open circuit answers for the source without a call,
        and the answer neither opens nor closes the circuit."""
        if not isinstance(self.source, Dated):
            return None
        if self.circuit.state is CircuitState.OPEN:
            raise self._circuit_open()
        return await self.source.last_update(sign)

    async def close(self) -> None:
        await self.source.close()

    async def _guarded(self, call: Callable[[], Awaitable[Answer]]) -> Answer:
        if not self.circuit.admit():
            self.stats.failures[SourceFailure.CIRCUIT_OPEN] += 1
            raise self._circuit_open()
        started = time.monotonic()
        self.budget.read()
        try:
            async with asyncio.timeout(self.timeout_seconds):
                answer = await self._tried(call)
        except TimeoutError:
            logger.warning("source unavailable", extra={"source": self.name, "failure": "timeout"})
            failed = SourceUnavailable(
                f"source {self.name} is unavailable",
                source=self.name,
                failure=SourceFailure.TIMEOUT,
            )
            self._failed(failed, started)
            raise failed from None
        except SourceUnavailable as unavailable:
            self._failed(unavailable, started)
            raise
        except BaseException:  # refused before any call, cancelled, or a defect
            self.circuit.abandoned()
            raise
        probed = self.circuit.state is not CircuitState.CLOSED
        self.circuit.succeeded()
        if probed:
            logger.warning("source circuit closed", extra={"source": self.name})
        self.stats.took(time.monotonic() - started)
        return answer

    async def _tried(self, call: Callable[[], Awaitable[Answer]]) -> Answer:
        retry = 0
        while True:
            self.stats.calls += 1
            try:
                return await call()
            except SourceUnavailable as unavailable:
                transient = unavailable.failure is SourceFailure.TRANSIENT
                if not transient or retry >= self.budget.options.most:
                    raise
                if not self.budget.withdraw():
                    raise
            retry += 1
            self.stats.retries += 1
            await asyncio.sleep(self.budget.backoff(retry))

    def _failed(self, unavailable: SourceUnavailable, started: float) -> None:
        was_closed = self.circuit.state is CircuitState.CLOSED
        self.circuit.failed()
        if was_closed and self.circuit.state is CircuitState.OPEN:
            logger.warning("source circuit opened", extra={"source": self.name})
        self.stats.took(time.monotonic() - started)
        self.stats.failures[unavailable.failure] += 1

    def _circuit_open(self) -> SourceUnavailable:
        return SourceUnavailable(
            f"source {self.name} is unavailable: it failed repeatedly, and is not asked "
            "again for a while",
            source=self.name,
            failure=SourceFailure.CIRCUIT_OPEN,
        )
