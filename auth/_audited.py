"""A change to the platform's administration and its audit record, in one transaction.

The record is appended to the same SM3 chain the server writes, under the chain's
lock (`audit.lock.appending`), after the change's own statements: both are committed,
or neither. A server's audit writer finds the head moved and links after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit import AuditRecord
from audit.chain import link_prepared, prepare
from audit.insert import insert
from audit.lock import appending
from audit.reads import read_chain_id, read_head

T = TypeVar("T")


async def audited(
    engine: AsyncEngine, change: Callable[[sa.Connection], tuple[T, AuditRecord]]
) -> T:
    """Run `change` and append its audit record in one transaction under the chain's
    lock: both are committed, or neither."""
    async with appending(engine) as connection:
        return await connection.run_sync(_append_after, change)


def _append_after(
    connection: sa.Connection, change: Callable[[sa.Connection], tuple[T, AuditRecord]]
) -> T:
    started = time.perf_counter()
    result, record = change(connection)
    record.duration_ms = (time.perf_counter() - started) * 1000
    entry = prepare(record)
    chain_id = read_chain_id(connection)
    link_prepared(read_head(connection, chain_id), chain_id, [entry])
    insert(connection, [entry])
    return result
