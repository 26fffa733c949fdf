"""The hash chain over audit records, format 1: what is hashed, and how appends link.

Every record carries `chain_id`, `seq` (1, 2, 3, … with no gaps), `prev_hash` and

    record_hash = SM3(prev_hash as 64 ASCII hex digits || canonical(record))

where canonical() is the JSON of the HASHED columns (`chain_id` and `seq` included, so
a record cannot be renumbered or moved to another chain unnoticed), sorted keys, no
whitespace, UTF-8 (not \\u-escaped), datetimes ISO 8601 in UTC with microseconds and
`Z`. The first record links to GENESIS. An auditor can recompute this with any SM3.

HASHED is frozen: a column added later is not covered until a new format says so
(tests/audit/test_chain.py fails when audit_records gains a column nobody classified).

One chain per store, and appends are serialised by the database itself: on PostgreSQL a
transaction-level advisory lock, on SQLite `BEGIN IMMEDIATE` (the write lock taken
before the head is read). Per-instance chains would let several server processes
append without waiting, but an auditor would then have to prove that no whole chain
went missing, and a cut-off tail of one chain could hide among the others; with one
chain, one checkpoint covers everything, and the lock is held only for one indexed
read and one insert per batch (group commit keeps that rare).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.record import AuditRecord
from store.tables import audit_chain, audit_exports, audit_records

FORMAT = 1
GENESIS = "0" * 64

_TIMES = frozenset({"occurred_at"})
_INTEGERS = frozenset({"seq", "http_status"})
_FLOATS = frozenset({"duration_ms"})
_JSON = frozenset({"error_codes", "fields", "records"})
HASHED: tuple[str, ...] = (
    "chain_id",
    "seq",
    "request_id",
    "occurred_at",
    "caller_department",
    "caller_system",
    "operator",
    "purpose",
    "purpose_reference",
    "operation_hash",
    "operation_name",
    "outcome",
    "http_status",
    "error_codes",
    "fields",
    "records",
    "hash_key_id",
    "catalog_version",
    "policy_version",
    "client_address",
    "duration_ms",
)
# Columns deliberately outside the hash: the surrogate key the database assigns, and
# the chain's own links (prev_hash is hashed as the prefix, not as a field).
UNHASHED: tuple[str, ...] = ("id", "prev_hash", "record_hash")

# pg_advisory_xact_lock key for appends (and removals); advisory keys are per database.
LOCK_KEY = int.from_bytes(
    hashlib.new("sm3", b"gov-share audit chain").digest()[:8], "big", signed=True
)


@dataclass(frozen=True)
class Head:
    """The last record of the chain (or the anchor it continues from): seq 0 is genesis."""

    seq: int
    hash: str


def utc_text(value: datetime.datetime | str) -> str:
    """A stored time as hashed: naive values are UTC (SQLite returns what was written)."""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.UTC)
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content(row: Mapping[str, Any]) -> dict[str, Any]:
    """The hashed fields of a row, from the store, a record or an export line alike."""
    hashed: dict[str, Any] = {}
    for name in HASHED:
        value = row[name]
        if value is not None:
            if name in _TIMES:
                value = utc_text(value)
            elif name in _INTEGERS:
                value = int(value)
            elif name in _FLOATS:
                value = float(value)
        hashed[name] = value
    return hashed


def canonical(row: Mapping[str, Any]) -> bytes:
    return json.dumps(
        content(row), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode()


def record_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return hashlib.new("sm3", prev_hash.encode("ascii") + canonical(row)).hexdigest()


def prepare(record: AuditRecord) -> dict[str, Any]:
    """The row to insert, normalised so that what is read back hashes the same.

    Raises ValueError for a record that has no canonical form (a naive time, NaN, a
    value JSON cannot carry): such a record fails alone, before it joins a batch.
    """
    row = record.as_row()
    occurred = row["occurred_at"]
    if not isinstance(occurred, datetime.datetime) or occurred.tzinfo is None:
        raise ValueError("occurred_at must be a timezone-aware datetime")
    row["occurred_at"] = occurred.astimezone(datetime.UTC)
    for name in _JSON:
        row[name] = json.loads(json.dumps(row[name], allow_nan=False))
    row["http_status"] = int(row["http_status"])
    row["duration_ms"] = float(row["duration_ms"])
    canonical({**row, "chain_id": "", "seq": 0})
    return row


def link(head: Head, chain_id: str, rows: Sequence[dict[str, Any]]) -> Head:
    """Give each row its place after `head`, in order; returns the new head."""
    for row in rows:
        row.update(chain_id=chain_id, seq=head.seq + 1, prev_hash=head.hash)
        row["record_hash"] = record_hash(head.hash, row)
        head = Head(row["seq"], row["record_hash"])
    return head


@asynccontextmanager
async def appending(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that holds the chain's append lock until it ends.

    The lock comes first, so the head read inside cannot be stale: two writers (two
    processes, or two AuditLog instances on one SQLite file) never link to one head.
    On PostgreSQL the transaction is READ COMMITTED whatever the server's default, so
    the head is read in a snapshot taken after the lock was granted. Should anything
    still link two records to one head, the unique (chain_id, seq) refuses the second
    batch: a fork is never stored, the batch fails closed.
    """
    async with engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "postgresql":
            await connection.execution_options(isolation_level="READ COMMITTED")
        async with connection.begin():
            if dialect == "sqlite":
                await connection.exec_driver_sql("BEGIN IMMEDIATE")
            elif dialect == "postgresql":
                await connection.execute(sa.select(sa.func.pg_advisory_xact_lock(LOCK_KEY)))
            else:
                await connection.execute(sa.select(audit_chain.c.chain_id).with_for_update())
            yield connection


async def append(
    connection: AsyncConnection, chain_id: str, rows: Sequence[dict[str, Any]]
) -> Head:
    """Link and insert rows; call inside `appending()`."""
    head = link(await read_head(connection, chain_id), chain_id, rows)
    await connection.execute(audit_records.insert(), list(rows))
    return head


async def read_chain_id(connection: AsyncConnection) -> str:
    chain_id = (await connection.execute(sa.select(audit_chain.c.chain_id))).scalar_one()
    return str(chain_id)


async def read_head(connection: AsyncConnection, chain_id: str) -> Head:
    """The newest record; with none left, the last exported one (retention); else genesis."""
    columns = audit_records.c
    newest = (
        await connection.execute(
            sa.select(columns.seq, columns.record_hash)
            .where(columns.chain_id == chain_id)
            .order_by(columns.seq.desc())
            .limit(1)
        )
    ).first()
    if newest is not None:
        return Head(newest.seq, newest.record_hash)
    return await anchor_before(connection, chain_id, None)


async def anchor_before(connection: AsyncConnection, chain_id: str, seq: int | None) -> Head:
    """What the record at `seq` (None: the next append) continues from, as far as the
    export markers say: the end of the latest export before it, or genesis."""
    exports = audit_exports.c
    query = sa.select(exports.to_seq, exports.last_hash).where(exports.chain_id == chain_id)
    if seq is not None:
        query = query.where(exports.to_seq < seq)
    marker = (await connection.execute(query.order_by(exports.to_seq.desc()).limit(1))).first()
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
