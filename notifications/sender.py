"""The notifier: while the server runs, it makes the deliveries due (`Outbox.collect`)
and sends them, signed, each with a 10-second answer time; a failure is tried again
after `webhook_retry_seconds`, doubled at each attempt, and dead-lettered after
`webhook_attempts`. What it logs names the delivery and the kind of failure, never a
body or a secret.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import time

import httpx

from notifications.outbox import Delivery, Outbox
from notifications.signing import DELIVERY, EVENT, SIGNATURE, TIMESTAMP, signature
from settings import Settings, WebhookTarget

logger = logging.getLogger("gov_share.notifications")

ANSWER_SECONDS = 10.0
"""How long a receiver has to answer (a slow one is a failed attempt)."""


class Notifier:
    def __init__(
        self,
        outbox: Outbox,
        targets: dict[str, WebhookTarget],
        *,
        retry_seconds: float,
        attempts: int,
        reminder_hours: float,
    ) -> None:
        self.outbox = outbox
        self.targets = targets
        self.retry_seconds = retry_seconds
        self.attempts = attempts
        self.reminder = datetime.timedelta(hours=reminder_hours)

    @classmethod
    def from_settings(cls, settings: Settings, outbox: Outbox) -> Notifier:
        return cls(
            outbox,
            settings.application_webhooks,
            retry_seconds=settings.webhook_retry_seconds,
            attempts=settings.webhook_attempts,
            reminder_hours=settings.reminder_hours,
        )

    async def run_once(self, now: datetime.datetime | None = None) -> int:
        """Make what is due and send what may be sent now; the number delivered."""
        now = now or datetime.datetime.now(datetime.UTC)
        # Approvals that ended are recorded expired first, so their consumers hear of it
        # without anyone having listed them.
        await self.outbox.applications.expire_ended(now)
        await self.outbox.collect(now, self.reminder)
        delivered = 0
        async with httpx.AsyncClient(timeout=ANSWER_SECONDS) as client:
            for delivery in await self.outbox.claim_due(now):
                delivered += await self._send(client, delivery, now)
        return delivered

    async def follow(self, interval: float) -> None:
        """Every `interval` seconds until cancelled; a failing look is logged and retried."""
        while True:
            try:
                await self.run_once()
            except Exception as exc:  # the next look tries again
                logger.warning("notifications not sent", extra={"error": type(exc).__name__})
            await asyncio.sleep(interval)

    async def _send(
        self, client: httpx.AsyncClient, delivery: Delivery, now: datetime.datetime
    ) -> int:
        target = self.targets.get(delivery.recipient)
        if target is None:  # its webhook was removed from the settings since
            await self.outbox.failed(delivery, None, "no webhook configured", None)
            return 0
        body = delivery.body.encode()
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP: str(timestamp),
            SIGNATURE: signature(target.secret.get_secret_value(), timestamp, body),
            EVENT: delivery.event,
            DELIVERY: str(delivery.id),
        }
        status: int | None = None
        try:
            response = await client.post(target.url, content=body, headers=headers)
            status = response.status_code
            if 200 <= status < 300:
                await self.outbox.delivered(delivery, status, now)
                return 1
            error = f"HTTP {status}"
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        attempt = delivery.attempts + 1
        retry_at = None
        if attempt < self.attempts:
            retry_at = now + datetime.timedelta(seconds=self.retry_seconds * 2 ** (attempt - 1))
        await self.outbox.failed(delivery, status, error, retry_at)
        logger.warning(
            "webhook not delivered",
            extra={"delivery": delivery.id, "error": error, "dead": retry_at is None},
        )
        return 0
