"""The auditors' schema: the log, searched, exported and summed up per data subject, and
nothing else — no department data. Served only to a person signed in with the role
`auditor` (`web.auditing`); every other caller's schema has none of it.

Reading the log is on record: what an auditor's request read (the request ids of the
records returned, the subject searched for) is handed to its own audit record as the
records of a resource named `audit_records`, under the same keyed hashes, so a search
for a subject finds the auditors who looked for that subject too.
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.record import AuditRecord, SubjectHasher
from audit.search import (
    MAX_FIRST,
    AuditFilter,
    FoundRecord,
    as_csv,
    as_jsonl,
    every_match,
    grants_named,
    search,
    subject_identifier,
)
from audit.signals import Signal, misuse_signals
from audit.subject_report import subject_access_report
from errors import BadUserInput
from policies import Caller
from schema.subject_access import SubjectAccessReport, report_of
from settings import Settings
from workdays.calendar import WorkingCalendar

AUDIT_FIELDS = frozenset({"auditRecords", "auditExport", "subjectAccessReport", "misuseSignals"})
"""The auditors' root fields: an operation selecting one is the auditors'."""
READ_LOG = "audit_records"
"""The resource an auditor's own record says was read."""
EXPORT_LIMIT = 10_000


@dataclass
class AuditContext:
    caller: Caller
    engine: AsyncEngine
    hashers: list[SubjectHasher]
    settings: Settings
    """The misuse signals' thresholds."""
    calendar: WorkingCalendar
    read: set[Hashable] = field(default_factory=set)
    """Request ids of the records this request returned."""
    subjects: set[Hashable] = field(default_factory=set)
    """Subjects searched for, in clear: hashed by the audit log like any subject."""

    def returned(self, found: list[FoundRecord]) -> None:
        self.read.update(one.record.request_id for one in found)


@strawberry.input(description="Every filter given must hold; leave one out to match any.")
class AuditRecordFilter:
    subject: str | None = strawberry.field(
        default=None, description="A resident ID number or unified social credit code."
    )
    department: str | None = None
    system: str | None = None
    person: str | None = None
    resource: str | None = strawberry.field(default=None, description="A resource id.")
    item: str | None = strawberry.field(default=None, description="An item's field name.")
    purpose: str | None = None
    reference: str | None = strawberry.field(
        default=None, description="The purpose reference (case or document number)."
    )
    outcome: str | None = None
    decision: str | None = strawberry.field(default=None, description="clear, masked, denied.")
    grant: int | None = None
    documentId: str | None = None
    occurredFrom: datetime.datetime | None = None
    occurredUntil: datetime.datetime | None = strawberry.field(
        default=None, description="Exclusive."
    )

    def plain(self) -> AuditFilter:
        return AuditFilter(
            subject=self.subject,
            department=self.department,
            system=self.system,
            person=self.person,
            resource=self.resource,
            item=self.item,
            purpose=self.purpose,
            reference=self.reference,
            outcome=self.outcome,
            decision=self.decision,
            grant=self.grant,
            document_id=self.documentId,
            occurred_from=self.occurredFrom,
            occurred_until=self.occurredUntil,
        )


@strawberry.enum
class ExportFormat(Enum):
    CSV = "csv"
    JSONL = "jsonl"


@strawberry.type(description="One field path of a request: how often it resolved, as decided.")
class AuditedField:
    path: str
    count: int
    decision: str
    basis: str


@strawberry.type(description="The records of one resource a request served, as keyed hashes.")
class AuditedResource:
    resource: str
    keys: list[str]
    subjects: list[str]


@strawberry.type(description="One audit record: who, what, why, when, and the decision.")
class AuditRecordNode:
    requestId: str
    occurredAt: datetime.datetime
    outcome: str
    httpStatus: int
    callerDepartment: str | None
    callerSystem: str | None
    operator: str | None
    person: str | None
    purpose: str | None
    purposeReference: str | None
    documentId: str | None
    operationName: str | None
    errorCodes: list[str]
    fields: list[AuditedField]
    resources: list[AuditedResource]
    grants: list[int]
    hashKeyId: str


@strawberry.type
class AuditRecordEdge:
    cursor: str
    node: AuditRecordNode


@strawberry.type
class AuditPageInfo:
    hasNextPage: bool
    endCursor: str | None


@strawberry.type(description="Audit records, newest first.")
class AuditRecordConnection:
    edges: list[AuditRecordEdge]
    pageInfo: AuditPageInfo


def node_of(record: AuditRecord) -> AuditRecordNode:
    return AuditRecordNode(
        requestId=record.request_id,
        occurredAt=record.occurred_at,
        outcome=record.outcome,
        httpStatus=record.http_status,
        callerDepartment=record.caller_department,
        callerSystem=record.caller_system,
        operator=record.operator,
        person=record.person,
        purpose=record.purpose,
        purposeReference=record.purpose_reference,
        documentId=record.document_id,
        operationName=record.operation_name,
        errorCodes=list(record.error_codes),
        fields=[
            AuditedField(path=a.path, count=a.count, decision=a.decision, basis=a.basis)
            for a in record.fields
        ],
        resources=[
            AuditedResource(
                resource=resource, keys=list(hashes["keys"]), subjects=list(hashes["subjects"])
            )
            for resource, hashes in sorted(record.records.items())
        ],
        grants=grants_named([record]),
        hashKeyId=record.hash_key_id,
    )


