"""A file-drop source's staging database: one table per resource, as the catalog
declares it (`demo.tables.build_table`), which the server reads as any SQL source, and
`_loads`, the stamp of every file loaded.

A file replaces its resource's records whole, and readers see the old records or the
new ones, never a mix nor none: the rows go into a table of a new name, and only once
every row has been checked and written is it renamed to the resource's table, in the
transaction that drops the old one and stamps the load (SQLite and PostgreSQL roll
DDL back with the rest). MariaDB commits DDL at once, so there the new table is filled
and committed first, then swapped with one `RENAME TABLE` (atomic for all the tables
it names), and the load stamped; a load that fails drops its table. A table of the new
name a killed loader left behind (MariaDB only) is named `<table>__<hex>`.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from catalog import Catalog, Resource
from demo.tables import build_table, joined_items

LOADS = "_loads"
LOAD_TIME = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
"""To the microsecond on MariaDB too, whose DATETIME otherwise drops the fraction."""
_metadata = sa.MetaData()
loads = sa.Table(
    LOADS,
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("resource", sa.String(64), nullable=False, index=True),
    sa.Column("loaded_at", LOAD_TIME, nullable=False, comment="UTC"),
    sa.Column("file_name", sa.String(255), nullable=False),
    sa.Column("digest", sa.String(64), nullable=False, comment="SM3 of the file, hex"),
    sa.Column("record_count", sa.Integer, nullable=False),
    mysql_charset="utf8mb4",
)
BUSY_SECONDS = 60
"""How long a SQLite load waits for another load of the same staging database."""


@dataclass(frozen=True)
class Stamp:
    """One file loaded: what the freshness of its resource is read from."""

    resource: str
    loaded_at: datetime.datetime
    file_name: str
    digest: str
    record_count: int


class Staging:
    """The staging database, for the loader (which writes it) and `python -m drops`."""

    def __init__(self, url: str) -> None:
        self.engine: AsyncEngine = create_async_engine(url, **_options(url))
        self.dialect = self.engine.dialect.name
        if self.dialect == "sqlite":
            _explicit_transactions(self.engine)

    async def prepare(self) -> None:
        """Make the database ready to load into and to read: a SQLite file's folder,
        and the `_loads` table."""
        database = self.engine.url.database
        if self.dialect == "sqlite" and database:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        async with self.engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)

    async def replace(
        self,
        catalog: Catalog,
        resource: Resource,
        batches: Iterable[Sequence[dict[str, Any]]],
        *,
        file_name: str,
        digest: str,
    ) -> Stamp:
        """Load every batch of rows as the resource's records, replacing the old ones at
        once; nothing changes if a batch raises."""
        joined = joined_items(catalog.departments)
        name = f"{resource.table}__{secrets.token_hex(3)}"
        table = build_table(sa.MetaData(), resource, joined, name=name)
        if self.dialect in ("mysql", "mariadb"):
            return await self._replace_in_steps(resource, table, batches, file_name, digest)
        async with self.engine.begin() as connection:
            await connection.run_sync(table.create)
            count = await _insert(connection, table, batches)
            await connection.run_sync(_drop_if_exists, resource.table)
            await connection.exec_driver_sql(
                f"ALTER TABLE {self._quoted(name)} RENAME TO {self._quoted(resource.table)}"
            )
            return await _stamp(connection, resource, file_name, digest, count)

    async def _replace_in_steps(
        self,
        resource: Resource,
        table: sa.Table,
        batches: Iterable[Sequence[dict[str, Any]]],
        file_name: str,
        digest: str,
    ) -> Stamp:
        old = f"{resource.table}__old"
        try:
            async with self.engine.begin() as connection:
                await connection.run_sync(table.create)
                count = await _insert(connection, table, batches)
            async with self.engine.begin() as connection:
                await connection.run_sync(_drop_if_exists, old)
                exists = await connection.run_sync(_has_table, resource.table)
                renames = [(table.name, resource.table)]
                if exists:
                    renames.insert(0, (resource.table, old))
                pairs = ", ".join(f"{self._quoted(a)} TO {self._quoted(b)}" for a, b in renames)
                await connection.exec_driver_sql(f"RENAME TABLE {pairs}")
                await connection.run_sync(_drop_if_exists, old)
                return await _stamp(connection, resource, file_name, digest, count)
        finally:
            async with self.engine.begin() as connection:
                await connection.run_sync(_drop_if_exists, table.name)

    async def stamps(self) -> list[Stamp]:
        """The last load of each resource loaded at least once."""
        latest = (
            sa.select(loads.c.resource, sa.func.max(loads.c.id).label("id"))
            .group_by(loads.c.resource)
            .subquery()
        )
        statement = (
            sa.select(loads).join(latest, latest.c.id == loads.c.id).order_by(loads.c.resource)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(statement)).mappings().all()
        return [
            Stamp(
                row["resource"],
                row["loaded_at"],
                row["file_name"],
                row["digest"],
                row["record_count"],
            )
            for row in rows
        ]

    async def close(self) -> None:
        await self.engine.dispose()

    def _quoted(self, name: str) -> str:
        return self.engine.dialect.identifier_preparer.quote(name)


async def _insert(
    connection: AsyncConnection, table: sa.Table, batches: Iterable[Sequence[dict[str, Any]]]
) -> int:
    count = 0
    for batch in batches:
        if batch:
            await connection.execute(table.insert(), list(batch))
            count += len(batch)
    return count


async def _stamp(
    connection: AsyncConnection, resource: Resource, file_name: str, digest: str, count: int
) -> Stamp:
    stamp = Stamp(
        resource.id,
        datetime.datetime.now(datetime.UTC).replace(tzinfo=None),
        file_name,
        digest,
        count,
    )
    await connection.execute(
        loads.insert().values(
            resource=stamp.resource,
            loaded_at=stamp.loaded_at,
            file_name=stamp.file_name,
            digest=stamp.digest,
            record_count=stamp.record_count,
        )
    )
    return stamp


def _has_table(connection: sa.Connection, name: str) -> bool:
    return sa.inspect(connection).has_table(name)


def _drop_if_exists(connection: sa.Connection, name: str) -> None:
    sa.Table(name, sa.MetaData()).drop(connection, checkfirst=True)


def _options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        return {"connect_args": {"timeout": BUSY_SECONDS}}
    return {}


def _explicit_transactions(engine: AsyncEngine) -> None:
    """In WAL mode, so a reader never waits for a load (nor a load for a reader).

    SQLite's Python driver begins a transaction only before an INSERT, so a CREATE
    or DROP before it would commit on its own: the driver is told to begin none, and
    every transaction begins here, taking the write lock at once (`IMMEDIATE`) so two
    loads queue rather than fail."""

    @sa.event.listens_for(engine.sync_engine, "connect")
    def _no_implicit(connection: Any, _record: Any) -> None:
        connection.isolation_level = None
        connection.cursor().execute("PRAGMA journal_mode=WAL")

    @sa.event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
