"""The auditors' search of the log: records by who, what, why, when and whose data.

Every filter is answered by an index (0013_audit_search): columns for who and why,
`audit_facets` for what sits inside a record's JSON. A data subject is given in clear
(an ID number or credit code) and matched through its keyed hash under every key id
the settings hold, so records written before a key rotation are found too; the clear
value goes no further than this module.

Pages are newest first, keyset on the record id (a Relay cursor names the last id
seen): a page costs the same at the end of a year of records as at its start.
"""

from __future__ import annotations

import base64
import binascii
import csv
import datetime
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.reading import record_of
from audit.record import AuditRecord, SubjectHasher
from errors import BadUserInput
from settings import Settings
from store.tables import audit_facets, audit_records

_IDENTIFIER = re.compile(r"[0-9A-Z]{18}")
_CURSOR = "audit:"
MAX_FIRST = 500
"""The largest page; an export reads pages of it until the filter is exhausted."""


@dataclass(frozen=True)
class AuditFilter:
    """What the records must match; every filter given must hold (None: any)."""

    subject: str | None = None
    """A resident ID number or unified social credit code, in clear."""
    department: str | None = None
    system: str | None = None
    person: str | None = None
    resource: str | None = None
    item: str | None = None
    """An item's GraphQL name (`legalRepIdNumber`): any field read of that name."""
    purpose: str | None = None
    reference: str | None = None
    """The purpose reference (the case or document number the caller declared)."""
    outcome: str | None = None
    decision: str | None = None
    """clear, masked or denied: some field of the record was so decided."""
    grant: int | None = None
    document_id: str | None = None
    occurred_from: datetime.datetime | None = None
    occurred_until: datetime.datetime | None = None
    """Exclusive."""


@dataclass(frozen=True)
class FoundRecord:
    id: int
    record: AuditRecord

    @property
    def cursor(self) -> str:
        return base64.urlsafe_b64encode(f"{_CURSOR}{self.id}".encode()).decode()


@dataclass(frozen=True)
class AuditPage:
    records: list[FoundRecord]
    has_next_page: bool


def hashers_in_use(settings: Settings) -> list[SubjectHasher]:
    """A hasher per audit key id the settings hold: the one in use and every older one."""
    hashers = {
        key_id: key.get_secret_value().encode() for key_id, key in settings.audit_keys.items()
    }
    key_id, key = settings.audit_key()
    hashers[key_id] = key
    return [SubjectHasher(key_id, key) for key_id, key in sorted(hashers.items())]


def subject_identifier(text: str) -> str:
    """An ID number or credit code as stored: 18 characters, upper case."""
    identifier = text.strip().upper()
    if not _IDENTIFIER.fullmatch(identifier):
        raise BadUserInput(
            "subject: an 18-character resident ID number or unified social credit code"
        )
    return identifier


def after_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    if not text.startswith(_CURSOR) or not text[len(_CURSOR) :].isdigit():
        raise BadUserInput("after: not a cursor of this search")
    return int(text[len(_CURSOR) :])


async def search(
    engine: AsyncEngine,
    where: AuditFilter,
    hashers: Sequence[SubjectHasher],
    *,
    first: int = 50,
    after: str | None = None,
) -> AuditPage:
    """One page of the records matching `where`, newest first."""
    if not 0 < first <= MAX_FIRST:
        raise BadUserInput(f"first: between 1 and {MAX_FIRST}")
    columns = audit_records.c
    statement = sa.select(audit_records).where(*conditions(where, hashers))
    last = after_id(after)
    if last is not None:
        statement = statement.where(columns.id < last)
    statement = statement.order_by(columns.id.desc()).limit(first + 1)
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).mappings().all()
    found = [FoundRecord(row["id"], record_of(row)) for row in rows[:first]]
    return AuditPage(found, len(rows) > first)


async def every_match(
    engine: AsyncEngine, where: AuditFilter, hashers: Sequence[SubjectHasher], limit: int
) -> list[FoundRecord]:
    """Up to `limit` matching records, newest first, read a page at a time."""
    found: list[FoundRecord] = []
    after: str | None = None
    while len(found) < limit:
        page = await search(
            engine, where, hashers, first=min(MAX_FIRST, limit - len(found)), after=after
        )
        found.extend(page.records)
        if not page.has_next_page or not page.records:
            break
        after = page.records[-1].cursor
    return found


