"""A PostgreSQL platform store for one benchmark run, dropped afterwards, even on failure.

The migrations make cluster-wide audit roles `<prefix>_owner|writer|retention|auditor`
(store/migrations/versions/0003_audit_append_only.py); the run uses a prefix of its
own and drops those roles after the database, as tests/audit/conftest.py does.
`store.upgrade()` reads the prefix from the environment (a fresh `Settings()`), so it
is set there too for the duration of the run, and restored after.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ROLES = ("owner", "writer", "retention", "auditor")
PREFIX_VARIABLE = "GOV_SHARE_AUDIT_ROLE_PREFIX"


@dataclass(frozen=True)
class PgStore:
    url: str
    """SQLAlchemy async URL of the run's database."""
    database: str
    role_prefix: str


@contextlib.asynccontextmanager
async def temporary_store(admin_url: str = ADMIN_URL) -> AsyncIterator[PgStore]:
    token = secrets.token_hex(5)
    database, prefix = f"gsbench_{token}", f"gsbench_{token}_audit"
    url = make_url(admin_url).set(drivername="postgresql+asyncpg", database=database)
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE DATABASE \"{database}\" TEMPLATE template0 ENCODING 'UTF8'")
    finally:
        await admin.close()
    try:
        with _environment(PREFIX_VARIABLE, prefix):
            yield PgStore(url.render_as_string(hide_password=False), database, prefix)
    finally:
        await _drop(admin_url, database, prefix)


async def _drop(admin_url: str, database: str, prefix: str) -> None:
    """The database first: the roles own its tables and cannot go while it exists."""
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for role in ROLES:
            await admin.execute(f'DROP ROLE IF EXISTS "{prefix}_{role}"')
        left = await admin.fetchval(
            "SELECT count(*) FROM pg_roles WHERE starts_with(rolname, $1)", prefix
        )
        if left:
            raise RuntimeError(f"{left} roles named {prefix}* are left behind")
    finally:
        await admin.close()


@contextlib.contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = before
