"""Each source's use, counted from the audit records of the platform store, and its last
update, from the freshness check (`freshness.FreshnessWatch`).

A record counts for a source when the request served records of one of its resources,
or selected a root field of one (a read that failed served none, so the root field is
what shows it was asked). A request that ended with SOURCE_UNAVAILABLE counts as an
error of every source it asked: the record keeps the codes, not which source gave them.
Callers are distinct department systems (department code and system name together).
The records are streamed, never held, and only the window looked at is read.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog import Catalog
from errors import SourceUnavailable
from freshness import ResourceFreshness
from store import audit_records

CALLERS_DAYS = 30
"""Callers and errors are counted over this many days (Art. 16 asks for recent use)."""


@dataclass
class SourceInventory:
    """One source as the inventory lists it."""

    source: str
    department: str
    """The providing department's unified social credit code."""
    resources: tuple[str, ...]
    last_read: datetime.datetime | None = None
    """None: not read within the idle window looked at."""
    last_update: datetime.datetime | None = None
    """The newest last update of its resources; None if its source tells none."""
    requests: int = 0
    """Requests that asked it in the last `CALLERS_DAYS` days."""
    errors: int = 0
    callers: set[tuple[str | None, str | None]] = field(default_factory=set)
    retire_because: list[str] = field(default_factory=list)
    """Why it is a candidate for retirement; empty if it is not one."""

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None

    def as_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "department": self.department,
            "resources": list(self.resources),
            "last_read": _time(self.last_read),
            "last_update": _time(self.last_update),
            "callers_30_days": len(self.callers),
            "requests_30_days": self.requests,
            "error_rate": self.error_rate,
            "retirement_candidate": bool(self.retire_because),
            "retire_because": self.retire_because,
        }


async def take_inventory(
    store: AsyncEngine,
    catalog: Catalog,
    freshness: Mapping[str, ResourceFreshness],
    *,
    now: datetime.datetime,
    idle_days: int,
) -> list[SourceInventory]:
    """Every source of the catalog, by name; `freshness` as a check found it."""
    inventory: dict[str, SourceInventory] = {}
    source_of: dict[str, str] = {}
    for department in catalog.departments:
        resources = tuple(resource.id for resource in department.resources)
        found = inventory.setdefault(
            department.source,
            SourceInventory(department.source, department.department.code, ()),
        )
        found.resources += resources
        for resource in department.resources:
            for name in (resource.id, resource.lookup_field, resource.list_field):
                source_of[name] = department.source
    for resource_id, told in freshness.items():
        if resource_id not in source_of:  # a resource a catalog reload has since removed
            continue
        found = inventory[source_of[resource_id]]
        if told.last_update is not None:
            found.last_update = max(filter(None, [found.last_update, told.last_update]))
    await _count_use(store, inventory, source_of, now, idle_days)
    idle = datetime.timedelta(days=idle_days)
    for found in inventory.values():
        if found.last_read is None:
            found.retire_because.append(f"not read in {idle_days} days")
        if found.last_update is not None and now - found.last_update > idle:
            found.retire_because.append(f"not updated in {idle_days} days")
    return [inventory[name] for name in sorted(inventory)]


async def _count_use(
    store: AsyncEngine,
    inventory: Mapping[str, SourceInventory],
    source_of: Mapping[str, str],
    now: datetime.datetime,
    idle_days: int,
) -> None:
    c = audit_records.c
    since = now - datetime.timedelta(days=max(idle_days, CALLERS_DAYS))
    recent = now - datetime.timedelta(days=CALLERS_DAYS)
    statement = sa.select(
        c.occurred_at, c.caller_department, c.caller_system, c.error_codes, c.records, c.fields
    ).where(c.occurred_at >= since, c.occurred_at <= now)
    async with store.connect() as connection:
        async for row in await connection.stream(statement):
            occurred = row.occurred_at
            if occurred.tzinfo is None:  # SQLite keeps no zone: the writer stored UTC
                occurred = occurred.replace(tzinfo=datetime.UTC)
            roots = {account["path"].split(".")[0] for account in row.fields}
            asked = {source_of[name] for name in (*row.records, *roots) if name in source_of}
            failed = SourceUnavailable.code in row.error_codes
            for source in asked:
                found = inventory[source]
                found.last_read = max(filter(None, [found.last_read, occurred]))
                if occurred >= recent:
                    found.requests += 1
                    found.errors += failed
                    found.callers.add((row.caller_department, row.caller_system))


def _time(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
