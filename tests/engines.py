"""Real PostgreSQL and MariaDB databases for one test each, created and dropped around it.

With CI=true a server that cannot be reached fails the test; elsewhere it is skipped
with the reason. Text columns use binary collation on both, so orderings compare
byte for byte with SQLite's.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import asyncmy
import asyncpg
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "database": "test"}
MARIADB = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def unreachable(engine: str, error: Exception) -> NoReturn:
    message = f"{engine} is not reachable: {type(error).__name__}: {error}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


async def postgres_database() -> AsyncIterator[str]:
    name = f"gs_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(**POSTGRES)  # type: ignore[arg-type]
    except (OSError, asyncpg.PostgresError) as error:
        unreachable("PostgreSQL", error)
    try:
        await admin.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8'"
        )
        yield f"postgresql+asyncpg://{POSTGRES['user']}@{POSTGRES['host']}:{POSTGRES['port']}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


AUDIT_ROLES = ("owner", "writer", "retention", "auditor")


async def drop_audit_roles(prefix: str) -> None:
    """The cluster-wide roles a store's migrations made under `prefix`: dropped after
    the store's database, whose tables they own."""
    try:
        admin = await asyncpg.connect(**POSTGRES)  # type: ignore[arg-type]
    except (OSError, asyncpg.PostgresError):
        return  # never reached the server, so no roles were made
    try:
        for role in AUDIT_ROLES:
            await admin.execute(f'DROP ROLE IF EXISTS "{prefix}_{role}"')
        left = await admin.fetchval(
            "SELECT count(*) FROM pg_roles WHERE rolname LIKE $1", f"{prefix}%"
        )
        assert left == 0, "a test left audit roles behind"
    finally:
        await admin.close()


async def mariadb_database() -> AsyncIterator[str]:
    name = f"gs_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncmy.connect(**MARIADB)
    except (OSError, asyncmy.errors.Error) as error:
        unreachable("MariaDB", error)
    try:
        async with admin.cursor() as cursor:
            await cursor.execute(
                f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
            )
        yield f"mysql+asyncmy://{MARIADB['user']}@{MARIADB['host']}:{MARIADB['port']}/{name}?charset=utf8mb4"
    finally:
        async with admin.cursor() as cursor:
            await cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


ENGINES = ("sqlite", "postgresql", "mariadb")


async def engine_database(engine: str, sqlite_path: str) -> AsyncIterator[str]:
    """One database of `engine` for one test: SQLite in the test's own folder."""
    if engine == "postgresql":
        async for url in postgres_database():
            yield url
    elif engine == "mariadb":
        async for url in mariadb_database():
            yield url
    else:
        yield f"sqlite+aiosqlite:///{sqlite_path}"


async def source_rows(url: str, sql: str) -> list[dict[str, Any]]:
    """A department database read directly, past the platform: the tests' oracle."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return [dict(row) for row in (await connection.execute(sa.text(sql))).mappings()]
    finally:
        await engine.dispose()
