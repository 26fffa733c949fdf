"""Registered documents in Redis, shared by every instance of the platform, when
`GOV_SHARE_REDIS_URL` is set.

The store stays the truth: a document is put here once read from the store or
registered, and what is found here is what the store holds (documents never change).
Redis away is never an error: a lookup then goes to the store, and the first failure
of an outage is logged (the kind of error, never the URL, which may hold a password).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

logger = logging.getLogger("gov_share.documents")

_TIMEOUT_SECONDS = 0.5
"""A lookup waits no longer than this for Redis before asking the store."""
KEPT_SECONDS = 24 * 3600
"""How long Redis keeps a document nobody asked for."""


class SharedCache:
    def __init__(self, url: str, prefix: str) -> None:
        self.prefix = prefix
        self.client = redis.from_url(
            url, socket_connect_timeout=_TIMEOUT_SECONDS, socket_timeout=_TIMEOUT_SECONDS
        )
        self.failing = False

    async def get(self, key: str) -> dict[str, Any] | None:
        try:
            found = await self.client.get(f"{self.prefix}{key}")
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return None
        self.failing = False
        return json.loads(found) if found is not None else None

    async def put(self, key: str, value: dict[str, Any]) -> None:
        try:
            await self.client.set(f"{self.prefix}{key}", json.dumps(value), ex=KEPT_SECONDS)
        except (RedisError, OSError) as exc:
            self._failed(exc)

    async def close(self) -> None:
        await self.client.aclose()

    def _failed(self, exc: Exception) -> None:
        if not self.failing:
            logger.warning(
                "registered documents are read from the store: Redis does not answer",
                extra={"error": type(exc).__name__},
            )
        self.failing = True
