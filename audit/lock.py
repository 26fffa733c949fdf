"""The chain's append lock: one writer at a time links records to the head.

One chain per store, and appends are serialised by the database itself: on PostgreSQL a
transaction-level advisory lock, on SQLite `BEGIN IMMEDIATE` (the write lock taken
before the head is read). Per-instance chains would let several server processes
append without waiting, but an auditor would then have to prove that no whole chain
went missing, and a cut-off tail of one chain could hide among the others; with one
chain, one checkpoint covers everything, and the lock is held only for one indexed
read and one insert per batch (group commit keeps that rare). A writer that knows the
head it committed last skips even that: its INSERT carries the head as a guard
(`audit.insert.insert_if_head`), and only a guard that fails sends it to the lock.

On PostgreSQL, audit_remove_exported() (migration 0003) takes the same advisory lock
(LOCK_KEY), so a removal never interleaves with an append.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from store.tables import audit_chain

# pg_advisory_xact_lock key for appends (and removals); advisory keys are per database.
LOCK_KEY = int.from_bytes(
    hashlib.new("sm3", b"gov-share audit chain").digest()[:8], "big", signed=True
)


def _lock(connection: sa.Connection) -> None:
    """Take the chain's append lock, first thing in the transaction begun on `connection`,
    so the head read after it cannot be stale: two writers (two processes, or two
    AuditLog instances on one SQLite file) never link to one head. Should anything still
    link two records to one head, the unique (chain_id, seq) refuses the second batch: a
    fork is never stored, the batch fails closed."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif dialect == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
    else:
        connection.execute(sa.select(audit_chain.c.chain_id).with_for_update())


# On PostgreSQL the transaction is READ COMMITTED whatever the server's default, so the
# head is read in a snapshot taken after the lock was granted.
_ISOLATION = {"postgresql": {"isolation_level": "READ COMMITTED"}}


@contextmanager
def locked(connection: sa.Connection) -> Iterator[None]:
    """A transaction on `connection` that holds the chain's append lock until it ends."""
    connection.execution_options(**_ISOLATION.get(connection.dialect.name, {}))
    with connection.begin():
        _lock(connection)
        yield


@asynccontextmanager
async def appending(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """`locked()` for async callers: a connection in a transaction that holds the lock."""
    async with engine.connect() as connection:
        await connection.execution_options(**_ISOLATION.get(connection.dialect.name, {}))
        async with connection.begin():
            await connection.run_sync(_lock)
            yield connection
