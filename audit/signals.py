"""Misuse signals (Art. 11): patterns in the log worth an auditor's look, each with the
records behind it. A signal is not a finding: it says where to look first.

    volume        a caller's records a day far above its own daily mean before the period
    off_hours     a person's requests outside working hours (Asia/Shanghai, China's
                  working days by `workdays`)
    reference     one purpose reference used for many distinct data subjects (distinct
                  keyed hashes: the log cannot tell related subjects from unrelated ones,
                  so the threshold is set above what one case's household or firm names)
    denied        a caller's repeated refused requests or denied fields
    grant_end     reads through a grant in the last hours before it ends
    verification  many distinct data subjects one caller checked through verification

Thresholds are settings (`signal_*`). Every query is bounded by the period and answered
by an index: the time columns (`occurred_at`, caller, outcome, purpose) and the facets
of 0013 for subjects, decisions and grants; never a scan of the whole log.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from audit.reading import record_of
from audit.search import AuditFilter, FoundRecord, conditions
from errors import BadUserInput
from settings import Settings
from store.tables import audit_facets, audit_records, grants
from workdays.calendar import SHANGHAI, WorkingCalendar

KINDS = ("volume", "off_hours", "reference", "denied", "grant_end", "verification")
VERIFICATION = "data_verification"
DENIED_OUTCOMES = ("refused", "forbidden")
"""A request refused as a whole: no grant or rule for it, or a role it lacks."""
_LONGEST_PERIOD = datetime.timedelta(days=92)

Caller = tuple[str | None, str | None, str | None]
"""Department, system and person, as the records name them."""


@dataclass(frozen=True)
class Signal:
    kind: str
    caller: Caller | None
    """The caller it concerns; None for a purpose reference or a grant."""
    subject: str
    """What it is about, in words: the caller, the reference or the grant."""
    detail: str
    count: int
    """The records behind it in the period (those listed are the newest of them)."""
    records: list[FoundRecord]


async def misuse_signals(
    engine: AsyncEngine,
    settings: Settings,
    calendar: WorkingCalendar,
    occurred_from: datetime.datetime,
    occurred_until: datetime.datetime,
) -> list[Signal]:
    """The signals of [from, until), by kind in the order of KINDS."""
    if occurred_from.tzinfo is None or occurred_until.tzinfo is None:
        raise BadUserInput("a time range needs a time zone (e.g. +08:00)")
    start, end = _utc(occurred_from), _utc(occurred_until)
    if not start < end or end - start > _LONGEST_PERIOD:
        raise BadUserInput("the period runs forwards and spans 92 days at most")
    finder = _Finder(settings, calendar, start, end)
    async with engine.connect() as connection:
        found: list[Signal] = []
        for kind in KINDS:
            found.extend(await getattr(finder, kind)(connection))
    return found


class _Finder:
    def __init__(
        self,
        settings: Settings,
        calendar: WorkingCalendar,
        start: datetime.datetime,
        end: datetime.datetime,
    ) -> None:
        self.settings, self.calendar, self.start, self.end = settings, calendar, start, end
        self.in_period = sa.and_(
            audit_records.c.occurred_at >= start, audit_records.c.occurred_at < end
        )

    async def volume(self, connection: AsyncConnection) -> list[Signal]:
        s = self.settings
        days = (self.end - self.start) / datetime.timedelta(days=1)
        before = self.start - datetime.timedelta(days=s.signal_baseline_days)
        c = audit_records.c
        usual = dict(
            await _counts(connection, sa.and_(c.occurred_at >= before, c.occurred_at < self.start))
        )
        found = []
        for caller, count in await _counts(connection, self.in_period):
            mean = usual.get(caller, 0) / s.signal_baseline_days
            rate = count / days
            # A period shorter than a day still needs a day's floor: two requests in an
            # hour are no burst.
            enough = count >= s.signal_volume_floor * max(days, 1)
            if enough and rate >= s.signal_volume_factor * mean:
                detail = f"{rate:.1f} records a day against {mean:.1f} before the period"
                found.append(await self._signal(connection, "volume", caller, detail, count))
        return found

    async def off_hours(self, connection: AsyncConnection) -> list[Signal]:
        c = audit_records.c
        windows = [sa.and_(c.occurred_at >= a, c.occurred_at < b) for a, b in self._off()]
        if not windows:  # a period within one working day's hours has no time off
            return []
        off = sa.or_(*windows)
        found = []
        for caller, count in await _counts(connection, sa.and_(off, c.person.is_not(None))):
            if count >= self.settings.signal_off_hours_requests:
                s = self.settings
                detail = (
                    f"{count} requests outside {s.signal_work_starts:%H:%M}-"
                    f"{s.signal_work_ends:%H:%M} on working days (Asia/Shanghai)"
                )
                found.append(
                    await self._signal(connection, "off_hours", caller, detail, count, off)
                )
        return found

    async def reference(self, connection: AsyncConnection) -> list[Signal]:
        c, f = audit_records.c, audit_facets.c
        subjects = sa.func.count(sa.distinct(f.value))
        query = (
            sa.select(c.purpose_reference, subjects, sa.func.count(sa.distinct(c.id)))
            .join(audit_facets, sa.and_(f.record_id == c.id, f.facet == "s"))
            .where(self.in_period, c.purpose_reference.is_not(None))
            .group_by(c.purpose_reference)
            .having(subjects >= self.settings.signal_reference_subjects)
            .order_by(subjects.desc())
        )
        found = []
        for reference, distinct, count in await connection.execute(query):
            records = await self._records(connection, c.purpose_reference == reference)
            detail = f"{distinct} distinct data subjects under one purpose reference"
            found.append(Signal("reference", None, reference, detail, count, records))
        return found

    async def denied(self, connection: AsyncConnection) -> list[Signal]:
        c, f = audit_records.c, audit_facets.c
        denied_field = sa.select(f.record_id).where(f.facet == "d", f.value == "denied")
        denied = sa.or_(c.outcome.in_(DENIED_OUTCOMES), c.id.in_(denied_field))
        found = []
        for caller, count in await _counts(connection, sa.and_(self.in_period, denied)):
            if count >= self.settings.signal_denied_attempts:
                detail = f"{count} requests refused or with fields denied"
                found.append(
                    await self._signal(connection, "denied", caller, detail, count, denied)
                )
        return found

    async def grant_end(self, connection: AsyncConnection) -> list[Signal]:
        g = grants.c
        ending = (
            await connection.execute(
                sa.select(g.id, g.consumer, g.valid_until).where(
                    g.valid_until > self.start, g.valid_until <= self.end
                )
            )
        ).all()
        hours = datetime.timedelta(hours=self.settings.signal_grant_end_hours)
        c = audit_records.c
        found = []
        for grant_id, consumer, until in ending:
            until = _utc(until)
            late = sa.and_(
                c.occurred_at >= until - hours,
                c.occurred_at < until,
                *conditions(AuditFilter(grant=grant_id), []),
            )
            count = (await connection.execute(sa.select(sa.func.count()).where(late))).scalar_one()
            if count >= self.settings.signal_grant_end_reads:
                detail = (
                    f"{count} reads through grant {grant_id} ({consumer}) in the "
                    f"{self.settings.signal_grant_end_hours:g} hours before it ended at "
                    f"{until.isoformat()}"
                )
                records = await self._records(connection, late)
                found.append(Signal("grant_end", None, f"grant {grant_id}", detail, count, records))
        return found

    async def verification(self, connection: AsyncConnection) -> list[Signal]:
        c, f = audit_records.c, audit_facets.c
        subjects = sa.func.count(sa.distinct(f.value))
        verifying = c.purpose == VERIFICATION
        query = (
            sa.select(
                c.caller_department,
                c.caller_system,
                c.person,
                subjects,
                sa.func.count(sa.distinct(c.id)),
            )
            .join(audit_facets, sa.and_(f.record_id == c.id, f.facet == "s"))
            .where(self.in_period, verifying)
            .group_by(c.caller_department, c.caller_system, c.person)
            .having(subjects >= self.settings.signal_verification_subjects)
        )
        found = []
        for department, system, person, distinct, count in await connection.execute(query):
            detail = f"{distinct} distinct data subjects checked through verification"
            caller = (department, system, person)
            found.append(
                await self._signal(connection, "verification", caller, detail, count, verifying)
            )
        return found

    def _off(self) -> list[tuple[datetime.datetime, datetime.datetime]]:
        """The UTC ranges of the period outside working hours, day by day."""
        s = self.settings
        ranges = []
        day = self.start.astimezone(SHANGHAI).date()
        while (midnight := _local(day, datetime.time())) < self.end:
            next_midnight = _local(day + datetime.timedelta(days=1), datetime.time())
            if self.calendar.is_working_day(day):
                ranges.append((midnight, _local(day, s.signal_work_starts)))
                ranges.append((_local(day, s.signal_work_ends), next_midnight))
            else:
                ranges.append((midnight, next_midnight))
            day += datetime.timedelta(days=1)
        return [
            (max(a, self.start), min(b, self.end))
            for a, b in ranges
            if a < self.end and b > self.start
        ]

    async def _signal(
        self,
        connection: AsyncConnection,
        kind: str,
        caller: Caller,
        detail: str,
        count: int,
        condition: sa.ColumnElement[bool] | None = None,
    ) -> Signal:
        c = audit_records.c
        department, system, person = caller
        matches = [c.caller_department == department, c.caller_system == system, c.person == person]
        if condition is not None:
            matches.append(condition)
        records = await self._records(connection, sa.and_(*matches))
        return Signal(kind, caller, caller_name(caller), detail, count, records)

    async def _records(
        self, connection: AsyncConnection, condition: sa.ColumnElement[bool]
    ) -> list[FoundRecord]:
        c = audit_records.c
        query = (
            sa.select(audit_records)
            .where(self.in_period, condition)
            .order_by(c.id.desc())
            .limit(self.settings.signal_records)
        )
        rows = (await connection.execute(query)).mappings().all()
        return [FoundRecord(row["id"], record_of(row)) for row in rows]


async def _counts(
    connection: AsyncConnection, condition: sa.ColumnElement[bool]
) -> Sequence[tuple[Caller, int]]:
    c = audit_records.c
    who = (c.caller_department, c.caller_system, c.person)
    query = sa.select(*who, sa.func.count()).where(condition).group_by(*who)
    return [((d, s, p), n) for d, s, p, n in await connection.execute(query)]


def caller_name(caller: Caller) -> str:
    department, system, person = caller
    name = "/".join(part for part in (department, system) if part) or "public"
    return f"{name} {person}" if person else name


def _local(day: datetime.date, time: datetime.time) -> datetime.datetime:
    return datetime.datetime.combine(day, time, SHANGHAI).astimezone(datetime.UTC)


def _utc(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:  # SQLite keeps no zone: the store holds UTC
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)
