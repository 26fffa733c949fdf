"""The grants in the platform store: made, revoked, listed, and the store's change
sequence, which every change moves in its own transaction, for a server to poll.

A change is announced to the other instances after it commits (`announcements.py`),
when the store was given announcements: the message only saves them the wait for
their next look at the sequence, so a change whose announcement is lost still
arrives.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalog import Catalog
from grants.announcements import Announcements
from grants.model import Grant, checked, utc
from policies.caller import Purpose
from policies.decision import Action
from store.tables import grant_changes
from store.tables import grants as grants_table

# Reads of the grants between two equal reads of the sequence (`in_force`): a change
# committed between them makes another attempt, a little later each time, so that a
# burst of changes (a script granting many) is read once it has passed.
_CONSISTENT_READS = 8
_BACK_OFF_SECONDS = 0.02


class GrantStore:
    def __init__(self, engine: AsyncEngine, announcements: Announcements | None = None) -> None:
        self.engine = engine
        self.announcements = announcements

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
            sequence = await _moved(connection)
        assert result.inserted_primary_key is not None
        await self._announce(sequence)
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
            if not result.rowcount:
                return False
            sequence = await _moved(connection)
        await self._announce(sequence)
        return True

    async def listed(self, *, include_revoked: bool = False) -> list[Grant]:
        statement = sa.select(grants_table).order_by(grants_table.c.id)
        if not include_revoked:
            statement = statement.where(grants_table.c.revoked_at.is_(None))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [_grant(row._mapping) for row in rows]

    async def sequence(self) -> int:
        """The number of changes made so far: one row, what a server polls."""
        async with self.engine.connect() as connection:
            return int(await connection.scalar(sa.select(grant_changes.c.sequence)) or 0)

    async def in_force(self) -> tuple[list[Grant], int]:
        """The grants in force and the sequence they are at, exactly: read between two
        reads of the sequence that agree (a change moves it in its own transaction), so
        a policy is never labelled with a sequence whose grants it does not hold."""
        for attempt in range(_CONSISTENT_READS):
            before = await self.sequence()
            listed = await self.listed()
            if await self.sequence() == before:
                return listed, before
            await asyncio.sleep(_BACK_OFF_SECONDS * attempt)
        raise GrantsChanging("the grants changed at every read; the next reload tries again")

    async def _announce(self, sequence: int) -> None:
        if self.announcements is not None:
            await self.announcements.announce(sequence)


class GrantsChanging(Exception):
    """The grants changed while they were read, again and again."""


async def _moved(connection: AsyncConnection) -> int:
    """Move the sequence, in the caller's transaction; the number it moved to."""
    await connection.execute(grant_changes.update().values(sequence=grant_changes.c.sequence + 1))
    return int(await connection.scalar(sa.select(grant_changes.c.sequence)) or 0)


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
