"""Counting requests against the rates, shared by every server through Redis.

With `GOV_SHARE_REDIS_URL` every server counts in Redis, so a system's rate is one
budget however many servers answer it; without it each server counts in its own
memory. If Redis goes away while the platform runs, each server goes on counting in
its own memory — a system may then get its rate from each server — rather than refuse
everyone or admit everyone; it says so (`problem`, read by /readyz and /metrics) and
counts in Redis again once Redis answers. The counting is the `limits` library's
moving window: a caller refused learns exactly when its oldest request in the window
leaves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import redis.asyncio as redis
from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from throttle.rates import Rates
from throttle.window import LocalWindows

logger = logging.getLogger("gov_share.throttle")

# A request waits at most this long for Redis before it is counted here instead.
_TIMEOUT_SECONDS = 0.5
# How often a server asks whether Redis answers: it finds Redis gone while idle, and
# back within this time.
_CHECK_SECONDS = 1.0

T = TypeVar("T")

# Redis through the library, or this server's memory: the same three calls.
Tally = MovingWindowRateLimiter | LocalWindows


class Limit(StrEnum):
    """Which budget refused a request: what /metrics counts refusals by."""

    SYSTEM = "system"
    DEPARTMENT = "department"
    CLIENT_ADDRESS = "client_address"
    PUBLIC = "public"


class Counting(StrEnum):
    """Where requests are counted: what /readyz reports."""

    LOCAL = "local"
    """No Redis is configured: each server counts its own requests."""
    SHARED = "shared"
    """In Redis, one budget for every server."""
    LOCAL_FALLBACK = "local_fallback"
    """Redis is configured but does not answer: each server counts its own meanwhile."""


@dataclass(frozen=True)
class Refusal:
    limit: Limit
    rate: RateLimitItem
    retry_after: int
    """Whole seconds until the budget admits one more request (at least 1)."""


class Throttle:
    def __init__(self, rates: Rates, *, redis_url: str | None = None, prefix: str) -> None:
        self.rates = rates
        self.refusals: Counter[Limit] = Counter()
        self.problem: str | None = None
        """Why requests are counted by this server alone although Redis is configured."""
        self._local = LocalWindows()
        self._pool: redis.ConnectionPool | None = None
        self._shared: MovingWindowRateLimiter | None = None
        if redis_url is not None:
            # The platform's own pool: no retries (a request falls back at once), and
            # closed with the server.
            self._pool = redis.ConnectionPool.from_url(
                redis_url,
                socket_connect_timeout=_TIMEOUT_SECONDS,
                socket_timeout=_TIMEOUT_SECONDS,
            )
            storage = RedisStorage(
                "async+redis://",
                implementation="redispy",
                key_prefix=prefix,
                # a documented option of the library, typed there too narrowly
                connection_pool=self._pool,  # type: ignore[arg-type]
            )
            self._shared = MovingWindowRateLimiter(storage)
        self._checker: asyncio.Task[None] | None = None

    @property
    def counting(self) -> Counting:
        if self._shared is None:
            return Counting.LOCAL
        return Counting.SHARED if self.problem is None else Counting.LOCAL_FALLBACK

    async def start(self) -> None:
        if self._pool is not None:
            client = redis.Redis(connection_pool=self._pool)
            self._checker = asyncio.create_task(self._check(client), name="throttle-check")

    async def close(self) -> None:
        if self._checker is not None:
            self._checker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._checker
        if self._pool is not None:
            await self._pool.aclose()

    async def admit(self, department: str, system: str) -> Refusal | None:
        """Spend one request of the system's budget, then one of its department's; the
        first that is spent refuses the request (and spends nothing of the next)."""
        budgets = (
            (Limit.SYSTEM, self.rates.of_system(department, system), (department, system)),
            (Limit.DEPARTMENT, self.rates.of_department(department), (department,)),
        )
        for limit, rate, holder in budgets:
            key = (limit.value, *holder)
            if not await self._hit(rate, key):
                return await self._refused(limit, rate, key)
        return None

    async def admit_public(self, address: str) -> Refusal | None:
        """Spend one request of the public's budget at `address`."""
        rate, key = self.rates.public, (Limit.PUBLIC.value, address)
        if await self._hit(rate, key):
            return None
        return await self._refused(Limit.PUBLIC, rate, key)

    async def may_authenticate(self, address: str) -> Refusal | None:
        """Whether a credential from `address` may be checked at all: once the address
        has failed its rate of authentications, every credential it sends is refused
        unchecked — a right key would otherwise still tell itself apart — until the
        window moves on. Other addresses are not affected."""
        rate, key = self.rates.auth_failures, (Limit.CLIENT_ADDRESS.value, address)
        if await self._test(rate, key):
            return None
        return await self._refused(Limit.CLIENT_ADDRESS, rate, key)

    async def failed_authentication(self, address: str) -> None:
        await self._hit(self.rates.auth_failures, (Limit.CLIENT_ADDRESS.value, address))

    async def _refused(self, limit: Limit, rate: RateLimitItem, key: tuple[str, ...]) -> Refusal:
        self.refusals[limit] += 1
        window = await self._counted(lambda counter: counter.get_window_stats(rate, *key))
        return Refusal(limit, rate, max(1, math.ceil(window.reset_time - time.time())))

    async def _hit(self, rate: RateLimitItem, key: tuple[str, ...]) -> bool:
        """Spend one request; False when the window holds the rate already."""
        return await self._counted(lambda counter: counter.hit(rate, *key))

    async def _test(self, rate: RateLimitItem, key: tuple[str, ...]) -> bool:
        """Whether one more request would be admitted, spending nothing."""
        return await self._counted(lambda counter: counter.test(rate, *key))

    async def _counted(self, count: Callable[[Tally], Awaitable[T]]) -> T:
        """`count` in Redis while it answers, here otherwise."""
        if self._shared is not None and self.problem is None:
            try:
                return await count(self._shared)
            except (RedisError, OSError) as exc:
                self._lost(type(exc).__name__)
        return await count(self._local)

    async def _check(self, client: redis.Redis) -> None:
        while True:
            try:
                await client.ping()
            except (RedisError, OSError) as exc:
                self._lost(type(exc).__name__)
            else:
                if self.problem is not None:
                    self.problem = None
                    logger.info("rate limits are shared by every server again")
            await asyncio.sleep(_CHECK_SECONDS)

    def _lost(self, error: str) -> None:
        """Said once per outage. The Redis URL may hold a password: never logged."""
        if self.problem is None:
            logger.warning(
                "rate limits are counted by each server alone: Redis does not answer",
                extra={"error": error},
            )
        self.problem = (
            f"rate limits are counted by this server alone (Redis: {error}): each server "
            "admits a caller's full rate until Redis answers again"
        )
