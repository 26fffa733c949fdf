"""PostgreSQL and MariaDB reads cost one round trip each under load (issue 17): the pool
stays warm, a read is one statement outside any transaction, and PostgreSQL prepares
each shape of read once per connection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import create_async_engine

from catalog import load_catalog
from connectors import MemoryConnector, SqlConnector
from connectors.base import Comparison, Operator, OrderKey, Page, Read, ReadContext
from connectors.sql import POOL_SIZE
from demo import DemoScale, generate_demo_data
from errors import SourceUnavailable
from settings import ROOT, Settings
from tests.conftest import SEED, SOURCES, Gateway, serving
from tests.engines import mariadb_database, postgres_database

pytestmark = pytest.mark.anyio
CONTEXT = ReadContext("test-request", purpose="administrative_basis")
SCALE = DemoScale(persons=300, enterprises=100)
SERVER_SOURCES = ("public_security", "market_regulation", "licence_office")
N1 = """{ enterprises(first: 1) { edges { node { creditCode name
  legalRepresentative { idNumber name licences(first: 3) { edges { node { licenceNumber } } } } } } } }"""
CLIENTS = 8  # concurrent requests: more than SQLAlchemy's default pool of 5 kept, fewer than ours


@pytest.fixture
async def postgres_and_mariadb(tmp_path: Path) -> AsyncIterator[Gateway]:
    """The demo city with persons and licences on PostgreSQL, enterprises on MariaDB."""
    async for postgres in postgres_database():
        async for mariadb in mariadb_database():
            urls = {name: f"sqlite+aiosqlite:///{tmp_path / name}.db" for name in SOURCES}
            urls |= {
                "public_security": postgres,
                "licence_office": postgres,
                "market_regulation": mariadb,
            }
            catalog = load_catalog(ROOT / "catalog" / "departments")
            departments = [d for d in catalog.departments if d.source in urls]
            await asyncio.to_thread(generate_demo_data, departments, urls, seed=SEED, scale=SCALE)
            settings = Settings(demo=True, data_dir=tmp_path / "var", sources=urls)
            async with serving(settings) as running:
                yield running


def _sql_connectors(gateway: Gateway) -> dict[str, SqlConnector]:
    connectors = {name: gateway.platform.sources[name].source for name in SERVER_SOURCES}
    assert all(isinstance(c, SqlConnector) for c in connectors.values())
    return connectors  # type: ignore[return-value]


async def _load(gateway: Gateway, rounds: int) -> None:
    async def client() -> None:
        for _ in range(rounds):
            response = await gateway.query(N1)
            assert response.status_code == 200 and "errors" not in response.json()

    await asyncio.gather(*(client() for _ in range(CLIENTS)))


async def test_a_steady_load_keeps_every_connection_it_opens(
    postgres_and_mariadb: Gateway,
) -> None:
    """Connections are opened up to the load's peak, once, and none is closed: with
    SQLAlchemy's default pool of 5, each read past five at once opened a connection and
    closed it on return. So after the warm-up, ~0 are opened per thousand requests."""
    opened: list[str] = []
    closed: list[str] = []
    for name, connector in _sql_connectors(postgres_and_mariadb).items():
        pool = connector.sync_engine
        event.listen(pool, "connect", lambda *_, name=name: opened.append(name))
        event.listen(pool, "close", lambda *_, name=name: closed.append(name))
        event.listen(pool, "close_detached", lambda *_, name=name: closed.append(name))
    await _load(postgres_and_mariadb, rounds=20)
    assert opened, "the load opened the connections it needs"
    assert all(opened.count(name) <= CLIENTS for name in SERVER_SOURCES)
    assert closed == []


async def test_a_read_is_one_statement_outside_any_transaction(
    postgres_and_mariadb: Gateway,
) -> None:
    """The driver's own state after each statement: asyncpg's from PostgreSQL's
    ReadyForQuery status, asyncmy's from the server's status flags. A read wrapped in
    BEGIN ... ROLLBACK (as before issue 17) is in a transaction there."""
    seen: list[tuple[str, bool]] = []
    for connector in _sql_connectors(postgres_and_mariadb).values():

        def after(connection: Any, *_: object, dialect: str = connector.dialect) -> None:
            driver = connection.connection.driver_connection
            if dialect == "postgresql":
                seen.append((dialect, driver.is_in_transaction()))
            else:
                seen.append((dialect, bool(driver.server_status & _MYSQL_IN_TRANSACTION)))

        event.listen(connector.sync_engine, "after_cursor_execute", after)
        event.listen(connector.sync_engine, "begin", lambda *_: seen.append(("begin", True)))
    await _load(postgres_and_mariadb, rounds=2)
    assert {dialect for dialect, _ in seen} == {"postgresql", "mysql", "begin"}
    assert {dialect for dialect, inside in seen if inside} <= {"begin"}


_MYSQL_IN_TRANSACTION = 1  # SERVER_STATUS_IN_TRANS


@pytest.fixture
async def postgres_table() -> AsyncIterator[str]:
    async for url in postgres_database():
        engine = create_async_engine(url)
        async with engine.begin() as connection:
            await connection.execute(
                sa.text(
                    "CREATE TABLE item (id int PRIMARY KEY, parent int, "
                    "area numeric(10, 2), ratio double precision, share real)"
                )
            )
            await connection.execute(
                sa.text(
                    "INSERT INTO item SELECT n, n % 7, n * 1.25, n / 8.0, n / 4.0 "
                    "FROM generate_series(1, 70) AS n"
                )
            )
        await engine.dispose()
        yield url


async def test_postgresql_prepares_a_shape_once_whatever_the_number_of_keys(
    postgres_table: str,
) -> None:
    connector = SqlConnector("items", postgres_table, pool_size=1, max_overflow=0)
    sent: list[str] = []
    event.listen(connector.sync_engine, "before_cursor_execute", lambda *a: sent.append(a[2]))
    try:
        for keys in ((1,), (2, 3), (4, 5, 6)):
            read = Read("item", ("id", "parent"), "id", "parent", keys, Page(2))
            answer = await connector.read(read, CONTEXT)
            assert [[row["parent"] for row in rows] for rows in answer] == [
                [key] * 3
                for key in keys  # a page of 2, and one more to tell hasNextPage
            ]
        async with connector.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            prepared = await raw.driver_connection.fetch(  # type: ignore[union-attr]
                "SELECT statement FROM pg_prepared_statements"
            )
    finally:
        await connector.close()
    reads = [sql for sql in sent if "item" in sql]
    assert len(reads) == 3 and len(set(reads)) == 1
    assert [row["statement"] for row in prepared].count(reads[0]) == 1


async def test_numbers_come_back_in_the_types_sqlalchemy_gives(postgres_table: str) -> None:
    """PostgreSQL's numerics are converted by the type code the driver reports (a
    compiled shape learns them from its first result): numeric as Decimal, double
    precision and real as float."""
    connector = SqlConnector("items", postgres_table)
    try:
        columns = ("id", "area", "ratio", "share")
        for _ in range(2):  # the first read describes the columns, the second reuses it
            [rows] = await connector.read(Read("item", columns, "id", page=Page(2)), CONTEXT)
            assert rows[0] == {
                "id": 1,
                "area": Decimal("1.25"),
                "ratio": 0.125,
                "share": 0.25,
            }
            assert isinstance(rows[0]["area"], Decimal) and isinstance(rows[0]["share"], float)
        [counts] = [await connector.count(Read("item", ("id",), "id", "parent", (1, 2)), CONTEXT)]
        assert counts == [10, 10]
    finally:
        await connector.close()


async def test_postgresql_pages_per_parent_answer_as_the_memory_connector(
    postgres_table: str,
) -> None:
    """Per-parent pages on PostgreSQL are read through a LATERAL join, one index probe
    per distinct key (`_sql_query._lateral_pages`): the same rows, in the same order,
    as the in-memory reference, for repeated and unknown keys, orderings on nullable
    and descending columns, filters and a page's keyset."""
    connector = SqlConnector("items", postgres_table)
    try:
        async with connector.engine.begin() as connection:
            await connection.execute(sa.text("UPDATE item SET area = NULL WHERE id % 5 = 0"))
        [everything] = await connector.read(
            Read("item", ("id", "parent", "area", "ratio"), "id"), CONTEXT
        )
        memory = MemoryConnector("items", {"item": everything})
        keys = (3, 1, 3, 99, 0)
        reads = [
            Read("item", ("id", "parent"), "id", "parent", keys, Page(3)),
            Read(
                "item",
                ("id", "parent", "area"),
                "id",
                "parent",
                keys,
                Page(4),
                order=(OrderKey("area", descending=True),),
            ),
            Read(
                "item",
                ("id", "parent", "area"),
                "id",
                "parent",
                keys,
                Page(2),
                order=(OrderKey("area"),),
            ),
            Read(
                "item",
                ("id", "parent", "ratio"),
                "id",
                "parent",
                keys,
                Page(3),
                predicate=Comparison("id", Operator.GT, 30),
            ),
            Read("item", ("id", "parent"), "id", "parent", (2,), Page(2, (30,))),
        ]
        for read in reads:
            assert await connector.read(read, CONTEXT) == await memory.read(read, CONTEXT), read
    finally:
        await connector.close()


