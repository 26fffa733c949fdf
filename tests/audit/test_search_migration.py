"""0012 files the facets of records written before it, and goes back down, on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from audit import AuditLog
from audit.search import AuditFilter, search
from store.migrate import MIGRATIONS
from tests.audit.test_search import NEW, OLD, ZHANG, records
from tests.engines import drop_audit_roles, postgres_database

pytestmark = pytest.mark.anyio


PREFIX = f"gs_t{uuid.uuid4().hex[:10]}_audit"


@pytest.fixture(params=["sqlite", "postgresql"])
async def url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A store's URL; on PostgreSQL the roles go after the database, whose tables they own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"
        return
    try:
        async for made in postgres_database():
            yield made
    finally:
        await drop_audit_roles(PREFIX)


def migrate(url: str, prefix: str, revision: str, *, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    config.attributes["audit_role_prefix"] = prefix
    (command.downgrade if down else command.upgrade)(config, revision)


async def test_records_written_before_0012_are_found_after_it(url: str) -> None:
    prefix = PREFIX
    engine = create_async_engine(url)
    try:
        await asyncio.to_thread(migrate, url, prefix, "0011")
        log = AuditLog(engine)
        for record in records():
            await log.write(record)
        await log.close()
        await asyncio.to_thread(migrate, url, prefix, "head")
        page = await search(engine, AuditFilter(subject=ZHANG), [OLD, NEW])
        assert len(page.records) == 2
        page = await search(engine, AuditFilter(grant=9), [NEW])
        assert len(page.records) == 1

        await asyncio.to_thread(migrate, url, prefix, "0011", down=True)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
        assert "audit_facets" not in tables
        log = AuditLog(engine)
        await log.write(records()[0])  # the trigger went with the table
        await log.close()
    finally:
        await engine.dispose()
