"""Bring the platform store to the newest migration; run before serving."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from store.engine import store_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def upgrade(url: str) -> None:
    """Blocking: call it from a thread, never from the event loop (env.py runs its own).
    A SQLite store's folder is made if it is missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = url
    command.upgrade(config, "head")


@contextlib.asynccontextmanager
async def migrated(url: str) -> AsyncIterator[AsyncEngine]:
    """The store for a command line that changes it: migrated first, disposed after."""
    await asyncio.to_thread(upgrade, url)
    engine = store_engine(url)
    try:
        yield engine
    finally:
        await engine.dispose()