async def test_a_read_past_its_timeout_is_stopped_and_the_pool_still_serves(
    postgres_table: str,
) -> None:
    """The timeout is kept: the read fails as the source unavailable, and the one pooled
    connection (invalidated if the read was cut short mid-statement) serves the next."""
    connector = SqlConnector(
        "items", postgres_table, timeout_seconds=1, pool_size=1, max_overflow=0
    )
    try:
        async with connector.engine.begin() as connection:
            await connection.execute(
                sa.text("CREATE VIEW slow_item AS SELECT item.* FROM item, pg_sleep(5)")
            )
        with pytest.raises(SourceUnavailable):
            await connector.read(Read("slow_item", ("id",), "id", page=Page(1)), CONTEXT)
        [rows] = await connector.read(Read("item", ("id",), "id", page=Page(1)), CONTEXT)
        assert rows == [{"id": 1}, {"id": 2}]
    finally:
        await connector.close()


async def test_pool_sizes_come_from_the_source_settings(postgres_table: str) -> None:
    sized = SqlConnector("items", postgres_table, pool_size=3, max_overflow=2)
    default = SqlConnector("items", postgres_table)
    try:
        assert (sized.engine.pool.size(), sized.engine.pool._max_overflow) == (3, 2)  # type: ignore[attr-defined]
        assert default.engine.pool.size() == POOL_SIZE == 10
    finally:
        await sized.close()
        await default.close()
