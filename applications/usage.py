"""Were approvals used? (Art. 12, per consumer): an approval is used when an audit
record of its consumer's department has a field decided by its grant (`grant:<id>` in
the field's basis). Read from the platform store's audit records as the inventory reads
them — only the consumers' records since the oldest approval, streamed, never held.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from applications.model import Application
from store import audit_records

_GRANT = re.compile(r"grant:(\d+)")


@dataclass(frozen=True)
class ConsumerFigures:
    consumer_department: str
    approvals: int
    used: int

    @property
    def never_used(self) -> int:
        return self.approvals - self.used


async def grants_used(
    engine: AsyncEngine, grant_ids: set[int], departments: set[str], since: datetime.datetime
) -> set[int]:
    """The grants among `grant_ids` that decided a field of a record of `departments`
    made since `since`."""
    if not grant_ids:
        return set()
    used: set[int] = set()
    statement = sa.select(audit_records.c.fields).where(
        audit_records.c.caller_department.in_(sorted(departments)),
        audit_records.c.occurred_at >= since,
    )
    async with engine.connect() as connection:
        async for row in await connection.stream(statement):
            for account in row.fields or ():
                used.update(int(n) for n in _GRANT.findall(str(account.get("basis", ""))))
            if grant_ids <= used:
                break
    return used & grant_ids


async def consumer_figures(
    engine: AsyncEngine, applications: Sequence[Application]
) -> list[ConsumerFigures]:
    approvals = [a for a in applications if a.grant_id is not None]
    if not approvals:
        return []
    used = await grants_used(
        engine,
        {a.grant_id for a in approvals if a.grant_id is not None},
        {a.consumer_department for a in approvals},
        min(a.made_at for a in approvals),
    )
    by_consumer: dict[str, list[Application]] = {}
    for approval in approvals:
        by_consumer.setdefault(approval.consumer_department, []).append(approval)
    return [
        ConsumerFigures(code, len(found), sum(a.grant_id in used for a in found))
        for code, found in sorted(by_consumer.items())
    ]
