"""Each department system's mode for free text (text not sent by id), and the
operations a system in log-unknown mode still sends as free text.

- `open` (a system never set): free text is served as any query.
- `log-unknown`: free text is served, and each distinct text that matches no document
  the system may call is counted (name, normalised hash, count, first and last seen),
  so an integrator sees what the system still sends before it is switched.
- `persisted-only`: free text that matches no such document is refused
  (PERSISTED_QUERY_REQUIRED), and Apollo's automatic registration is off for it.

A change is made by the platform's admins (`python -m documents mode`) with its
operator and reason, kept as history. Servers hold the modes in memory: they read them
again at most `refresh_seconds` after they last did, and at once when a change is
announced over Redis (`Modes.heard`).
"""

from __future__ import annotations

import asyncio
import datetime
import time
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from documents.store import NAME_LIMIT, Owner
from store import StoreUnavailable
from store.tables import document_modes, unknown_operations


class Mode(StrEnum):
    OPEN = "open"
    LOG_UNKNOWN = "log-unknown"
    PERSISTED_ONLY = "persisted-only"


@dataclass(frozen=True)
class UnknownOperation:
    name: str | None
    normalised_sha256: str
    count: int
    first_seen: datetime.datetime
    last_seen: datetime.datetime


class Modes:
    """The modes in force on this server."""

    def __init__(self, engine: AsyncEngine, *, refresh_seconds: float) -> None:
        self.engine = engine
        self.refresh_seconds = refresh_seconds
        self._modes: dict[Owner, Mode] = {}
        self._read_at = -float("inf")
        self._reading = asyncio.Lock()
        """One read at a time: the requests that find the modes stale wait for it."""

    async def mode_of(self, owner: Owner) -> Mode:
        if self._stale():
            async with self._reading:
                if self._stale():
                    await self.read()
        return self._modes.get(owner, Mode.OPEN)

    def _stale(self) -> bool:
        return time.monotonic() - self._read_at >= self.refresh_seconds

    async def read(self) -> None:
        """Read every system's mode in force from the store."""
        latest = sa.select(sa.func.max(document_modes.c.id)).group_by(
            document_modes.c.department, document_modes.c.system
        )
        query = sa.select(
            document_modes.c.department, document_modes.c.system, document_modes.c.mode
        ).where(document_modes.c.id.in_(latest))
        try:
            async with self.engine.connect() as connection:
                rows = (await connection.execute(query)).all()
        except SQLAlchemyError:
            raise StoreUnavailable from None
        self._modes = {Owner(d, s): Mode(mode) for d, s, mode in rows}
        self._read_at = time.monotonic()

    async def heard(self) -> None:
        """A change was announced: read the modes at the next request."""
        self._read_at = -float("inf")


async def set_mode(
    engine: AsyncEngine, owner: Owner, mode: Mode, *, operator: str, reason: str
) -> None:
    row = {
        "department": owner.department,
        "system": owner.system,
        "mode": mode.value,
        "operator": operator,
        "reason": reason,
        "changed_at": datetime.datetime.now(datetime.UTC),
    }
    async with engine.begin() as connection:
        await connection.execute(document_modes.insert(), row)


async def count_unknown(
    engine: AsyncEngine, owner: Owner, normalised_sha256: str, name: str | None
) -> None:
    """One more sending of free text that matched no document; two instances counting
    the same new text at once both count."""
    table = unknown_operations
    now = datetime.datetime.now(datetime.UTC)
    this = (
        table.c.department == owner.department,
        table.c.system == owner.system,
        table.c.normalised_sha256 == normalised_sha256,
    )
    counted = sa.update(table).where(*this).values(count=table.c.count + 1, last_seen=now)
    for _ in range(2):
        try:
            async with engine.begin() as connection:
                if (await connection.execute(counted)).rowcount:
                    return
                await connection.execute(
                    table.insert(),
                    {
                        "department": owner.department,
                        "system": owner.system,
                        "normalised_sha256": normalised_sha256,
                        "name": name[:NAME_LIMIT] if name else None,
                        "count": 1,
                        "first_seen": now,
                        "last_seen": now,
                    },
                )
                return
        except IntegrityError:
            continue  # another instance inserted it first: count it again
        except SQLAlchemyError:
            raise StoreUnavailable from None


async def unknown_of(engine: AsyncEngine, owner: Owner) -> list[UnknownOperation]:
    table = unknown_operations
    query = (
        sa.select(table)
        .where(table.c.department == owner.department, table.c.system == owner.system)
        .order_by(table.c.count.desc(), table.c.normalised_sha256)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).mappings().all()
    return [
        UnknownOperation(
            r["name"],
            r["normalised_sha256"],
            r["count"],
            _utc(r["first_seen"]),
            _utc(r["last_seen"]),
        )
        for r in rows
    ]


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """SQLite keeps no zone: the store holds UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
