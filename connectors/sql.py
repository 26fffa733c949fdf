"""Read department databases with SQLAlchemy Core (async): PostgreSQL and MariaDB.

One statement per `Read` (built in `_sql_query.py`): only the projected columns,
filters and keyset pages as bound parameters, per-parent pages with a window
function. Each read takes its own pooled connection, so loader batches of one
request may run concurrently. `timeout_seconds` bounds all of a read: the wait for a
pooled connection, connecting, reflecting the table on first use and the statement
(which the database also stops, so it does not run on unwatched). SQLite sources are
read by `sqlite.py`; the kinds of source (`kinds.py`, `_sql_kinds.py`) pick the
connector for a URL.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from connectors._sql_query import count_statement, select_statement
from connectors._sql_rows import counts_per_match, group_rows, source_unavailable
from connectors.base import Read, ReadContext, Row
from connectors.capabilities import Capabilities, require_capabilities
from connectors.updates import UpdateSign, as_utc


class SqlConnector:
    capabilities = Capabilities()

    def __init__(
        self, name: str, url: str, *, timeout_seconds: float = 5.0, pool_size: int | None = None
    ) -> None:
        self.name = name
        self.timeout_seconds = timeout_seconds
        options = _engine_options(url, timeout_seconds)
        if pool_size is not None:
            options["pool_size"] = pool_size
        self.engine: AsyncEngine = create_async_engine(url, **options)
        self._tables: dict[str, sa.Table] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sync_engine(self) -> sa.Engine:
        """For instrumentation (statement counts): SQLAlchemy's events attach here."""
        return self.engine.sync_engine

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        require_capabilities(self, read)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                table = await self._table(read.table)
                statement = select_statement(table, read, self.dialect)
                async with self.engine.connect() as connection:
                    result = await connection.execute(statement)
                    keys = list(result.keys())
                    rows = [dict(zip(keys, row, strict=True)) for row in result.all()]
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise source_unavailable(self.name, exc) from None
        return group_rows(rows, read)

    async def count(self, read: Read, context: ReadContext) -> list[int]:
        require_capabilities(self, read, count=True)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                table = await self._table(read.table)
                statement = count_statement(table, read, self.dialect)
                async with self.engine.connect() as connection:
                    result = (await connection.execute(statement)).all()
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise source_unavailable(self.name, exc) from None
        return counts_per_match(result, read)

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(self.timeout_seconds), self.engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            raise source_unavailable(self.name, exc) from None

    async def last_update(self, sign: UpdateSign) -> datetime.datetime | None:
        """`max(column)` of the table: one value, never a row."""
        if sign.column is None:
            return None
        try:
            async with asyncio.timeout(self.timeout_seconds):  # reflecting the table too
                table = await self._table(sign.table)
                statement = sa.select(sa.func.max(table.c[sign.column]))
                async with self.engine.connect() as connection:
                    value = (await connection.execute(statement)).scalar()
        except (SQLAlchemyError, OSError, TimeoutError, KeyError) as exc:
            raise source_unavailable(self.name, exc) from None
        return as_utc(value)

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


def _engine_options(url: str, timeout_seconds: float) -> dict[str, Any]:
    if url.startswith("postgresql"):
        timeout_ms = str(int(timeout_seconds * 1000))
        return {"connect_args": {"server_settings": {"statement_timeout": timeout_ms}}}
    if url.startswith("mysql"):
        return {"connect_args": {"init_command": f"SET max_statement_time={timeout_seconds}"}}
    return {}
