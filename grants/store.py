"""The grants in the platform store: made, revoked, listed with their history, and the
store's change sequence, which every change moves in its own transaction, for a server
to poll.

Every change is made with its `grant_changes` row in one transaction: a grant is never
made or revoked without the store saying who did it and why. A change is announced to
the other instances after it commits (`announcements.py`), when the store was given
announcements: the message only saves them the wait for their next look at the
sequence, so a change whose announcement is lost still arrives.
"""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from catalog import Catalog
from grants.announcements import Announcements
from grants.model import (
    Change,
    Grant,
    GrantChange,
    GrantRefused,
    accountability_problems,
    checked,
    utc,
)
from policies.caller import Purpose
from policies.decision import Action
from store.tables import grant_changes, grant_sequence
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

    async def add(self, grant: Grant, catalog: Catalog, *, operator: str, reason: str) -> Grant:
        """Raises GrantRefused, storing nothing, for a grant the catalog cannot permit or
        a change that names no operator or reason."""
        async with self.engine.begin() as connection:
            added, sequence = await self.add_within(
                connection, grant, catalog, operator=operator, reason=reason
            )
        await self.announce(sequence)
        return added

    async def add_within(
        self,
        connection: AsyncConnection,
        grant: Grant,
        catalog: Catalog,
        *,
        operator: str,
        reason: str,
    ) -> tuple[Grant, int]:
        """`add` in the caller's transaction (an approved application becomes its grant
        in the approval's own): the grant and the sequence it moved to, which the caller
        announces once the transaction has committed."""
        _accountable(operator, reason)
        grant = checked(grant, catalog)
        now = datetime.datetime.now(datetime.UTC)
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
        grant_id = int(result.inserted_primary_key[0])
        sequence = await _moved(connection)
        await _record(connection, grant_id, Change.GRANTED, (operator, reason), now, sequence)
        return Grant(**{**grant.__dict__, "id": grant_id, "created_at": now}), sequence

    async def revoke(self, grant_id: int, *, operator: str, reason: str) -> bool:
        """True if a grant in force was revoked; revoking twice changes nothing."""
        async with self.engine.begin() as connection:
            sequence = await self.revoke_within(
                connection, grant_id, operator=operator, reason=reason
            )
        if sequence is None:
            return False
        await self.announce(sequence)
        return True

    async def revoke_within(
        self, connection: AsyncConnection, grant_id: int, *, operator: str, reason: str
    ) -> int | None:
        """`revoke` in the caller's transaction: the sequence it moved to, for the caller
        to announce once committed; None if the grant was not in force."""
        _accountable(operator, reason)
        now = datetime.datetime.now(datetime.UTC)
        result = await connection.execute(
            grants_table.update()
            .where(grants_table.c.id == grant_id, grants_table.c.revoked_at.is_(None))
            .values(revoked_at=now, changed_at=now)
        )
        if not result.rowcount:
            return None
        sequence = await _moved(connection)
        await _record(connection, grant_id, Change.REVOKED, (operator, reason), now, sequence)
        return sequence

    async def listed(self, *, include_revoked: bool = False) -> list[Grant]:
        statement = sa.select(grants_table).order_by(grants_table.c.id)
        if not include_revoked:
            statement = statement.where(grants_table.c.revoked_at.is_(None))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [_grant(row._mapping) for row in rows]

    async def history(self) -> list[GrantChange]:
        """Every change to every grant, oldest first."""
        statement = (
            sa.select(
                grants_table,
                grant_changes.c.change,
                grant_changes.c.operator,
                grant_changes.c.reason,
                grant_changes.c.changed_at.label("change_at"),
            )
            .join(grant_changes, grant_changes.c.grant_id == grants_table.c.id)
            .order_by(grant_changes.c.changed_at, grant_changes.c.id)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).all()
        return [
            GrantChange(
                _grant(row._mapping),
                Change(row.change),
                row.operator,
                row.reason,
                _utc(row.change_at),
            )
            for row in rows
        ]

    async def sequence(self) -> int:
        """The number of changes made so far: one row, what a server polls."""
        async with self.engine.connect() as connection:
            return int(await connection.scalar(sa.select(grant_sequence.c.sequence)) or 0)

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

    async def changes_since(self, sequence: int, *, most: int) -> GrantChanges | None:
        """The grants made and revoked after `sequence`, and the sequence they bring the
        store to, read as consistently as `in_force`; None when there are more than
        `most` (reading them all again is then as cheap) or the history does not reach
        back to `sequence`."""
        statement = (
            sa.select(grants_table, grant_changes.c.change, grant_changes.c.sequence)
            .join(grant_changes, grant_changes.c.grant_id == grants_table.c.id)
            .where(grant_changes.c.sequence > sequence)
            .order_by(grant_changes.c.sequence)
            .limit(most + 1)
        )
        for attempt in range(_CONSISTENT_READS):
            before = await self.sequence()
            async with self.engine.connect() as connection:
                rows = (await connection.execute(statement)).all()
            if await self.sequence() != before:
                await asyncio.sleep(_BACK_OFF_SECONDS * attempt)
                continue
            numbers = [row.sequence for row in rows]
            if len(rows) > most or numbers != list(range(sequence + 1, before + 1)):
                return None
            made = [_grant(row._mapping) for row in rows if row.change == Change.GRANTED]
            revoked = [_grant(row._mapping) for row in rows if row.change == Change.REVOKED]
            return GrantChanges(made, revoked, before)
        raise GrantsChanging("the grants changed at every read; the next reload tries again")

    async def announce(self, sequence: int) -> None:
        """Tell the other instances a change committed (nothing without announcements)."""
        if self.announcements is not None:
            await self.announcements.announce(sequence)


@dataclass(frozen=True)
class GrantChanges:
    """What changed in the grant store after a sequence, in the order it happened."""

    made: list[Grant]
    """Grants made since (as they are now: one revoked since is also in `revoked`)."""
    revoked: list[Grant]
    sequence: int
    """The sequence these changes bring the store to."""


class GrantsChanging(Exception):
    """The grants changed while they were read, again and again."""


async def _moved(connection: AsyncConnection) -> int:
    """Move the sequence, in the caller's transaction; the number it moved to."""
    await connection.execute(grant_sequence.update().values(sequence=grant_sequence.c.sequence + 1))
    return int(await connection.scalar(sa.select(grant_sequence.c.sequence)) or 0)


def _accountable(operator: str, reason: str) -> None:
    problems = accountability_problems(operator, reason)
    if problems:
        raise GrantRefused("; ".join(problems))


async def _record(
    connection: AsyncConnection,
    grant_id: int,
    change: Change,
    by: tuple[str, str],
    now: datetime.datetime,
    sequence: int,
) -> None:
    """The change's history row: by (operator, reason), at the sequence it moved to."""
    operator, reason = by
    await connection.execute(
        grant_changes.insert().values(
            grant_id=grant_id,
            change=change.value,
            operator=operator.strip(),
            reason=reason.strip(),
            changed_at=now,
            sequence=sequence,
        )
    )


def _utc(moment: datetime.datetime) -> datetime.datetime:
    made = utc(moment)
    assert made is not None
    return made


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
        created_at=utc(row["created_at"]),
        revoked_at=utc(row["revoked_at"]),
    )
