"""Read SQLite department databases in-process, with SQLite's progress handler as the
statement timeout, which SQLite otherwise lacks.

Each shape of read (`_sql_names.shape`) is compiled once: building, cache-keying and
executing a Core statement costs SQLAlchemy several times what SQLite takes to answer
a small read. The compiled text is sent with `exec_driver_sql`, so statement events
(which tests and bench/ count) still fire, and its rows are read from the driver's
cursor: SQLite's errors while fetching reach us unwrapped.

A shape is read in a worker thread until one of its reads proves small (SQLite counts
the virtual-machine instructions it runs); small shapes are then read on the event
loop, since the hop to a thread and back, and the thread's contention with the event
loop for the GIL, cost more than such a read (measured with bench/). On the event loop
SQLite stops a read past `INLINE_LIMIT`, or one that would wait for a writer's lock,
and the read runs again in a worker thread, where its shape stays. Both thresholds
count instructions, not time, so which reads run where does not depend on how busy
the machine is.

A batch of per-parent pages (a nested `first`) is read as all its parents' rows in
order, up to one row more than their pages hold, and the pages are cut from that:
SQLite evaluates the window function of `select_statement` in a subquery and sorts
twice. If that many rows came back, some parent has more than a page: the batch is
read again with the window, and its shape from then on. So the first read takes no
more rows from the database than the window read's most, plus one (rows past a
parent's page are dropped, never served or accounted for), and a shape costs a second
statement once at most, on whichever batch first overflows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import sqlite3
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from connectors._sql_compiled import COMPILED_SHAPES, Build, CompiledRead, Fetched
from connectors._sql_names import bounded_parameters, parameters, shape
from connectors._sql_query import bounded_statement, count_statement, select_statement
from connectors._sql_rows import counts_per_match, group_rows, source_unavailable
from connectors.base import Read, ReadContext, Row
from connectors.capabilities import Capabilities, require_capabilities
from connectors.updates import UpdateSign, as_utc

FAILURES = (SQLAlchemyError, sqlite3.Error, OSError)
STEP = 1000
"""SQLite calls the progress handler every STEP virtual-machine instructions."""
INLINE_AFTER = 20
"""A shape is read on the event loop once a read of it took at most this many steps
(a fraction of a millisecond)..."""
INLINE_LIMIT = 200
"""...and goes back to the worker thread when a read of it would take more."""


class SqliteConnector:
    capabilities = Capabilities()
    dialect = "sqlite"

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
        sized: dict[str, Any] = {} if pool_size is None else {"pool_size": pool_size}
        if max_overflow is not None:
            sized["max_overflow"] = max_overflow
        # Never wait for a lock on the event loop: only `_connection(wait=True)` does.
        self.sync_engine = sa.create_engine(
            sa.make_url(url).set(drivername="sqlite"), connect_args={"timeout": 0}, **sized
        )
        self._tables: dict[str, sa.Table] = {}
        self._statements: dict[tuple[Build, object], _Compiled] = {}

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        require_capabilities(self, read)
        if read.match_column is not None and read.page is not None:
            pages = await self._pages_cut(read)
            if pages is not None:
                return pages
        named = parameters(read)
        compiled = await self._compiled(select_statement, read, named)
        return group_rows(compiled.rows(await self._fetch(compiled, named)), read)

    async def count(self, read: Read, context: ReadContext) -> list[int]:
        require_capabilities(self, read, count=True)
        named = parameters(read)
        compiled = await self._compiled(count_statement, read, named)
        return counts_per_match(await self._fetch(compiled, named), read)

    async def ping(self) -> None:
        try:
            await asyncio.to_thread(self._ping)
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None

    async def last_update(self, sign: UpdateSign) -> datetime.datetime | None:
        """`max(column)` of the table: one value, never a row."""
        if sign.column is None:
            return None
        try:
            table = await self._table(sign.table)
            statement = sa.select(sa.func.max(table.c[sign.column]))
            value = await asyncio.to_thread(self._scalar, statement)
        except (*FAILURES, KeyError) as exc:
            raise source_unavailable(self.name, exc) from None
        return as_utc(value)

    async def close(self) -> None:
        self.sync_engine.dispose()

    def _scalar(self, statement: sa.Select[Any]) -> Any:
        with self._connection(_Progress(self.timeout_seconds), wait=True) as connection:
            return connection.execute(statement).scalar()

    async def _pages_cut(self, read: Read) -> list[list[Row]] | None:
        """Per-parent pages cut from one read of all the parents' rows, or None when
        they have more rows than the pages hold (see the module docstring).

        For the benchmark's nested `first: 3` (licences and land parcels of 100
        enterprises) SQLite runs 8.3 million instructions for the window reads and 4.7
        for these (callgrind); with 1000 enterprises, 80 and 46 million.
        """
        named = bounded_parameters(read)
        compiled = await self._compiled(bounded_statement, read, named)
        if compiled.spills:
            return None
        fetched = await self._fetch(compiled, named)
        if len(fetched) == named["bound"]:
            compiled.spills = True
            return None
        assert read.page is not None
        limit = read.page.limit
        return [rows[:limit] for rows in group_rows(compiled.rows(fetched), read)]

    async def _compiled(self, build: Build, read: Read, named: dict[str, Any]) -> _Compiled:
        key = (build, shape(read))
        compiled = self._statements.get(key)
        if compiled is None:
            statement = build(await self._table(read.table), read, self.dialect)
            compiled = _Compiled.of(statement, self.sync_engine.dialect, named)
            if len(self._statements) >= COMPILED_SHAPES:
                del self._statements[next(iter(self._statements))]
            self._statements[key] = compiled
        return compiled

    async def _fetch(self, compiled: _Compiled, named: Mapping[str, Any]) -> Fetched:
        values = compiled.values(named)
        try:
            if compiled.inline:
                with contextlib.suppress(_Deferred):
                    return self._execute(compiled, values, inline=True)
            return await asyncio.to_thread(self._execute, compiled, values, inline=False)
        except FAILURES as exc:
            raise source_unavailable(self.name, exc) from None

    def _execute(self, compiled: _Compiled, values: tuple[Any, ...], *, inline: bool) -> Fetched:
        progress = _Progress(self.timeout_seconds, INLINE_LIMIT if inline else None)
        with self._connection(progress, wait=not inline) as connection:
            try:
                result = connection.exec_driver_sql(compiled.sql, values)
                # The driver's own rows: SQLAlchemy's Row objects would only be copied.
                fetched: Fetched = result.cursor.fetchall()
            except FAILURES:
                if not inline or progress.timed_out:
                    raise
                compiled.inline = not progress.over_limit
                raise _Deferred from None
            result.close()
        if not inline:
            compiled.inline = progress.steps <= INLINE_AFTER
        return fetched

    def _ping(self) -> None:
        with self._connection(_Progress(self.timeout_seconds), wait=True) as connection:
            connection.exec_driver_sql("SELECT 1")

    @contextlib.contextmanager
    def _connection(self, progress: _Progress, *, wait: bool) -> Iterator[sa.Connection]:
        """A pooled connection that SQLite stops as `progress` says; with `wait`, one
        that waits for a writer's lock until the timeout (in a worker thread only)."""
        with self.sync_engine.connect() as connection:
            driver = connection.connection.driver_connection
            assert driver is not None
            driver.set_progress_handler(progress, STEP)
            if wait:
                driver.execute(f"PRAGMA busy_timeout = {int(self.timeout_seconds * 1000)}")
            try:
                yield connection
            finally:
                driver.set_progress_handler(None, 0)
                if wait:
                    driver.execute("PRAGMA busy_timeout = 0")

    async def _table(self, name: str) -> sa.Table:
        """Reflect the table once, so values come back in the source's own types."""
        if name not in self._tables:
            try:
                self._tables[name] = await asyncio.to_thread(self._reflect, name)
            except FAILURES as exc:
                raise source_unavailable(self.name, exc) from None
        return self._tables[name]

    def _reflect(self, name: str) -> sa.Table:
        metadata = sa.MetaData()
        with self._connection(_Progress(self.timeout_seconds), wait=True) as connection:
            metadata.reflect(connection, only=[name], views=True)
        return metadata.tables[name]


class _Deferred(Exception):
    """SQLite stopped a read on the event loop; it runs again in a worker thread."""


class _Progress:
    """SQLite's progress handler: counts a statement's steps, and stops it when the
    timeout has passed or, with a `limit`, after that many steps."""

    def __init__(self, seconds: float, limit: int | None = None) -> None:
        self.deadline = time.monotonic() + seconds
        self.limit = limit
        self.steps = 0
        self.timed_out = self.over_limit = False

    def __call__(self) -> bool:
        self.steps += 1
        self.over_limit = self.limit is not None and self.steps > self.limit
        self.timed_out = time.monotonic() > self.deadline
        return self.over_limit or self.timed_out


@dataclass
class _Compiled(CompiledRead):
    """A shape's statement as SQLite takes it, and where it is read."""

    inline: bool = False
    """Read on the event loop: see the module docstring."""
    spills: bool = False
    """A `bounded_statement` that came back full once: its shape is read by the window."""
