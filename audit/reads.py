"""The chain as stored: its id, its head, the anchors exports leave, its records in order.

Kept apart from the format (`audit.chain`), which is pure and hashes what it is given,
and from the lock (`audit.lock`), which only serialises appends: these are the reads
the writer, the verifier, checkpoints and retention share.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from audit.chain import GENESIS, Head
from store.tables import audit_chain, audit_exports, audit_records

# The reads of the head take a sync connection: the audit writer runs a whole append in
# one worker-thread hop on SQLite, or in one `AsyncConnection.run_sync()`; async callers
# use `run_sync()` too. Readers of the whole chain (verify, export) are async.


def read_chain_id(connection: sa.Connection) -> str:
    return str(connection.execute(sa.select(audit_chain.c.chain_id)).scalar_one())


def read_head(connection: sa.Connection, chain_id: str) -> Head:
    """The newest record; with none left, the last exported one (retention); else genesis."""
    columns = audit_records.c
    newest = connection.execute(
        sa.select(columns.seq, columns.record_hash)
        .where(columns.chain_id == chain_id)
        .order_by(columns.seq.desc())
        .limit(1)
    ).first()
    if newest is not None:
        return Head(newest.seq, newest.record_hash)
    return anchor_before(connection, chain_id, None)


def anchor_before(connection: sa.Connection, chain_id: str, seq: int | None) -> Head:
    """What the record at `seq` (None: the next append) continues from, as far as the
    export markers say: the end of the latest export before it, or genesis."""
    exports = audit_exports.c
    query = sa.select(exports.to_seq, exports.last_hash).where(exports.chain_id == chain_id)
    if seq is not None:
        query = query.where(exports.to_seq < seq)
    marker = connection.execute(query.order_by(exports.to_seq.desc()).limit(1)).first()
    return Head(marker.to_seq, marker.last_hash) if marker is not None else Head(0, GENESIS)


async def first_seq(connection: AsyncConnection, chain_id: str) -> int | None:
    columns = audit_records.c
    query = sa.select(sa.func.min(columns.seq)).where(columns.chain_id == chain_id)
    value = (await connection.execute(query)).scalar()
    return int(value) if value is not None else None


async def rows(
    connection: AsyncConnection, *, to_seq: int | None = None, page: int = 1000
) -> AsyncIterator[dict[str, Any]]:
    """Every record in chain order (any chain_id: a foreign row is evidence too), in
    keyset pages so that memory stays flat however long the log is."""
    columns = audit_records.c
    after: tuple[int, int] | None = None
    while True:
        query = sa.select(audit_records).order_by(columns.seq, columns.id).limit(page)
        if to_seq is not None:
            query = query.where(columns.seq <= to_seq)
        if after is not None:
            query = query.where(
                sa.or_(
                    columns.seq > after[0], sa.and_(columns.seq == after[0], columns.id > after[1])
                )
            )
        batch = (await connection.execute(query)).mappings().all()
        for row in batch:
            yield dict(row)
        if len(batch) < page:
            return
        after = (batch[-1]["seq"], batch[-1]["id"])
