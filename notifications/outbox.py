"""The deliveries in the platform store: made from the application steps after the
notifier's cursor and from deadlines coming up, each once (`dedupe` is unique, so two
instances making the same one make one), claimed before it is sent, and kept with its
attempts, last status and end: the delivery history.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from applications import Application, ApplicationStore, State, Step
from applications.model import APPROVALS
from grants.model import utc
from store.tables import application_steps, notification_cursor, webhook_deliveries

OFFICE = "coordination_office"
"""The recipient name of the coordination office's webhook."""
# Steps read per look; the rest at the next.
_BATCH = 200
# How long a claimed delivery is left to its sender before another may try it.
_LEASE = datetime.timedelta(seconds=60)


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@dataclass(frozen=True)
class Delivery:
    id: int
    recipient: str
    event: str
    application_id: int
    body: str
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime.datetime
    last_status: int | None
    last_error: str | None
    created_at: datetime.datetime
    delivered_at: datetime.datetime | None


def recipients(step: Step, application: Application) -> list[str]:
    """Who hears of a step: the other side, and the office of escalations."""
    provider, consumer = application.provider_code, application.consumer_department
    return {
        Step.APPLY: [provider] if application.state is not State.NOT_SHARED else [],
        Step.WITHDRAW: [provider],
        Step.APPROVE: [consumer],
        Step.REFUSE: [consumer],
        Step.REVOKE: [consumer],
        Step.EXPIRE: [consumer],
        Step.ESCALATE: [provider, OFFICE],
        Step.RESPOND: [consumer, OFFICE],
        Step.DECIDE: [consumer, provider],
    }[step]


def body_of(event: str, application: Application, step: dict[str, Any] | None) -> str:
    asked = application.asked
    document = {
        "event": event,
        "application": {
            "id": application.id,
            "state": application.state.value,
            "consumer": application.consumer,
            "providerCode": application.provider_code,
            "resource": asked.resource_id,
            "fields": list(asked.items),
            "purpose": asked.purpose.value,
            "dueAt": application.due_at.isoformat(),
            "grantedUntil": application.granted_until.isoformat()
            if application.granted_until
            else None,
        },
        "step": step,
    }
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


