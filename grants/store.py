"""The grants in the platform store: made, revoked, listed, and a marker that
changes with every change, for a server to poll."""

from __future__ import annotations

import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog import Catalog
from grants.model import Grant, checked, utc
from policies.caller import Purpose
from policies.decision import Action
from store.tables import grants as grants_table


class GrantStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, grant: Grant, catalog: Catalog) -> Grant:
        grant = checked(grant, catalog)
        now = datetime.datetime.now(datetime.UTC)
        async with self.engine.begin() as connection:
            result = await connection.execute(
                grants_table.insert().values(
                    consumer=grant.consumer,
                    resource_id=grant.resource_id,
                    items=list(grant.items),
                    action=grant.action.value,
                    purposes=[purpose.value for purpose in grant.purposes],
                    scope=grant.scope,
                    valid_from=grant.valid_from,
                    valid_until=grant.valid_until,
                    reference=grant.reference,
                    created_at=now,
                    changed_at=now,
                )
            )
        assert result.inserted_primary_key is not None
        return Grant(**{**grant.__dict__, "id": result.inserted_primary_key[0]})

    async def revoke(self, grant_id: int) -> bool:
        """True if a grant in force was revoked; revoking twice changes nothing."""
        now = datetime.datetime.now(datetime.UTC)
        async with self.engine.begin() as connection:
            result = await connection.execute(
                grants_table.update()
                .where(grants_table.c.id == grant_id, grants_table.c.revoked_at.is_(None))
                .values(revoked_at=now, changed_at=now)
            )
        return bool(result.rowcount)

    async def listed(self, *, include_revoked: bool = False) -> list[Grant]:
        statement = sa.select(grants_table).order_by(grants_table.c.id)
        if not include_revoked:
            statement = statement.where(grants_table.c.revoked_at.is_(None))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [_grant(row._mapping) for row in rows]

    async def version(self) -> tuple[int, datetime.datetime | None]:
        """Changes when any grant is added or revoked: what a server polls."""
        statement = sa.select(sa.func.count(), sa.func.max(grants_table.c.changed_at))
        async with self.engine.connect() as connection:
            count, latest = (await connection.execute(statement)).one()
        return int(count), latest


def _grant(row: Any) -> Grant:
    return Grant(
        consumer=row["consumer"],
        resource_id=row["resource_id"],
        items=tuple(row["items"]),
        action=Action(row["action"]),
        purposes=tuple(Purpose(p) for p in row["purposes"]),
        reference=row["reference"],
        scope=row["scope"],
        valid_from=utc(row["valid_from"]),
        valid_until=utc(row["valid_until"]),
        id=row["id"],
        revoked_at=utc(row["revoked_at"]),
    )
