"""A migrated platform store per test, on SQLite and on PostgreSQL.

On PostgreSQL the migration makes the audit roles under a prefix unique to the test;
roles are cluster-wide, so they are dropped after the test's database is.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from audit import AuditLog, AuditRecord, FieldAccount
from audit.chain import JSON_COLUMNS, prepare
from audit.checkpoint import Checkpointer, CheckpointFile, Signer, key_id
from store import store_engine, upgrade
from store.tables import audit_records
from tests.engines import drop_audit_roles, postgres_database


@dataclass
class Store:
    dialect: str
    url: str
    engine: AsyncEngine  # the migrating account: superuser on PostgreSQL
    role_prefix: str
    tmp_path: Path
    _engines: list[AsyncEngine] = field(default_factory=list)

    def engine_as(self, role: str) -> AsyncEngine:
        """An engine whose every connection acts as one of the audit roles (PostgreSQL)."""
        assert self.dialect == "postgresql"
        # A startup parameter, not `SET ROLE` in a connect event: that runs inside the
        # driver's first transaction, and a rollback would quietly undo it.
        role_setting = {"role": f"{self.role_prefix}_{role}"}
        engine = create_async_engine(self.url, connect_args={"server_settings": role_setting})
        self._engines.append(engine)
        return engine

    def another_engine(self) -> AsyncEngine:
        engine = store_engine(self.url)
        self._engines.append(engine)
        return engine

    async def tamper(self, sql: str, **params: Any) -> None:
        """Change the store the way an attacker with the owner's or a superuser's
        access (or the SQLite file) could: past the append-only triggers."""
        async with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                await connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            else:
                for name in ("audit_records_no_update", "audit_records_no_delete"):
                    await connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
            await connection.execute(sa.text(sql), params)

    async def rows(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                sa.select(audit_records).order_by(audit_records.c.seq, audit_records.c.id)
            )
            return [dict(row) for row in result.mappings()]

    async def dispose(self) -> None:
        for engine in (*self._engines, self.engine):
            await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Store]:
    async for made in _store(request.param, tmp_path, monkeypatch):
        yield made


@pytest.fixture
async def sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    async for made in _store("sqlite", tmp_path, monkeypatch):
        yield made


@pytest.fixture
async def postgres_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Store]:
    async for made in _store("postgresql", tmp_path, monkeypatch):
        yield made


async def _store(
    dialect: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Store]:
    prefix = f"gs_t{uuid.uuid4().hex[:10]}_audit"
    monkeypatch.setenv("GOV_SHARE_AUDIT_ROLE_PREFIX", prefix)
    if dialect == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'platform.db'}"
        await asyncio.to_thread(upgrade, url)
        made = Store(dialect, url, store_engine(url), prefix, tmp_path)
        yield made
        await made.dispose()
        return
    try:
        async for url in postgres_database():
            await asyncio.to_thread(upgrade, url)
            made = Store(dialect, url, create_async_engine(url), prefix, tmp_path)
            try:
                yield made
            finally:
                await made.dispose()
    finally:
        await drop_audit_roles(prefix)


NOW = datetime.datetime.now(datetime.UTC)


def make_record(
    n: int = 0, *, occurred_at: datetime.datetime | None = None, **changes: Any
) -> AuditRecord:
    record = AuditRecord(
        request_id=str(uuid.uuid4()),
        occurred_at=occurred_at or NOW,
        outcome="served",
        http_status=200,
        hash_key_id="k1",
        catalog_version="c1",
        policy_version="p1",
        duration_ms=1.25 + n / 3,
        caller_department="11410581005000006G",
        caller_system="marriage-registry",
        operator="mz-0231",
        purpose="administrative_basis",
        purpose_reference="（2026）林民登字第118号",
        operation_hash="ab" * 32,
        client_address="10.1.2.3",
        error_codes=["APPLICATION_REQUIRED"],
        fields=[FieldAccount("enterprises.edges.node.name", 2 + n, "clear", "catalog")],
        records={"enterprise": {"keys": [f"{n:064x}"], "subjects": ["cd" * 32]}},
    )
    for name, value in changes.items():
        setattr(record, name, value)
    return record


def stored_row(record: AuditRecord) -> dict[str, Any]:
    """The record's row as a store gives it back: the JSON columns decoded."""
    row = prepare(record).row
    for name in JSON_COLUMNS:
        row[name] = json.loads(row[name])
    return row


def checkpointer(tmp_path: Path, private_key: Ed25519PrivateKey | None = None) -> Checkpointer:
    signer = Signer(private_key or Ed25519PrivateKey.from_private_bytes(b"\x07" * 32))
    return Checkpointer(signer, CheckpointFile(tmp_path / "checkpoints.jsonl"))


def keys_of(checkpoints: Checkpointer) -> dict[str, Any]:
    return {key_id(checkpoints.signer.public_key): checkpoints.signer.public_key}


async def write_records(log: AuditLog, count: int, **changes: Any) -> list[AuditRecord]:
    records = [make_record(n, **changes) for n in range(count)]
    await asyncio.gather(*(log.write(record) for record in records))
    return records
