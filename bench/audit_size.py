"""Bytes the audit log stores per request: growth of `audit_records` over K requests.

SQLite: pages of the table's b-tree (overflow pages included) and of its indexes, from
`dbstat`; without dbstat, the file's growth after `PRAGMA wal_checkpoint(TRUNCATE)`.
PostgreSQL: `pg_table_size` (heap and TOAST) and `pg_total_relation_size` (plus
indexes). Both grow by whole pages (4 KiB and 8 KiB), so K requests bound the error
per request at a page over K. The JSON columns' lengths are averaged over the rows the
K requests added: as text, and as stored (PostgreSQL compresses large values in TOAST).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bench.audit_switch import AuditSwitch


@dataclass(frozen=True)
class Sizes:
    table: int
    indexed: int
    """The table with its indexes."""
    last_id: int
    method: str


@dataclass(frozen=True)
class Growth:
    store: str
    n: int
    requests: int
    table: float
    indexed: float
    fields: float
    fields_stored: float
    records: float
    records_stored: float
    method: str
    """All but `requests` and `n` are bytes per request."""


async def growth(on: AuditSwitch, store: str, n: int, requests: int) -> Growth:
    """Send `requests` requests of N = n one after another with the log on."""
    engine = on.running.platform.store
    before = await sizes(engine)
    for _ in range(requests):
        await on.run(n)
    after = await sizes(engine)
    rows, (fields, fields_stored, records, records_stored) = await json_lengths(
        engine, before.last_id
    )
    if rows != requests:
        raise RuntimeError(f"{requests} requests with the log on stored {rows} audit records")
    return Growth(
        store,
        n,
        requests,
        (after.table - before.table) / requests,
        (after.indexed - before.indexed) / requests,
        fields,
        fields_stored,
        records,
        records_stored,
        after.method,
    )


async def sizes(engine: AsyncEngine) -> Sizes:
    async with engine.connect() as connection:
        last_id = (
            await connection.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM audit_records")
        ).scalar_one()
        if connection.dialect.name == "postgresql":
            row: Any = (
                await connection.exec_driver_sql(
                    "SELECT pg_table_size('audit_records'), pg_total_relation_size('audit_records')"
                )
            ).one()
            return Sizes(int(row[0]), int(row[1]), int(last_id), "pg_table_size / total")
        try:
            table, indexed = await _dbstat(connection)
            return Sizes(table, indexed, int(last_id), "dbstat")
        except OperationalError:  # SQLite built without dbstat
            size = await _file_size(connection, engine)
            return Sizes(size, size, int(last_id), "file size after checkpoint")


async def _dbstat(connection: AsyncConnection) -> tuple[int, int]:
    result = await connection.exec_driver_sql(
        "SELECT COALESCE(SUM(CASE WHEN name = 'audit_records' THEN pgsize END), 0),"
        " COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN"
        " (SELECT name FROM sqlite_master WHERE tbl_name = 'audit_records')"
    )
    row: Any = result.one()
    return int(row[0]), int(row[1])


async def _file_size(connection: AsyncConnection, engine: AsyncEngine) -> int:
    await connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database = engine.url.database
    assert database is not None
    return Path(database).stat().st_size


async def json_lengths(
    engine: AsyncEngine, after_id: int
) -> tuple[int, tuple[float, float, float, float]]:
    """Rows after `after_id`; average bytes of `fields` as text and as stored, and of
    `records` as text and as stored."""
    async with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            sql = (
                "SELECT count(*), AVG(octet_length(fields::text)), AVG(pg_column_size(fields)),"
                " AVG(octet_length(records::text)), AVG(pg_column_size(records))"
                " FROM audit_records WHERE id > :after"
            )
        else:
            sql = (
                "SELECT count(*), AVG(LENGTH(CAST(fields AS BLOB))),"
                " AVG(LENGTH(CAST(fields AS BLOB))), AVG(LENGTH(CAST(records AS BLOB))),"
                " AVG(LENGTH(CAST(records AS BLOB)))"
                " FROM audit_records WHERE id > :after"
            )
        row: Any = (await connection.execute(sa.text(sql), {"after": after_id})).one()
    return int(row[0]), (
        float(row[1] or 0),
        float(row[2] or 0),
        float(row[3] or 0),
        float(row[4] or 0),
    )
