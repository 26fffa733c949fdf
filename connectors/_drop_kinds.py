"""The file-drop kind of source: a folder (`file:///srv/drops/statistics`) where a
department delivers CSV or XLSX files, loaded by `drops/` into a staging database that
the platform then reads as any SQL source, with the SQL connector unchanged (pushdown,
masks computed in the database, batches).

The staging database is the platform's own, written only by the loader; the server
reads it read-only. Its URL defaults to a SQLite file under the data directory
(`settings.source_setting`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import sqlalchemy as sa
from pydantic import Field, SecretStr, field_validator

from connectors._sql_kinds import ASYNC_SQL, SQLITE, SqlOptions, database_url
from connectors.base import Connector
from connectors.kinds import SourceKind, SourceOptions


class DropOptions(SourceOptions):
    staging_url: SecretStr
    """The SQL database the files are loaded into (SQLAlchemy async URL)."""
    pool_size: int | None = Field(default=None, gt=0)
    settle_seconds: float = Field(default=2.0, gt=0)
    """A file is complete once its size and modification time have not changed for
    this long: senders over SFTP or a share write in place, so no rename is required."""
    check_seconds: float = Field(default=30.0, gt=0)
    """The folder is also scanned this often, for what the file watcher missed."""

    @field_validator("url")
    @classmethod
    def a_folder(cls, url: SecretStr) -> SecretStr:
        parts = urlsplit(url.get_secret_value())
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValueError("not a folder URL: file:///absolute/path/of/the/drop/folder")
        return url

    @field_validator("staging_url")
    @classmethod
    def a_database(cls, url: SecretStr) -> SecretStr:
        return database_url(url)

    @property
    def folder(self) -> Path:
        return Path(unquote(urlsplit(self.url.get_secret_value()).path))

    def reading_url(self) -> str:
        """The staging database as the server reads it: a SQLite file read-only."""
        url = sa.make_url(self.staging_url.get_secret_value())
        if url.get_backend_name() != "sqlite":
            return url.render_as_string(hide_password=False)
        read_only = url.set(database=f"file:{url.database}").update_query_dict(
            {"mode": "ro", "uri": "true"}
        )
        return read_only.render_as_string(hide_password=False)


def _opened(name: str, options: DropOptions) -> Connector:
    reading = options.reading_url()
    kind = SQLITE if reading.startswith("sqlite") else ASYNC_SQL
    sql = SqlOptions(
        url=SecretStr(reading), timeout_seconds=options.timeout_seconds, pool_size=options.pool_size
    )
    return kind.open(name, sql)


DROP_KINDS: Mapping[str, SourceKind[Any]] = {"file": SourceKind(DropOptions, _opened)}
