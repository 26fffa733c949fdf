"""Read department databases with SQLAlchemy Core (async): SQLite, PostgreSQL, MariaDB.

One statement per `Read`: only the projected columns, keys bound as one array
(`= ANY(:keys)` on PostgreSQL, `IN (...)` elsewhere), per-parent pages with a
window function. Each read takes its own pooled connection, so loader batches of one
request may run concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from connectors.base import Capabilities, Read, Row, require_capabilities
from errors import SourceUnavailable

logger = logging.getLogger("gov_share.connectors.sql")


class SqlConnector:
    capabilities = Capabilities()

    def __init__(self, name: str, url: str, *, timeout_seconds: float = 5.0) -> None:
        self.name = name
        self.timeout_seconds = timeout_seconds
        self.engine: AsyncEngine = create_async_engine(url, **_engine_options(url, timeout_seconds))
        self._tables: dict[str, sa.Table] = {}

    async def read(self, read: Read) -> list[list[Row]]:
        require_capabilities(self, read)
        try:
            table = await self._table(read.table)
            statement = _statement(table, read, self.engine.dialect.name)
            async with self.engine.connect() as connection, self._deadline(connection):
                result = await connection.execute(statement)
                rows = [dict(row) for row in result.mappings()]
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise self._unavailable(exc) from None
        return _group(rows, read)

    async def ping(self) -> None:
        try:
            async with self.engine.connect() as connection, self._deadline(connection):
                await connection.execute(sa.text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise self._unavailable(exc) from None

    @contextlib.asynccontextmanager
    async def _deadline(self, connection: AsyncConnection) -> AsyncIterator[None]:
        """Bound every statement. PostgreSQL and MariaDB also enforce it server-side;
        SQLite has no statement timeout, so the statement is interrupted in its thread
        rather than cancelled under it (a cancelled aiosqlite call keeps running)."""
        if self.engine.dialect.name != "sqlite":
            async with asyncio.timeout(self.timeout_seconds):
                yield
            return
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # an open pooled connection has its driver connection
        loop = asyncio.get_running_loop()
        interrupting: set[asyncio.Task[None]] = set()
        handle = loop.call_later(
            self.timeout_seconds, lambda: interrupting.add(loop.create_task(driver.interrupt()))
        )
        try:
            yield
        finally:
            handle.cancel()
            await asyncio.gather(*interrupting)

    async def close(self) -> None:
        await self.engine.dispose()

    async def _table(self, name: str) -> sa.Table:
        """Reflect the table once, so values come back in the source's own types."""
        if name not in self._tables:
            metadata = sa.MetaData()
            async with self.engine.connect() as connection:
                await connection.run_sync(metadata.reflect, only=[name], views=True)
            self._tables[name] = metadata.tables[name]
        return self._tables[name]

    def _unavailable(self, exc: BaseException) -> SourceUnavailable:
        # The driver's message may quote values from the statement: log its class only.
        logger.warning(
            "source unavailable", extra={"source": self.name, "error": type(exc).__name__}
        )
        return SourceUnavailable(f"source {self.name} is unavailable", source=self.name)


def _engine_options(url: str, timeout_seconds: float) -> dict[str, Any]:
    if url.startswith("postgresql"):
        timeout_ms = str(int(timeout_seconds * 1000))
        return {"connect_args": {"server_settings": {"statement_timeout": timeout_ms}}}
    if url.startswith("mysql"):
        return {"connect_args": {"init_command": f"SET max_statement_time={timeout_seconds}"}}
    return {}


def _statement(table: sa.Table, read: Read, dialect: str) -> sa.Select[Any]:
    columns = [table.c[name] for name in read.columns]
    key = table.c[read.key_column]
    statement = sa.select(*columns)
    if read.match_column is not None:
        match = table.c[read.match_column]
        values = list(read.match_values or ())
        condition = (
            match == sa.any_(sa.bindparam("keys", values, type_=sa.ARRAY(match.type)))
            if dialect == "postgresql"
            else match.in_(values)
        )
        statement = statement.where(condition)
    if read.page is None:
        return statement
    if read.page.after is not None:
        statement = statement.where(key > read.page.after)
    limit = read.page.first + 1
    if read.match_column is None:
        return statement.order_by(key).limit(limit)
    position = sa.func.row_number().over(partition_by=table.c[read.match_column], order_by=key)
    ranked = statement.add_columns(position.label("_position")).subquery()
    return (
        sa.select(*[ranked.c[name] for name in read.columns])
        .where(ranked.c["_position"] <= limit)
        .order_by(ranked.c[read.match_column], ranked.c[read.key_column])
    )


def _group(rows: list[Row], read: Read) -> list[list[Row]]:
    if read.match_column is None:
        return [rows]
    groups: dict[Any, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[read.match_column], []).append(row)
    return [groups.get(value, []) for value in read.match_values or ()]
