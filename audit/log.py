"""Write audit records to the platform store, committed before the response is sent.

Fail closed: if the record cannot be committed, the caller gets AUDIT_UNAVAILABLE and
no data.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.record import AuditRecord
from errors import AuditUnavailable
from store import audit_records

logger = logging.getLogger("gov_share.audit")


class AuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def write(self, record: AuditRecord) -> None:
        try:
            async with self.engine.begin() as connection:
                await connection.execute(audit_records.insert().values(**record.as_row()))
        except SQLAlchemyError as exc:
            logger.error(
                "audit write failed",
                extra={"request_id": record.request_id, "error": type(exc).__name__},
            )
            raise AuditUnavailable("the audit log cannot be written; no data is served") from None

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(sa.text("SELECT 1"))

    async def find(self, request_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                sa.select(audit_records).where(audit_records.c.request_id == request_id)
            )
            row = result.mappings().first()
        return dict(row) if row is not None else None
