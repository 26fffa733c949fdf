"""Audit records read back, for tools that look at past decisions (`python -m policies
replay`): as the writer made them, oldest first."""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.record import AuditRecord, FieldAccount
from store import audit_records


async def records_between(
    engine: AsyncEngine, start: datetime.datetime, end: datetime.datetime
) -> list[AuditRecord]:
    """The records whose request occurred in [start, end)."""
    columns = audit_records.c
    start, end = start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)
    statement = (
        sa.select(audit_records)
        .where(columns.occurred_at >= start, columns.occurred_at < end)
        .order_by(columns.occurred_at, columns.id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).mappings().all()
    return [record_of(row) for row in rows]


def record_of(row: sa.RowMapping) -> AuditRecord:
    """A stored row as the record the writer made."""
    occurred = row["occurred_at"]
    if occurred.tzinfo is None:  # SQLite keeps no zone: the writer stored UTC
        occurred = occurred.replace(tzinfo=datetime.UTC)
    return AuditRecord(
        request_id=row["request_id"],
        occurred_at=occurred,
        outcome=row["outcome"],
        http_status=row["http_status"],
        hash_key_id=row["hash_key_id"],
        catalog_version=row["catalog_version"],
        policy_version=row["policy_version"],
        duration_ms=row["duration_ms"],
        caller_department=row["caller_department"],
        caller_system=row["caller_system"],
        operator=row["operator"],
        person=row["person"],
        purpose=row["purpose"],
        purpose_reference=row["purpose_reference"],
        operation_hash=row["operation_hash"],
        operation_name=row["operation_name"],
        document_id=row["document_id"],
        download_id=row["download_id"],
        download_records=row["download_records"],
        download_digest=row["download_digest"],
        sealed_subjects=row.get("sealed_subjects"),
        client_address=row["client_address"],
        error_codes=list(row["error_codes"]),
        fields=[FieldAccount(**account) for account in row["fields"]],
        records=dict(row["records"]),
    )
