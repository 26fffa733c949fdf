"""One transaction of synchronous SQLAlchemy work, on a sync or an async database URL.

The demo writes with plain SQLAlchemy Core. An async URL (aiosqlite, asyncpg, asyncmy:
the drivers the platform reads with) runs the same work through `run_sync`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import Connection, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

Work = Callable[[Connection], None]


def in_transaction(url: str, work: Work) -> None:
    """Run `work` in one committed transaction. For an async URL this starts an event
    loop, so call it where none is running (a thread, or plain synchronous code)."""
    if make_url(url).get_dialect().is_async:
        asyncio.run(_in_async_transaction(url, work))
        return
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            work(connection)
    finally:
        engine.dispose()


async def _in_async_transaction(url: str, work: Work) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(work)
    finally:
        await engine.dispose()