class Outbox:
    def __init__(
        self, engine: AsyncEngine, applications: ApplicationStore, addressed: frozenset[str]
    ) -> None:
        self.engine = engine
        self.applications = applications
        self.addressed = addressed
        """The recipients with a webhook: nothing is made for the others."""

    async def collect(self, now: datetime.datetime, reminder: datetime.timedelta) -> int:
        """Make the deliveries of the steps after the cursor, and the reminders due;
        the number made."""
        made = 0
        async with self.engine.connect() as connection:
            cursor = int(await connection.scalar(sa.select(notification_cursor.c.step_id)) or 0)
            steps = (
                await connection.execute(
                    sa.select(application_steps)
                    .where(application_steps.c.id > cursor)
                    .order_by(application_steps.c.id)
                    .limit(_BATCH)
                )
            ).all()
        for row in steps:
            application = await self.applications.get(row.application_id)
            told = {
                "step": row.step,
                "state": row.state,
                "person": row.person,
                "department": row.department,
                "reason": row.reason,
                "at": _moment(row.at).isoformat(),
            }
            for recipient in recipients(Step(row.step), application):
                event = f"application.{row.step}"
                made += await self._make(
                    f"step:{row.id}:{recipient}", recipient, event, application, told, now
                )
        if steps:
            async with self.engine.begin() as connection:
                await connection.execute(
                    notification_cursor.update()
                    .where(notification_cursor.c.step_id < steps[-1].id)
                    .values(step_id=steps[-1].id)
                )
        return made + await self._reminders(now, reminder)

    async def _reminders(self, now: datetime.datetime, reminder: datetime.timedelta) -> int:
        made = 0
        for application in await self.applications.listed(states=[State.APPLIED, *APPROVALS]):
            if application.state is State.APPLIED and now < application.due_at <= now + reminder:
                made += await self._make(
                    f"due:{application.id}",
                    application.provider_code,
                    "application.due_soon",
                    application,
                    None,
                    now,
                )
            ends = application.granted_until
            if application.state in APPROVALS and ends and now < ends <= now + reminder:
                made += await self._make(
                    f"ending:{application.id}",
                    application.consumer_department,
                    "grant.ending_soon",
                    application,
                    None,
                    now,
                )
        return made

    async def _make(
        self,
        dedupe: str,
        recipient: str,
        event: str,
        application: Application,
        step: dict[str, Any] | None,
        now: datetime.datetime,
    ) -> int:
        if recipient not in self.addressed:
            return 0
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    webhook_deliveries.insert().values(
                        dedupe=dedupe,
                        recipient=recipient,
                        event=event,
                        application_id=application.id,
                        body=body_of(event, application, step),
                        state=DeliveryState.PENDING.value,
                        attempts=0,
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return 0  # made already, by this instance or another
        return 1

    async def claim_due(self, now: datetime.datetime, most: int = 50) -> list[Delivery]:
        """Deliveries due now, each claimed by a conditional update (another instance
        claiming the same one gets none) for `_LEASE`."""
        async with self.engine.connect() as connection:
            rows = (
                await connection.execute(
                    sa.select(webhook_deliveries)
                    .where(
                        webhook_deliveries.c.state == DeliveryState.PENDING.value,
                        webhook_deliveries.c.next_attempt_at <= now,
                    )
                    .order_by(webhook_deliveries.c.id)
                    .limit(most)
                )
            ).all()
        claimed = []
        for row in rows:
            async with self.engine.begin() as connection:
                result = await connection.execute(
                    webhook_deliveries.update()
                    .where(
                        webhook_deliveries.c.id == row.id,
                        webhook_deliveries.c.state == DeliveryState.PENDING.value,
                        webhook_deliveries.c.next_attempt_at == row.next_attempt_at,
                    )
                    .values(next_attempt_at=now + _LEASE)
                )
            if result.rowcount:
                claimed.append(_delivery(row))
        return claimed

    async def delivered(self, delivery: Delivery, status: int, now: datetime.datetime) -> None:
        await self._update(
            delivery.id,
            state=DeliveryState.DELIVERED.value,
            attempts=delivery.attempts + 1,
            last_status=status,
            last_error=None,
            delivered_at=now,
        )

    async def failed(
        self,
        delivery: Delivery,
        status: int | None,
        error: str,
        retry_at: datetime.datetime | None,
    ) -> None:
        """A failed attempt: tried again at `retry_at`, or dead-lettered (None)."""
        await self._update(
            delivery.id,
            state=(DeliveryState.PENDING if retry_at else DeliveryState.DEAD).value,
            attempts=delivery.attempts + 1,
            last_status=status,
            last_error=error[:200],
            **({"next_attempt_at": retry_at} if retry_at else {}),
        )

    async def retry(self, delivery_id: int, now: datetime.datetime) -> bool:
        """A dead delivery tried again from its first attempt; False if none is dead."""
        async with self.engine.begin() as connection:
            result = await connection.execute(
                webhook_deliveries.update()
                .where(
                    webhook_deliveries.c.id == delivery_id,
                    webhook_deliveries.c.state == DeliveryState.DEAD.value,
                )
                .values(state=DeliveryState.PENDING.value, attempts=0, next_attempt_at=now)
            )
        return bool(result.rowcount)

    async def listed(self, state: DeliveryState | None = None) -> list[Delivery]:
        statement = sa.select(webhook_deliveries).order_by(webhook_deliveries.c.id)
        if state is not None:
            statement = statement.where(webhook_deliveries.c.state == state.value)
        async with self.engine.connect() as connection:
            return [_delivery(row) for row in (await connection.execute(statement)).all()]

    async def _update(self, delivery_id: int, **values: Any) -> None:
        async with self.engine.begin() as connection:
            await _set(connection, delivery_id, values)


async def _set(connection: AsyncConnection, delivery_id: int, values: dict[str, Any]) -> None:
    await connection.execute(
        webhook_deliveries.update().where(webhook_deliveries.c.id == delivery_id).values(**values)
    )


def _moment(value: datetime.datetime) -> datetime.datetime:
    made = utc(value)
    assert made is not None
    return made


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        recipient=row.recipient,
        event=row.event,
        application_id=row.application_id,
        body=row.body,
        state=DeliveryState(row.state),
        attempts=row.attempts,
        next_attempt_at=_moment(row.next_attempt_at),
        last_status=row.last_status,
        last_error=row.last_error,
        created_at=_moment(row.created_at),
        delivered_at=utc(row.delivered_at),
    )
