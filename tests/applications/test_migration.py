"""0014 makes the applications' tables and goes back down, on SQLite and PostgreSQL
(where it also gives the server's writer role what an approval needs, and takes it
back)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from store.migrate import MIGRATIONS
from tests.engines import drop_audit_roles, postgres_database

pytestmark = pytest.mark.anyio

TABLES = {"applications", "application_steps", "webhook_deliveries", "notification_cursor"}


async def tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return set(await connection.run_sync(lambda c: sa.inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def up_down_up(url: str, prefix: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    config.attributes["audit_role_prefix"] = prefix
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await tables(url) >= TABLES
    await asyncio.to_thread(command.downgrade, config, "0013")
    assert not TABLES & await tables(url)
    await asyncio.to_thread(command.upgrade, config, "head")
    assert await tables(url) >= TABLES


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
async def test_0014_goes_up_and_down(engine: str, tmp_path: Path) -> None:
    prefix = f"gs_m{uuid.uuid4().hex[:10]}_audit"
    if engine == "sqlite":
        await up_down_up(f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}", prefix)
        return
    try:
        async for url in postgres_database():
            await up_down_up(url, prefix)
    finally:
        await drop_audit_roles(prefix)
