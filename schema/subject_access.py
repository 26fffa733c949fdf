"""The subject access report's GraphQL types (`audit.subject_report`), for the
auditors' schema (`schema.audit_log`)."""

from __future__ import annotations

import datetime

import strawberry

from audit.report_html import report_html
from audit.subject_report import AccessGroup, SubjectReport


@strawberry.type(description="A grant that decided some access, with its approval.")
class CitedGrant:
    id: int
    reference: str | None = strawberry.field(description="The approval it rests on.")
    resource: str | None
    validUntil: datetime.datetime | None


@strawberry.type(description="The accesses of one consumer system for one purpose.")
class SubjectAccessGroup:
    department: str | None
    departmentName: str | None
    system: str | None
    purpose: str | None
    count: int
    firstAt: datetime.datetime | None
    lastAt: datetime.datetime | None
    resources: list[str]
    items: list[str]
    references: list[str] = strawberry.field(description="Purpose references (case numbers).")
    persons: list[str]
    outcomes: list[str]
    grants: list[CitedGrant]
    requestIds: list[str]


@strawberry.type(description="Every access to one data subject's records, by consumer and purpose.")
class SubjectAccessReport:
    total: int
    complete: bool = strawberry.field(description="False: more records than one report reads.")
    groups: list[SubjectAccessGroup]
    html: str = strawberry.field(description="The report as a printable page in Chinese.")


def _group(group: AccessGroup) -> SubjectAccessGroup:
    return SubjectAccessGroup(
        department=group.department,
        departmentName=group.department_name,
        system=group.system,
        purpose=group.purpose,
        count=group.count,
        firstAt=group.first_at,
        lastAt=group.last_at,
        resources=sorted(group.resources),
        items=sorted(group.items),
        references=sorted(group.references),
        persons=sorted(group.persons),
        outcomes=sorted(group.outcomes),
        grants=[
            CitedGrant(
                id=g.id, reference=g.reference, resource=g.resource, validUntil=g.valid_until
            )
            for g in group.grants
        ],
        requestIds=list(group.request_ids),
    )


def report_of(report: SubjectReport) -> SubjectAccessReport:
    return SubjectAccessReport(
        total=report.total,
        complete=report.complete,
        groups=[_group(group) for group in report.groups],
        html=report_html(report),
    )
