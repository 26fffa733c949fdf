"""The applications' rows: each read back whole with its steps, each step written, and
the items an open application holds, so that none is applied for twice at once. What
the store's transactions share."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from applications.model import (
    Actor,
    Application,
    State,
    Step,
    StepTaken,
    Terms,
)
from grants.model import utc
from policies.caller import Purpose
from store.tables import application_open_items, application_steps, applications


async def read_applications(engine: AsyncEngine, condition: Any) -> list[Application]:
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                sa.select(applications).where(condition).order_by(applications.c.id)
            )
        ).all()
        ids = [row.id for row in rows]
        steps = (
            (
                await connection.execute(
                    sa.select(application_steps)
                    .where(application_steps.c.application_id.in_(ids))
                    .order_by(application_steps.c.id)
                )
            ).all()
            if ids
            else []
        )
    by_application: dict[int, list[StepTaken]] = {}
    for step in steps:
        by_application.setdefault(step.application_id, []).append(step_taken(step))
    return [application_of(row, by_application.get(row.id, [])) for row in rows]


async def hold_open(
    connection: AsyncConnection, application_id: int, consumer: str, asked: Terms
) -> None:
    """Hold each item asked for as open: an IntegrityError when another open application
    of the consumer holds one for the same purpose (the unique index decides, even for
    two applications made at once)."""
    await connection.execute(
        application_open_items.insert(),
        [
            {
                "application_id": application_id,
                "consumer": consumer,
                "resource_id": asked.resource_id,
                "purpose": asked.purpose.value,
                "item": item,
            }
            for item in asked.items
        ],
    )


async def release(connection: AsyncConnection, application_id: int) -> None:
    """The application is open no more: its items may be applied for again."""
    await connection.execute(
        application_open_items.delete().where(
            application_open_items.c.application_id == application_id
        )
    )


async def holding(engine: AsyncEngine, consumer: str, asked: Terms) -> int | None:
    """The open application of `consumer` holding an item of `asked`, if one does."""
    columns = application_open_items.c
    async with engine.connect() as connection:
        found = await connection.scalar(
            sa.select(columns.application_id)
            .where(
                columns.consumer == consumer,
                columns.resource_id == asked.resource_id,
                columns.purpose == asked.purpose.value,
                columns.item.in_(asked.items),
            )
            .limit(1)
        )
    return int(found) if found is not None else None


async def record_step(
    connection: AsyncConnection,
    application_id: int,
    step: Step,
    state: State,
    by: Actor,
    reason: str | None,
    terms: dict[str, Any],
    now: datetime.datetime,
) -> None:
    await connection.execute(
        application_steps.insert().values(
            application_id=application_id,
            step=step.value,
            state=state.value,
            department=by.department,
            person=by.person,
            reason=reason.strip() if reason else None,
            terms=terms,
            at=now,
        )
    )


def moment(value: datetime.datetime | None) -> datetime.datetime:
    made = utc(value)
    assert made is not None
    return made


def step_taken(row: Any) -> StepTaken:
    return StepTaken(
        Step(row.step),
        State(row.state),
        Actor(row.person, row.department),
        row.reason,
        dict(row.terms),
        moment(row.at),
    )


def application_of(row: Any, steps: list[StepTaken]) -> Application:
    return Application(
        id=row.id,
        consumer=row.consumer,
        applicant=row.applicant,
        provider_code=row.provider_code,
        asked=Terms(
            resource_id=row.resource_id,
            items=tuple(row._mapping["items"]),
            purpose=Purpose(row.purpose),
            scope=row.scope,
            valid_until=moment(row.valid_until),
        ),
        business_reason=row.business_reason,
        case_reference=row.case_reference,
        acknowledged=row.acknowledged,
        state=State(row.state),
        made_at=moment(row.made_at),
        due_at=moment(row.due_at),
        provisional=bool(row.provisional),
        answered_at=utc(row.answered_at),
        grant_id=row.grant_id,
        granted_until=utc(row.granted_until),
        steps=tuple(steps),
    )
