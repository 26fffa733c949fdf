"""The subject access report: every access to one data subject's records, across all
departments, grouped by consumer and purpose, with the grants behind each and the case
references the consumers declared — the platform's answer to a citizen or an inspector.

Read through the auditors' search (`audit.search`), so it matches the subject under
every key id held and costs an index range, not a scan of the log.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from audit.record import SubjectHasher
from audit.search import AuditFilter, FoundRecord, every_match, grants_named, subject_identifier
from store.tables import api_keys, grants

REPORT_LIMIT = 10_000
"""Records read for one report at most; a report that reaches it says so."""


@dataclass(frozen=True)
class GrantCited:
    """A grant that decided some access: the approval it rests on, for the reader."""

    id: int
    reference: str | None
    resource: str | None
    valid_until: datetime.datetime | None


@dataclass
class AccessGroup:
    """The accesses of one consumer (department and system) for one purpose."""

    department: str | None
    department_name: str | None
    system: str | None
    purpose: str | None
    count: int = 0
    first_at: datetime.datetime | None = None
    last_at: datetime.datetime | None = None
    resources: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    references: set[str] = field(default_factory=set)
    persons: set[str] = field(default_factory=set)
    outcomes: set[str] = field(default_factory=set)
    grants: list[GrantCited] = field(default_factory=list)
    request_ids: list[str] = field(default_factory=list)

    def add(self, found: FoundRecord) -> None:
        record = found.record
        self.count += 1
        moment = record.occurred_at
        self.first_at = moment if self.first_at is None else min(self.first_at, moment)
        self.last_at = moment if self.last_at is None else max(self.last_at, moment)
        self.resources.update(record.records)
        self.items.update(
            account.path.rsplit(".", 1)[-1]
            for account in record.fields
            if account.decision not in ("structure", "denied")
        )
        if record.purpose_reference:
            self.references.add(record.purpose_reference)
        for who in (record.person, record.operator):
            if who:
                self.persons.add(who)
        self.outcomes.add(record.outcome)
        self.request_ids.append(record.request_id)


@dataclass(frozen=True)
class SubjectReport:
    subject: str
    """The identifier, in clear: the report goes to the auditor who gave it."""
    occurred_from: datetime.datetime | None
    occurred_until: datetime.datetime | None
    made_at: datetime.datetime
    groups: list[AccessGroup]
    complete: bool
    """False when more records matched than one report reads (`REPORT_LIMIT`)."""

    @property
    def total(self) -> int:
        return sum(group.count for group in self.groups)


async def subject_access_report(
    engine: AsyncEngine,
    subject: str,
    hashers: Sequence[SubjectHasher],
    *,
    occurred_from: datetime.datetime | None = None,
    occurred_until: datetime.datetime | None = None,
) -> SubjectReport:
    identifier = subject_identifier(subject)
    where = AuditFilter(
        subject=identifier, occurred_from=occurred_from, occurred_until=occurred_until
    )
    found = await every_match(engine, where, hashers, REPORT_LIMIT + 1)
    complete = len(found) <= REPORT_LIMIT
    found = found[:REPORT_LIMIT]
    names = await _department_names(engine)
    cited = await _grants(engine, grants_named(one.record for one in found))
    groups: dict[tuple[str | None, str | None, str | None], AccessGroup] = {}
    for one in reversed(found):  # oldest first, so each group's requests read in order
        record = one.record
        key = (record.caller_department, record.caller_system, record.purpose)
        group = groups.get(key)
        if group is None:
            department = record.caller_department
            group = groups[key] = AccessGroup(
                department, names.get(department or ""), record.caller_system, record.purpose
            )
        group.add(one)
        for number in grants_named([record]):
            if number in cited and cited[number] not in group.grants:
                group.grants.append(cited[number])
    ordered = sorted(
        groups.values(), key=lambda g: (g.department or "", g.system or "", g.purpose or "")
    )
    return SubjectReport(
        identifier,
        occurred_from,
        occurred_until,
        datetime.datetime.now(datetime.UTC),
        ordered,
        complete,
    )


async def _department_names(engine: AsyncEngine) -> dict[str, str]:
    """Consumers' names as their API keys were registered."""
    statement = sa.select(api_keys.c.department_code, api_keys.c.department_name).distinct()
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    return {code: name for code, name in rows}


async def _grants(engine: AsyncEngine, numbers: list[int]) -> dict[int, GrantCited]:
    if not numbers:
        return {}
    c = grants.c
    statement = sa.select(c.id, c.reference, c.resource_id, c.valid_until).where(c.id.in_(numbers))
    async with engine.connect() as connection:
        rows = (await connection.execute(statement)).all()
    known = {
        row.id: GrantCited(row.id, row.reference, row.resource_id, row.valid_until) for row in rows
    }
    return {number: known.get(number, GrantCited(number, None, None, None)) for number in numbers}
