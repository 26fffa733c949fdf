"""The daily verification quota (数据校核限额): how many checks each caller system may make.

Verification answers only yes or no, but enough answers rebuild a register (try every
name against an ID number), so each system has a budget per Asia/Shanghai day, counted
in the platform store so that every server instance spends from the same budget.
"""

from __future__ import annotations

import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from policies.caller import Caller
from store.errors import StoreUnavailable
from store.tables import verification_usage

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Quota(Protocol):
    async def spend(self, caller: Caller) -> bool:
        """Spend one check; False when the caller's budget for today is spent.
        StoreUnavailable when the budget cannot be counted."""


class Unlimited:
    """For benchmarks and tests of other things: every check is within budget."""

    async def spend(self, caller: Caller) -> bool:
        return True


class VerificationQuota:
    def __init__(self, engine: AsyncEngine, per_day: int) -> None:
        self.engine = engine
        self.per_day = per_day

    async def spend(self, caller: Caller) -> bool:
        subject = caller.system_subject
        day = datetime.datetime.now(SHANGHAI).date()
        try:
            async with self.engine.connect() as connection:
                for _ in range(2):  # a concurrent first check of the day may win the insert
                    if await self._increment(connection, subject, day):
                        await connection.commit()
                        return True
                    try:
                        await connection.execute(
                            verification_usage.insert().values(
                                caller_system=subject, day=day, used=1
                            )
                        )
                        await connection.commit()
                        return True
                    except IntegrityError:
                        await connection.rollback()
        except SQLAlchemyError:
            # The same store holds the audit log: without it nothing is served anyway.
            raise StoreUnavailable from None
        return False

    async def _increment(
        self, connection: AsyncConnection, subject: str, day: datetime.date
    ) -> bool:
        result = await connection.execute(
            verification_usage.update()
            .where(
                verification_usage.c.caller_system == subject,
                verification_usage.c.day == day,
                verification_usage.c.used < self.per_day,
            )
            .values(used=verification_usage.c.used + 1)
        )
        return bool(result.rowcount)
