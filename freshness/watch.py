"""The background check of every resource's last update, and its latest answer.

Sources are asked every `freshness_check_seconds` by one task, never while a request
waits: a slow source delays the next check, not a caller. What the last check found is
kept whole (`current`), replaced at once, so a reader sees one check or the next. A
source that does not answer keeps the last update it told before: it is not fresher
for being down, and not unknown either.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from catalog import Catalog, Resource, UpdateCycle
from connectors import Connector, Dated, UpdateSign, as_utc
from drops.staging import Staging
from errors import SourceUnavailable
from freshness.cycles import is_stale

logger = logging.getLogger("gov_share.freshness")


@dataclass(frozen=True)
class ResourceFreshness:
    """One resource as the last check found it."""

    resource: str
    source: str
    cycle: UpdateCycle
    last_update: datetime.datetime | None
    """None: its source declares nothing to read it from, or never told it."""
    checked_at: datetime.datetime

    @property
    def age_seconds(self) -> float | None:
        if self.last_update is None:
            return None
        return (self.checked_at - self.last_update).total_seconds()

    @property
    def stale(self) -> bool:
        return is_stale(self.cycle, self.last_update, self.checked_at)


class FreshnessWatch:
    """Asks the sources when their resources were last updated: a column's greatest
    value, an API's header (`connectors.Dated`), or a file drop's last load stamp."""

    def __init__(
        self,
        catalog: Callable[[], Catalog],
        sources: Mapping[str, Connector],
        stagings: Mapping[str, Staging],
    ) -> None:
        self._catalog = catalog
        self._sources = sources
        self._stagings = stagings
        """The staging databases of the file-drop sources, by source name."""
        self.current: Mapping[str, ResourceFreshness] = {}
        """By resource id, as the last check found them; empty before the first."""
        self._stale: tuple[str, ...] = ()
        self.clock: Callable[[], datetime.datetime] = lambda: datetime.datetime.now(datetime.UTC)
        """What `now` is when a check is not told (a test sets its own)."""
        self._started = 0
        self._kept = 0
        """The numbers of the last check started and of the one `current` holds: a slow
        check that ends after a later one does not replace what the later one found."""

    def stale(self) -> list[str]:
        """The ids of the resources the last check found stale, sorted: found once per
        check, as every request asks."""
        return list(self._stale)

    async def check(self, now: datetime.datetime | None = None) -> Mapping[str, ResourceFreshness]:
        """Ask every source once; `now` is when the ages are counted to (a test's clock)."""
        now = now or self.clock()
        self._started += 1
        number = self._started
        catalog = self._catalog()
        stamps = await self._stamps()
        resources = [
            (department.source, resource)
            for department in catalog.departments
            for resource in department.resources
        ]
        told = await asyncio.gather(
            *(self._last_update(source, resource, stamps) for source, resource in resources)
        )
        checked = {}
        for (source, resource), last in zip(resources, told, strict=True):
            before = self.current.get(resource.id)
            if last is None and before is not None:
                last = before.last_update
            checked[resource.id] = ResourceFreshness(
                resource.id, source, resource.update_cycle, last, now
            )
        if number > self._kept:
            self.current, self._kept = checked, number
            self._stale = tuple(sorted(rid for rid, found in checked.items() if found.stale))
        return checked

    async def follow(self, interval: float) -> None:
        """Check now and then every `interval` seconds, until cancelled."""
        while True:
            await self.check()
            await asyncio.sleep(interval)

    async def close(self) -> None:
        for staging in self._stagings.values():
            await staging.close()

    async def _last_update(
        self, source: str, resource: Resource, stamps: Mapping[str, Mapping[str, object]]
    ) -> datetime.datetime | None:
        if source in stamps:
            return as_utc(stamps[source].get(resource.id))
        connector = self._sources.get(source)
        if not isinstance(connector, Dated):
            return None
        sign = UpdateSign(
            resource.table,
            resource.updated_column,
            resource.api.path if resource.api is not None else None,
            resource.updated_header,
        )
        try:
            return await connector.last_update(sign)
        except SourceUnavailable:
            logger.warning("last update not told", extra={"source": source})
            return None

    async def _stamps(self) -> dict[str, Mapping[str, object]]:
        """The last load of each file-drop resource, by source; a staging database that
        does not answer is left out (its resources keep what they told before)."""
        found: dict[str, Mapping[str, object]] = {}
        for source, staging in self._stagings.items():
            try:
                found[source] = {
                    stamp.resource: stamp.loaded_at for stamp in await staging.stamps()
                }
            except (SQLAlchemyError, OSError):
                logger.warning("load stamps not read", extra={"source": source})
                found[source] = {}
        return found
