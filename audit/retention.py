"""Retention: export the records past their retention period, then remove them.

Only a prefix of the chain is ever removed (the oldest records, up to the first one
still within retention), so what remains is one unbroken chain. The export marker
written in the same transaction as the removal records where the removed segment
ended (its last hash, with the checkpoint signed for it): `verify` starts there.
On PostgreSQL the removal goes through audit_remove_exported(), which checks the marker
against the rows and refuses anything younger than 180 days, whoever asks.
"""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.checkpoint import Checkpointer
from audit.export import BrokenSegment, Segment, export_segment
from audit.lock import appending
from audit.problems import RecordsRemoved
from audit.reads import anchor_before, first_seq, read_chain_id
from store.tables import audit_exports, audit_records

FLOOR_DAYS = 180  # the same floor the store's triggers and function enforce


@dataclass(frozen=True)
class Retained:
    segment: Segment
    marker_id: int
    cutoff: datetime.datetime


class RemovalRefused(Exception):
    """The store removed other rows than the export names; the removal was rolled back."""


async def retain(
    engine: AsyncEngine,
    *,
    checkpointer: Checkpointer,
    export_dir: Path,
    retention_days: int,
    now: datetime.datetime | None = None,
) -> Retained | None:
    """Export and remove what is past retention; None when nothing is.

    Raises BrokenSegment (nothing exported or removed) if those records do not verify:
    evidence of tampering is never thrown away.
    """
    if retention_days < FLOOR_DAYS:
        raise ValueError(f"retention must be at least {FLOOR_DAYS} days")
    now = (now or datetime.datetime.now(datetime.UTC)).astimezone(datetime.UTC)
    cutoff = now - datetime.timedelta(days=retention_days)
    async with engine.connect() as connection:
        chain_id = await connection.run_sync(read_chain_id)
        first = await first_seq(connection, chain_id)
        to_seq = await _last_expired(connection, chain_id, cutoff)
        if first is None or to_seq is None or to_seq < first:
            return None
        anchor = await connection.run_sync(anchor_before, chain_id, first)
        if anchor.seq != first - 1:
            raise BrokenSegment(RecordsRemoved(anchor.seq + 1, first - 1))
        segment = await export_segment(
            connection,
            chain_id=chain_id,
            anchor=anchor,
            to_seq=to_seq,
            cutoff=cutoff,
            directory=export_dir,
            signer=checkpointer.signer,
        )
    await asyncio.to_thread(checkpointer.file.append, segment.checkpoint)
    async with appending(engine) as connection:
        marker_id = await _mark(connection, segment, cutoff)
        removed = await _remove(connection, marker_id, segment)
        if removed != segment.count:
            raise RemovalRefused(f"removal of export {marker_id} touched {removed} records")
    return Retained(segment, marker_id, cutoff)


async def _last_expired(
    connection: AsyncConnection, chain_id: str, cutoff: datetime.datetime
) -> int | None:
    """The record before the first one still within retention (or the head)."""
    columns = audit_records.c
    mine = columns.chain_id == chain_id
    young = (
        await connection.execute(
            sa.select(sa.func.min(columns.seq)).where(mine, columns.occurred_at >= cutoff)
        )
    ).scalar()
    if young is not None:
        return int(young) - 1
    head = (await connection.execute(sa.select(sa.func.max(columns.seq)).where(mine))).scalar()
    return int(head) if head is not None else None


async def _mark(connection: AsyncConnection, segment: Segment, cutoff: datetime.datetime) -> int:
    result = await connection.execute(
        audit_exports.insert().values(
            chain_id=segment.chain_id,
            from_seq=segment.from_seq,
            to_seq=segment.to_seq,
            prev_hash=segment.prev_hash,
            last_hash=segment.last_hash,
            record_count=segment.count,
            cutoff=cutoff,
            file_name=segment.path.name,
            file_sm3=segment.file_sm3,
            checkpoint=segment.checkpoint.line(),
            exported_at=datetime.datetime.now(datetime.UTC),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def _remove(connection: AsyncConnection, marker_id: int, segment: Segment) -> int:
    if connection.dialect.name == "postgresql":
        removed = await connection.scalar(
            sa.select(sa.func.audit_remove_exported(sa.literal(marker_id, sa.BigInteger)))
        )
        return int(removed or 0)
    columns = audit_records.c
    result = await connection.execute(
        audit_records.delete().where(
            columns.chain_id == segment.chain_id,
            columns.seq.between(segment.from_seq, segment.to_seq),
        )
    )
    return int(result.rowcount)
