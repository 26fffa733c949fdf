"""0010 gives documents registered before it their normalised hash, so a system set
persisted-only later still finds them as free text; and 0010 and 0011 go back down."""

from __future__ import annotations

import datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from documents import normalised, sha256_of
from store.migrate import MIGRATIONS

TEXT = "query Names { enterprises(first: 1) { edges { node { name } } } }"


def test_older_documents_are_normalised_and_the_migrations_go_down(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'platform.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url.replace("sqlite://", "sqlite+aiosqlite://")
    command.upgrade(config, "0009")
    engine = sa.create_engine(url)
    table = sa.table(
        "persisted_documents",
        *(sa.column(name) for name in ("owner_department", "owner_system", "sha256", "text")),
        sa.column("created_at", sa.DateTime),
    )
    row = {
        "owner_department": "11410581005000006G",
        "owner_system": "marriage-registry",
        "sha256": sha256_of(TEXT),
        "text": TEXT,
        "created_at": datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
    }
    with engine.begin() as connection:
        connection.execute(table.insert(), row)
    command.upgrade(config, "head")
    with engine.connect() as connection:
        found = connection.execute(sa.text("SELECT normalised_sha256 FROM persisted_documents"))
        assert found.scalar_one() == normalised(TEXT)
    command.downgrade(config, "0009")
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("persisted_documents")}
        tables = set(sa.inspect(connection).get_table_names())
    engine.dispose()
    assert "normalised_sha256" not in columns and "document_modes" not in tables
