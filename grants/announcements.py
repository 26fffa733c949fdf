"""Tell the platform's other instances that the grants changed, and hear them say so.

One Redis channel per platform (`GOV_SHARE_REDIS_CHANNEL`): whoever changes a grant
publishes the store's new change sequence on it once the change has committed, and
every server reloads its policy when it hears a message. A message is only a nudge:
what a server puts in force is always what it reads from the store itself, and a
server that missed a message (Redis down, a reconnect) finds the change at its next
look at the sequence, within `POLICY_REFRESH_SECONDS`. So Redis being away fails
nothing — a grant is still made, a request still served, a server still starts — and
propagation falls back to polling; the servers say so in /readyz and in their log.

The Redis URL may hold a password: it is never logged, only the kind of error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from redis.exceptions import RedisError

from settings import Settings

logger = logging.getLogger("gov_share.policies")

# A change is committed before it is announced: waiting longer for Redis than this only
# delays the command line that made it.
_TIMEOUT_SECONDS = 2.0
# A subscription with nothing to hear checks its connection this often.
_HEALTH_CHECK_SECONDS = 30


class Announcements:
    def __init__(
        self, url: str, channel: str, *, retry_seconds: float, subject: str = "grant change"
    ) -> None:
        self.url = url
        self.subject = subject
        """What is announced, as the log says it (in the singular)."""
        self.channel = channel
        self.retry_seconds = retry_seconds
        self.listening = False
        """Subscribed now: changes announced reach this server at once."""
        self.problem: str | None = None
        """Why this server is not subscribed, while it is not."""

    @classmethod
    def from_settings(
        cls, settings: Settings, *, topic: str | None = None, subject: str = "grant change"
    ) -> Announcements | None:
        """None without `GOV_SHARE_REDIS_URL`: the servers then find changes by polling.
        The grants' channel is `GOV_SHARE_REDIS_CHANNEL`; another room's `topic` is
        announced on `<channel>:<topic>`."""
        if settings.redis_url is None:
            return None
        channel = settings.redis_channel if topic is None else f"{settings.redis_channel}:{topic}"
        return cls(
            settings.redis_url,
            channel,
            retry_seconds=settings.policy_refresh_seconds,
            subject=subject,
        )

    async def announce(self, sequence: int) -> bool:
        """Publish that the grants are now at `sequence`. False, with a warning, when
        Redis cannot be reached: the change is made all the same, and the servers find
        it by polling. Never raises."""
        try:
            client = redis.from_url(
                self.url, socket_connect_timeout=_TIMEOUT_SECONDS, socket_timeout=_TIMEOUT_SECONDS
            )
            async with client:
                await client.publish(self.channel, str(sequence))
        except (RedisError, OSError) as exc:
            logger.warning(
                f"the {self.subject} was not announced; servers follow it within "
                f"{self.retry_seconds:g} s by polling",
                extra={"error": type(exc).__name__},
            )
            return False
        return True

    async def listen(self, heard: Callable[[], Awaitable[object]]) -> None:
        """Await `heard()` for every message, and once every time the subscription is
        made (what was announced while it was not is lost); runs until cancelled,
        subscribing again `retry_seconds` after a failure."""
        while True:
            try:
                await self._subscribed(heard)
            except Exception as exc:  # whatever it was, polling goes on; try again later
                self._lost(type(exc).__name__)
            await asyncio.sleep(self.retry_seconds)

    async def _subscribed(self, heard: Callable[[], Awaitable[object]]) -> None:
        client = redis.from_url(
            self.url,
            socket_connect_timeout=_TIMEOUT_SECONDS,
            socket_keepalive=True,
            health_check_interval=_HEALTH_CHECK_SECONDS,
        )
        async with client, client.pubsub(ignore_subscribe_messages=True) as pubsub:
            await pubsub.subscribe(self.channel)
            if self.problem is not None:
                logger.info(f"{self.subject}s are announced again")
            self.listening, self.problem = True, None
            await heard()
            async for message in pubsub.listen():
                if message is not None and message.get("type") == "message":
                    await heard()
        self._lost("the subscription ended")

    def _lost(self, error: str) -> None:
        """Said once per outage, not at every attempt to subscribe again."""
        problem = (
            f"{self.subject}s are not announced to this server (Redis: "
            f"{error}); it follows them by polling every {self.retry_seconds:g} s"
        )
        if self.problem != problem:
            logger.warning(problem, extra={"error": error})
        self.listening, self.problem = False, problem