def conditions(
    where: AuditFilter, hashers: Sequence[SubjectHasher]
) -> list[sa.ColumnElement[bool]]:
    c = audit_records.c
    made: list[sa.ColumnElement[bool]] = []
    for column, value in (
        (c.caller_department, where.department),
        (c.caller_system, where.system),
        (c.person, where.person),
        (c.purpose, where.purpose),
        (c.purpose_reference, where.reference),
        (c.outcome, where.outcome),
        (c.document_id, where.document_id),
    ):
        if value is not None:
            made.append(column == value)
    if where.occurred_from is not None:
        made.append(c.occurred_at >= _utc(where.occurred_from))
    if where.occurred_until is not None:
        made.append(c.occurred_at < _utc(where.occurred_until))
    for facet, value in (("r", where.resource), ("i", where.item), ("d", where.decision)):
        if value is not None:
            made.append(c.id.in_(_facet(facet, audit_facets.c.value == value)))
    if where.grant is not None:
        made.append(c.id.in_(_facet("g", _names_grant(where.grant))))
    if where.subject is not None:
        identifier = subject_identifier(where.subject)
        made.append(
            sa.or_(
                *(
                    sa.and_(
                        c.hash_key_id == hasher.key_id,
                        c.id.in_(_facet("s", audit_facets.c.value == hasher.hash(identifier))),
                    )
                    for hasher in hashers
                )
            )
        )
    return made


def _facet(facet: str, matches: sa.ColumnElement[bool]) -> sa.Select[tuple[int]]:
    f = audit_facets.c
    return sa.select(f.record_id).where(f.facet == facet, matches)


def _names_grant(grant: int) -> sa.ColumnElement[bool]:
    """A basis is one grant (`grant:7`) or several joined (`grant:7 & grant:9`)."""
    value, named = audit_facets.c.value, f"grant:{grant}"
    return sa.or_(
        value == named,
        value.like(f"{named} & %"),
        value.like(f"% & {named}"),
        value.like(f"% & {named} & %"),
    )


def _utc(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:
        raise BadUserInput("a time range needs a time zone (e.g. +08:00)")
    return moment.astimezone(datetime.UTC)


def grants_named(records: Iterable[AuditRecord]) -> list[int]:
    """The grant ids the fields of `records` were decided by."""
    found = {
        int(number)
        for record in records
        for account in record.fields
        for number in re.findall(r"grant:(\d+)", account.basis)
    }
    return sorted(found)


# ---- export ---------------------------------------------------------------------

EXPORT_COLUMNS = (
    "id",
    "request_id",
    "occurred_at",
    "caller_department",
    "caller_system",
    "person",
    "operator",
    "purpose",
    "purpose_reference",
    "outcome",
    "http_status",
    "document_id",
    "operation_name",
    "resources",
    "items",
    "grants",
    "hash_key_id",
)


def exported_row(found: FoundRecord) -> dict[str, object]:
    """The flat row of the CSV export: who, why, when, what (no hashes but the key id)."""
    record = found.record
    return {
        "id": found.id,
        "request_id": record.request_id,
        "occurred_at": record.occurred_at.isoformat(),
        "caller_department": record.caller_department or "",
        "caller_system": record.caller_system or "",
        "person": record.person or "",
        "operator": record.operator or "",
        "purpose": record.purpose or "",
        "purpose_reference": record.purpose_reference or "",
        "outcome": record.outcome,
        "http_status": record.http_status,
        "document_id": record.document_id or "",
        "operation_name": record.operation_name or "",
        "resources": " ".join(sorted(record.records)),
        "items": " ".join(
            sorted({a.path.rsplit(".", 1)[-1] for a in record.fields if a.decision != "structure"})
        ),
        "grants": " ".join(str(g) for g in grants_named([record])),
        "hash_key_id": record.hash_key_id,
    }


def as_csv(found: Iterable[FoundRecord]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=EXPORT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for one in found:
        writer.writerow(exported_row(one))
    return out.getvalue()


def as_jsonl(found: Iterable[FoundRecord]) -> str:
    """Whole records, one a line, hashes included: what `verify` and other tools read."""
    lines = []
    for one in found:
        record = asdict(one.record)
        record["occurred_at"] = one.record.occurred_at.isoformat()
        lines.append(json.dumps({"id": one.id, **record}, ensure_ascii=False, sort_keys=True))
    return "".join(line + "\n" for line in lines)
