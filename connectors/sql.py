"""Read department databases with SQLAlchemy Core (async): PostgreSQL and MariaDB.

One statement per `Read` (built in `_sql_query.py`): only the projected columns,
filters and keyset pages as bound parameters, per-parent pages through LATERAL on
PostgreSQL and a window function on MariaDB. Each read takes its own pooled
connection, so loader batches of one request may run concurrently. `timeout_seconds`
bounds all of a read: the wait for a pooled connection, connecting, reflecting the
table on first use and the statement (which the database also stops, so it does not
run on unwatched). SQLite sources are read by `sqlite.py`; the kinds of source
(`kinds.py`, `_sql_kinds.py`) pick the connector for a URL.

A read costs the database one round trip and nothing else (issue 17):
- each shape of read is compiled once (`_sql_compiled.py`) and its text sent with
  `exec_driver_sql`, so statement events still fire; asyncpg prepares each text once
  per connection (SQLAlchemy's prepared statement cache, on by default), asyncmy has
  no prepared statements;
- connections are in autocommit: a single SELECT needs no BEGIN before it and no
  ROLLBACK after it (which cost two round trips more per read), and a connection goes
  back to the pool without a reset, since nothing was begun;
- the pool keeps `pool_size` connections open (`POOL_SIZE` unless set), opening at
  most `max_overflow` more in a burst: SQLAlchemy's default of 5 made a steady load of
  16 concurrent requests open and close a PostgreSQL backend every 10-15 requests.
A read that fails or is cut short (a timeout cancels it mid-statement) invalidates
its connection: one in an unknown state never goes back to the pool.
"""

from __future__ import annotations

import asyncio
import datetime
from collections.abc import Hashable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.util import greenlet_spawn

from connectors._sql_compiled import COMPILED_SHAPES, Build, CompiledRead, Fetched
from connectors._sql_names import parameters, shape
from connectors._sql_query import count_statement, select_statement
from connectors._sql_rows import counts_per_match, group_rows, source_unavailable
from connectors.base import Read, ReadContext, Row
from connectors.capabilities import Capabilities, require_capabilities
from connectors.updates import UpdateSign, as_utc

POOL_SIZE = 10
"""Connections kept open per source and process unless the source's `pool_size` says.
Each source has its own pool, and several sources often live in one database: 7
demo sources × 2 workers × (20 + 10) would pass PostgreSQL's default
`max_connections` of 100, which the test suite and the side-by-side benchmark did.
With 10 the side-by-side (16 concurrent requests) opens a connection every ~100
requests at N=1; a source under heavier load sets its own `pool_size`."""
MAX_OVERFLOW = 10
"""Connections opened beyond the pool in a burst (and closed after) unless `max_overflow` says."""
FAILURES = (SQLAlchemyError, OSError, TimeoutError)


class SqlConnector:
    capabilities = Capabilities()

    def __init__(
        self,
        name: str,
        url: str,
        *,
        timeout_seconds: float = 5.0,
        pool_size: int | None = None,
        max_overflow: int | None = None,
    ) -> None:
        self.name = name
        self.timeout_seconds = timeout_seconds
        self.engine: AsyncEngine = create_async_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
            pool_size=POOL_SIZE if pool_size is None else pool_size,
            max_overflow=MAX_OVERFLOW if max_overflow is None else max_overflow,
            **_engine_options(url, timeout_seconds),
        )
        self._array_keys = self.dialect == "postgresql"  # `_sql_query._match`
        self._tables: dict[str, sa.Table] = {}
        self._statements: dict[tuple[Build, Hashable], CompiledRead] = {}

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sync_engine(self) -> sa.Engine:
        """For instrumentation (statement counts): SQLAlchemy's events attach here."""
        return self.engine.sync_engine

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        require_capabilities(self, read)
        named = parameters(read, array_keys=self._array_keys)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                compiled = await self._compiled(select_statement, read, named)
                fetched = await self._fetch(compiled, named)
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None
        return group_rows(compiled.rows(fetched), read)

    async def count(self, read: Read, context: ReadContext) -> list[int]:
        require_capabilities(self, read, count=True)
        named = parameters(read, array_keys=self._array_keys)
        try:
            async with asyncio.timeout(self.timeout_seconds):
                compiled = await self._compiled(count_statement, read, named)
                fetched = await self._fetch(compiled, named)
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None
        return counts_per_match(fetched, read)

    async def ping(self) -> None:
        try:
            async with asyncio.timeout(self.timeout_seconds), self.engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except FAILURES as exc:
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
        except (*FAILURES, KeyError) as exc:
            raise source_unavailable(self.name, exc) from None
        return as_utc(value)

    async def close(self) -> None:
        await self.engine.dispose()

    async def _compiled(self, build: Build, read: Read, named: dict[str, Any]) -> CompiledRead:
        key = (build, shape(read, array_keys=self._array_keys))
        compiled = self._statements.get(key)
        if compiled is None:
            statement = build(await self._table(read.table), read, self.dialect)
            compiled = CompiledRead.of(statement, self.engine.dialect, named, described=False)
            if len(self._statements) >= COMPILED_SHAPES:
                del self._statements[next(iter(self._statements))]
            self._statements[key] = compiled
        return compiled

    async def _fetch(self, compiled: CompiledRead, named: dict[str, Any]) -> Fetched:
        values = compiled.values(named)
        # One hop into SQLAlchemy's greenlet for checkout, statement and return, where
        # `engine.connect()` and `run_sync` took three.
        fetched, description = await greenlet_spawn(self._driver_rows, compiled.sql, values)
        if compiled.converters is None:
            compiled.described(self.engine.dialect, [column[1] for column in description])
        return fetched

    def _driver_rows(
        self, sql: str, values: tuple[Any, ...]
    ) -> tuple[Fetched, Sequence[Sequence[Any]]]:
        """The driver's own rows (asyncpg's records, asyncmy's tuples): SQLAlchemy's Row
        objects would only be copied into dicts; and the cursor's description of them.
        A connection whose read failed or was cut short is invalidated, not returned."""
        with self.engine.sync_engine.connect() as connection:
            try:
                result = connection.exec_driver_sql(sql, values)
                fetched: Fetched = result.cursor.fetchall()
                description = result.cursor.description
                result.close()
            except BaseException:
                connection.invalidate()
                raise
        return fetched, description

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
