"""The SQL kinds of source: SQLite files, PostgreSQL through asyncpg, MariaDB or MySQL
through asyncmy (`kinds.py`). Their schemes are SQLAlchemy's URL schemes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from pydantic import Field, SecretStr, field_validator
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from connectors.base import Connector
from connectors.kinds import SourceKind, SourceOptions
from connectors.sql import SqlConnector
from connectors.sqlite import SqliteConnector


class SqlOptions(SourceOptions):
    pool_size: int | None = Field(default=None, gt=0)
    """Connections kept open to the database; by default `sql.POOL_SIZE` (PostgreSQL,
    MariaDB) or SQLAlchemy's (SQLite files)."""
    max_overflow: int | None = Field(default=None, ge=0)
    """Connections opened beyond the pool in a burst and closed after; by default
    `sql.MAX_OVERFLOW` (PostgreSQL, MariaDB) or SQLAlchemy's (SQLite files)."""

    @field_validator("url")
    @classmethod
    def a_database(cls, url: SecretStr) -> SecretStr:
        return database_url(url)


def database_url(url: SecretStr) -> SecretStr:
    """`url`, if SQLAlchemy has a driver for it."""
    try:
        sa.make_url(url.get_secret_value()).get_dialect()
    except (ArgumentError, NoSuchModuleError, ValueError):
        raise ValueError("not a SQLAlchemy database URL with a driver this platform has") from None
    return url


def _kind(connector: type[SqlConnector | SqliteConnector]) -> SourceKind[SqlOptions]:
    def opened(name: str, options: SqlOptions) -> Connector:
        return connector(
            name,
            options.url.get_secret_value(),
            timeout_seconds=options.timeout_seconds,
            pool_size=options.pool_size,
            max_overflow=options.max_overflow,
        )

    return SourceKind(SqlOptions, opened)


SQLITE = _kind(SqliteConnector)
ASYNC_SQL = _kind(SqlConnector)
SQL_KINDS: Mapping[str, SourceKind[Any]] = {
    # SQLite is read through its own driver whichever the URL names (see sqlite.py).
    "sqlite": SQLITE,
    "sqlite+aiosqlite": SQLITE,
    "sqlite+pysqlite": SQLITE,
    "postgresql+asyncpg": ASYNC_SQL,
    "mysql+asyncmy": ASYNC_SQL,
}
