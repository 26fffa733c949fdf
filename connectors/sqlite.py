"""Read SQLite department databases: one worker-thread hop per statement.

aiosqlite hands every cursor operation to its own thread — about five round trips per
statement, ~1 ms of a small read (measured with bench/). SQLite runs in-process, so one
`asyncio.to_thread` per statement is cheaper, and inside that thread SQLite's own
progress handler enforces the statement timeout, which SQLite otherwise lacks.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from connectors._sql_query import (
    count_statement,
    counts_per_match,
    group_rows,
    select_statement,
    source_unavailable,
)
from connectors.base import Capabilities, Read, Row, require_capabilities

Result = TypeVar("Result")


class SqliteConnector:
    capabilities = Capabilities()
    dialect = "sqlite"

    def __init__(self, name: str, url: str, *, timeout_seconds: float = 5.0) -> None:
        self.name = name
        self.timeout_seconds = timeout_seconds
        self.sync_engine = sa.create_engine(sa.make_url(url).set(drivername="sqlite"))
        self._tables: dict[str, sa.Table] = {}
        self._reflecting = threading.Lock()

    async def read(self, read: Read) -> list[list[Row]]:
        require_capabilities(self, read)
        return await self._run(self._read, read)

    async def count(self, read: Read) -> list[int]:
        require_capabilities(self, read, count=True)
        return await self._run(self._count, read)

    async def ping(self) -> None:
        await self._run(self._ping)

    async def close(self) -> None:
        self.sync_engine.dispose()

    async def _run(
        self, work: Callable[[Read], Result] | Callable[[], Result], *args: Read
    ) -> Result:
        try:
            return await asyncio.to_thread(work, *args)  # type: ignore[arg-type]
        except (SQLAlchemyError, OSError) as exc:
            raise source_unavailable(self.name, exc) from None

    def _read(self, read: Read) -> list[list[Row]]:
        statement = select_statement(self._table(read.table), read, self.dialect)
        with self._connection() as connection:
            result = connection.execute(statement)
            keys = list(result.keys())
            rows = [dict(zip(keys, row, strict=True)) for row in result.all()]
        return group_rows(rows, read)

    def _count(self, read: Read) -> list[int]:
        statement = count_statement(self._table(read.table), read, self.dialect)
        with self._connection() as connection:
            result = connection.execute(statement).all()
        return counts_per_match(result, read)

    def _ping(self) -> None:
        with self._connection() as connection:
            connection.execute(sa.text("SELECT 1"))

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sa.Connection]:
        with self.sync_engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            deadline = time.monotonic() + self.timeout_seconds
            driver.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
            try:
                yield connection
            finally:
                driver.set_progress_handler(None, 0)

    def _table(self, name: str) -> sa.Table:
        """Reflect the table once, so values come back in the source's own types."""
        with self._reflecting:
            if name not in self._tables:
                metadata = sa.MetaData()
                with self._connection() as connection:
                    metadata.reflect(connection, only=[name], views=True)
                self._tables[name] = metadata.tables[name]
            return self._tables[name]