def searched(context: AuditContext, where: AuditRecordFilter | None) -> AuditFilter:
    """The filter, its subject (checked) on record as searched for."""
    plain = where.plain() if where is not None else AuditFilter()
    if plain.subject is not None:
        context.subjects.add(subject_identifier(plain.subject))
    return plain


async def _audit_records(
    info: strawberry.Info[AuditContext, Any],
    filter: AuditRecordFilter | None = None,
    first: int = 50,
    after: str | None = None,
) -> AuditRecordConnection:
    context = info.context
    page = await search(
        context.engine, searched(context, filter), context.hashers, first=first, after=after
    )
    context.returned(page.records)
    edges = [AuditRecordEdge(cursor=one.cursor, node=node_of(one.record)) for one in page.records]
    end = edges[-1].cursor if edges else None
    return AuditRecordConnection(
        edges=edges, pageInfo=AuditPageInfo(hasNextPage=page.has_next_page, endCursor=end)
    )


async def _audit_export(
    info: strawberry.Info[AuditContext, Any],
    format: ExportFormat,
    filter: AuditRecordFilter | None = None,
    limit: int = EXPORT_LIMIT,
) -> str:
    if not 0 < limit <= EXPORT_LIMIT:
        raise BadUserInput(f"limit: between 1 and {EXPORT_LIMIT}")
    context = info.context
    found = await every_match(context.engine, searched(context, filter), context.hashers, limit)
    context.returned(found)
    return as_csv(found) if format is ExportFormat.CSV else as_jsonl(found)


async def _subject_access_report(
    info: strawberry.Info[AuditContext, Any],
    subject: str,
    occurredFrom: datetime.datetime | None = None,
    occurredUntil: datetime.datetime | None = None,
) -> SubjectAccessReport:
    context = info.context
    context.subjects.add(subject_identifier(subject))
    report = await subject_access_report(
        context.engine,
        subject,
        context.hashers,
        occurred_from=occurredFrom,
        occurred_until=occurredUntil,
    )
    context.read.update(i for group in report.groups for i in group.request_ids)
    return report_of(report)


@strawberry.type(description="A caller's department, system and person as the records name them.")
class SignalCaller:
    department: str | None
    system: str | None
    person: str | None


@strawberry.type(description="A pattern worth a look (Art. 11), with the records behind it.")
class MisuseSignal:
    kind: str = strawberry.field(
        description="volume, off_hours, reference, denied, grant_end or verification."
    )
    caller: SignalCaller | None = strawberry.field(
        description="The caller it concerns; null for a purpose reference or a grant."
    )
    subject: str = strawberry.field(description="What it is about: caller, reference or grant.")
    detail: str
    count: int = strawberry.field(description="The records behind it in the period.")
    records: list[AuditRecordNode] = strawberry.field(
        description="The newest of them (GOV_SHARE_SIGNAL_RECORDS at most)."
    )


def signal_of(signal: Signal) -> MisuseSignal:
    caller = None
    if signal.caller is not None:
        department, system, person = signal.caller
        caller = SignalCaller(department=department, system=system, person=person)
    return MisuseSignal(
        kind=signal.kind,
        caller=caller,
        subject=signal.subject,
        detail=signal.detail,
        count=signal.count,
        records=[node_of(one.record) for one in signal.records],
    )


async def _misuse_signals(
    info: strawberry.Info[AuditContext, Any],
    occurredFrom: datetime.datetime,
    occurredUntil: datetime.datetime,
) -> list[MisuseSignal]:
    context = info.context
    found = await misuse_signals(
        context.engine, context.settings, context.calendar, occurredFrom, occurredUntil
    )
    for signal in found:
        context.returned(signal.records)
    return [signal_of(signal) for signal in found]


@strawberry.type(name="Query")
class AuditQuery:
    auditRecords: AuditRecordConnection = strawberry.field(
        resolver=_audit_records,
        description=f"Audit records matching the filter, newest first ({MAX_FIRST} a page at most)",
    )
    subjectAccessReport: SubjectAccessReport = strawberry.field(
        resolver=_subject_access_report,
        description="Every access to one subject's records across departments, by consumer "
        "and purpose (an ID number or credit code).",
    )
    misuseSignals: list[MisuseSignal] = strawberry.field(
        resolver=_misuse_signals,
        description="Patterns worth a look in [occurredFrom, occurredUntil) (92 days at "
        "most), by kind: thresholds are the GOV_SHARE_SIGNAL_* settings.",
    )
    auditExport: str = strawberry.field(
        resolver=_audit_export,
        description=f"The records matching the filter as CSV or JSONL ({EXPORT_LIMIT} at most).",
    )


AUDIT_SCHEMA = strawberry.Schema(query=AuditQuery)
