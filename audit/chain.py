"""The hash chain over audit records, format 1: what is hashed, and how appends link.

Every record carries `chain_id`, `seq` (1, 2, 3, … with no gaps), `prev_hash` and

    record_hash = SM3(prev_hash as 64 ASCII hex digits || canonical(record))

where canonical() is the JSON of the HASHED columns (`chain_id` and `seq` included, so
a record cannot be renumbered or moved to another chain unnoticed), sorted keys, no
whitespace, UTF-8 (not \\u-escaped), datetimes ISO 8601 in UTC with microseconds and
`Z`. The first record links to GENESIS. An auditor can recompute this with any SM3.

HASHED is frozen: a column added later is not covered until a new format says so
(tests/audit/test_chain.py fails when audit_records gains a column nobody classified),
or unless it is HASHED_WHEN_PRESENT: a member of canonical() only when it holds a
value, so the records written before it existed hash as they always did.

Appends are serialised by the chain's lock (`audit.lock`); the chain as stored is read
by `audit.reads`.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.facets import facets_of
from audit.record import AuditRecord

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
HASHED_WHEN_PRESENT: tuple[str, ...] = (
    "person",
    "document_id",
    "download_id",
    "download_records",
    "download_digest",
    "sealed_subjects",
)
"""Added to format 1 later (0009_audit_person, 0011_audit_document_id,
0012_audit_download, 0013_audit_search): hashed when not NULL."""
# Columns deliberately outside the hash: the surrogate key the database assigns, and
# the chain's own links (prev_hash is hashed as the prefix, not as a field).
UNHASHED: tuple[str, ...] = ("id", "prev_hash", "record_hash")


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
    hashed: dict[str, Any] = {
        name: row[name] for name in HASHED_WHEN_PRESENT if row.get(name) is not None
    }
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
_ORDER = tuple(sorted(HASHED + HASHED_WHEN_PRESENT))


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
    facets: list[tuple[str, str]]
    """What the search finds the record by (`audit.facets`), inserted with it."""

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
    facets = facets_of(record)
    for name in JSON_COLUMNS:
        row[name] = _ENCODE(row[name])
    members = (
        f'"{name}":' + ("\0" if name in _LINKED else _member(name, row))
        for name in _ORDER
        if name not in HASHED_WHEN_PRESENT or row[name] is not None
    )
    # No member holds a NUL: JSON escapes control characters in every string.
    before_chain, before_seq, after_seq = ("{" + ",".join(members) + "}").split("\0")
    return Prepared(row, (before_chain, before_seq, after_seq), facets)


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
