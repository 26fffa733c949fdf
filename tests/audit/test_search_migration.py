"""0013 goes back down, and files the facets of the records already in the log on its
way up, on SQLite and PostgreSQL."""

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

from audit import AuditLog, verify
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


async def test_0013_goes_down_and_files_the_records_it_finds_on_the_way_up(url: str) -> None:
    """Down to 0012 (facets, triggers and the sealed column gone, records kept), then up
    again: the records already in the log are filed and found."""
    engine = create_async_engine(url)
    try:
        await asyncio.to_thread(migrate, url, PREFIX, "head")
        log = AuditLog(engine)
        for record in records():
            await log.write(record)
        await log.close()
        await asyncio.to_thread(migrate, url, PREFIX, "0012", down=True)
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
            count = (
                await connection.execute(sa.text("SELECT count(*) FROM audit_records"))
            ).scalar()
        assert "audit_facets" not in tables and count == len(records())

        await asyncio.to_thread(migrate, url, PREFIX, "head")
        page = await search(engine, AuditFilter(subject=ZHANG), [OLD, NEW])
        assert len(page.records) == 2
        page = await search(engine, AuditFilter(grant=9), [NEW])
        assert len(page.records) == 1
        assert (await verify(engine)).ok
    finally:
        await engine.dispose()
