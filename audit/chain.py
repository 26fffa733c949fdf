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
read and one insert per batch (group commit keeps that rare). A writer that knows the
head it committed last skips even that: its INSERT carries the head as a guard
(`audit.insert.insert_if_head`), and only a guard that fails sends it to the lock.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
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
JSON_COLUMNS = frozenset({"error_codes", "fields", "records"})
"""Stored as JSON text: `prepare` encodes them once, in canonical form."""
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


_ENCODE = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
).encode
# The members a record gets only when it is linked, in the canonical (sorted) order.
_LINKED = ("chain_id", "seq")
_ORDER = tuple(sorted(HASHED))


def canonical(row: Mapping[str, Any]) -> bytes:
    return _ENCODE(content(row)).encode()


def record_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    return _sm3(prev_hash, canonical(row))


def _sm3(prev_hash: str, canonical_form: bytes) -> str:
    return hashlib.new("sm3", prev_hash.encode("ascii") + canonical_form).hexdigest()


@dataclass(frozen=True)
class Prepared:
    """A record ready to be linked: the row to insert, with the JSON columns as their
    canonical text (encoded once, stored as it is hashed), and the record's canonical
    form in three pieces around the two members linking gives it. Linking is then two
    joins and one SM3, which is all the writer does per record."""

    row: dict[str, Any]
    pieces: tuple[str, str, str]

    def canonical(self, chain_id: str, seq: int) -> bytes:
        before_chain, before_seq, after_seq = self.pieces
        return f"{before_chain}{_ENCODE(chain_id)}{before_seq}{seq}{after_seq}".encode()


def prepare(record: AuditRecord) -> Prepared:
    """The row to insert, normalised so that what is read back hashes the same.

    Raises ValueError or TypeError for a record that has no canonical form (a naive
    time, NaN, a value JSON cannot carry, a key that would come back as another): such
    a record fails alone, before it joins a batch.
    """
    row = record.as_row()
    occurred = row["occurred_at"]
    if not isinstance(occurred, datetime.datetime) or occurred.tzinfo is None:
        raise ValueError("occurred_at must be a timezone-aware datetime")
    row["occurred_at"] = occurred.astimezone(datetime.UTC)
    row["http_status"] = int(row["http_status"])
    row["duration_ms"] = float(row["duration_ms"])
    _string_keys(row["records"])
    for name in JSON_COLUMNS:
        row[name] = _ENCODE(row[name])
    members = (f'"{name}":' + ("\0" if name in _LINKED else _member(name, row)) for name in _ORDER)
    # No member holds a NUL: JSON escapes control characters in every string.
    before_chain, before_seq, after_seq = ("{" + ",".join(members) + "}").split("\0")
    return Prepared(row, (before_chain, before_seq, after_seq))


def _member(name: str, row: Mapping[str, Any]) -> str:
    """One member's value as canonical() encodes it from a stored row."""
    value = row[name]
    if name in JSON_COLUMNS:
        return str(value)  # encoded already by prepare()
    if name in _TIMES:
        return _ENCODE(utc_text(value))
    return _ENCODE(value)


def _string_keys(records: Mapping[Any, Mapping[Any, Any]]) -> None:
    """JSON turns a key 1 into "1", which sorts differently: the text read back would
    not be the text hashed. The other JSON columns have fixed keys."""
    for resource, hashes in records.items():
        if not isinstance(resource, str) or not all(isinstance(k, str) for k in hashes):
            raise TypeError("record hashes must be keyed by strings")


def link_prepared(head: Head, chain_id: str, entries: Sequence[Prepared]) -> Head:
    """Give each record its place after `head`, in order; returns the new head. A record
    linked again (after another writer moved the head) simply gets its new place."""
    for entry in entries:
        seq = head.seq + 1
        digest = _sm3(head.hash, entry.canonical(chain_id, seq))
        entry.row.update(chain_id=chain_id, seq=seq, prev_hash=head.hash, record_hash=digest)
        head = Head(seq, digest)
    return head


def link(head: Head, chain_id: str, rows: Sequence[dict[str, Any]]) -> Head:
    """Give each row (as read from the store) its place after `head`, in order; returns
    the new head. The migration that chained the records written before chains existed
    uses it."""
    for row in rows:
        row.update(chain_id=chain_id, seq=head.seq + 1, prev_hash=head.hash)
        row["record_hash"] = record_hash(head.hash, row)
        head = Head(row["seq"], row["record_hash"])
    return head


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


# The reads below take a sync connection: the audit writer runs a whole append in one
# worker-thread hop on SQLite, or in one `AsyncConnection.run_sync()`; async callers
# use `run_sync()` too.


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
