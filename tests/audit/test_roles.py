"""PostgreSQL: the writer appends and reads, and can neither change nor remove records,
nor switch off the trigger that stops everyone else."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import AuditLog, verify
from tests.audit.conftest import Store, make_record

pytestmark = pytest.mark.anyio


async def refused(engine: AsyncEngine, sql: str, reason: str) -> None:
    with pytest.raises(sa.exc.DBAPIError, match=reason):
        async with engine.begin() as connection:
            await connection.execute(sa.text(sql))


async def names(store: Store, sql: str) -> set[str]:
    """The first column of `sql`'s rows, as a set (the triggers a catalog table lists)."""
    async with store.engine.connect() as connection:
        return set((await connection.execute(sa.text(sql))).scalars())


async def test_the_writer_inserts_and_cannot_change_or_remove(postgres_store: Store) -> None:
    writer = postgres_store.engine_as("writer")
    log = AuditLog(writer)
    await log.write(make_record(1))
    await log.write(make_record(2))
    assert await log.find((await postgres_store.rows())[0]["request_id"]) is not None

    denied = "permission denied"
    await refused(writer, "UPDATE audit_records SET operator = 'x' WHERE seq = 1", denied)
    await refused(writer, "DELETE FROM audit_records WHERE seq = 1", denied)
    await refused(writer, "TRUNCATE audit_records", denied)
    await refused(writer, "ALTER TABLE audit_records DISABLE TRIGGER USER", "must be owner")
    await refused(writer, "SELECT audit_remove_exported(1)", denied)
    await refused(writer, "UPDATE audit_chain SET format = 2", denied)
    await refused(writer, "INSERT INTO audit_exports (chain_id) VALUES ('x')", denied)
    assert [row["seq"] for row in await postgres_store.rows()] == [1, 2]
    assert (await verify(postgres_store.engine)).ok


async def test_the_owner_and_superusers_meet_the_trigger(postgres_store: Store) -> None:
    await AuditLog(postgres_store.engine).write(make_record())
    append_only = "append-only"
    for engine in (postgres_store.engine_as("owner"), postgres_store.engine):
        await refused(engine, "UPDATE audit_records SET operator = 'x'", append_only)
        await refused(engine, "DELETE FROM audit_records", append_only)
        await refused(engine, "TRUNCATE audit_records", append_only)
        await refused(engine, "DELETE FROM audit_chain", append_only)
    assert len(await postgres_store.rows()) == 1


async def test_retention_removes_only_through_the_function(postgres_store: Store) -> None:
    await AuditLog(postgres_store.engine).write(make_record())
    retention = postgres_store.engine_as("retention")
    await refused(retention, "DELETE FROM audit_records", "permission denied")
    await refused(retention, "SELECT audit_remove_exported(12345)", "no export marker 12345")
    await refused(
        retention, "INSERT INTO audit_records (request_id) VALUES ('x')", "permission denied"
    )


async def test_the_auditor_only_reads(postgres_store: Store) -> None:
    await AuditLog(postgres_store.engine).write(make_record())
    auditor = postgres_store.engine_as("auditor")
    async with auditor.connect() as connection:
        assert await connection.scalar(sa.text("SELECT current_user")) == (
            f"{postgres_store.role_prefix}_auditor"
        )
    assert (await verify(auditor)).ok
    await refused(auditor, "DELETE FROM audit_records", "permission denied")
    await refused(auditor, "INSERT INTO audit_exports (chain_id) VALUES ('x')", "permission denied")


async def test_the_sqlite_store_has_its_triggers(store: Store) -> None:
    """A batch migration that recreates audit_records on SQLite drops its triggers."""
    if store.dialect != "sqlite":
        triggers = await names(store, "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        assert {"audit_records_append_only", "audit_records_no_truncate"} <= triggers
        return
    triggers = await names(store, "SELECT name FROM sqlite_master WHERE type = 'trigger'")
    assert {"audit_records_no_update", "audit_records_no_delete"} <= triggers
