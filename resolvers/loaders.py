"""Per-request DataLoaders: one backend statement per resource per level, not per row.

A loader set lives for one request only: a shared loader would hand one caller's
authorised rows to another. Loaders are keyed by (resource, matched item, page), and
every batch reads the request's projection for that resource and nothing else.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiodataloader import DataLoader

from connectors import Connector, Page, Read, Row
from resolvers.governance import Projection
from schema.catalog import DataItem, Resource


class Record(dict[str, Any]):
    """A record as served: only values the caller selected and may read.

    Columns read for joins, cursors and the audit log sit in `hidden`, out of reach
    of GraphQL's field resolution.
    """

    __slots__ = ("hidden",)

    def __init__(self, visible: dict[str, Any], hidden: Row) -> None:
        super().__init__(visible)
        self.hidden = hidden


@dataclass
class Accessed:
    """Record keys and data subjects served, per resource, for the audit record."""

    keys: dict[str, set[Hashable]] = field(default_factory=dict)
    subjects: dict[str, set[Hashable]] = field(default_factory=dict)

    def record(self, resource: Resource, records: list[Record]) -> None:
        key_column = resource.item(resource.key_item).column
        subject_columns = [resource.item(name).column for name in resource.subject_items]
        keys = self.keys.setdefault(resource.id, set())
        subjects = self.subjects.setdefault(resource.id, set())
        for record in records:
            keys.add(record.hidden[key_column])
            subjects.update(record.hidden[column] for column in subject_columns)


class Loaders:
    def __init__(self, connectors: Mapping[str, Connector], bound: int) -> None:
        self.connectors = connectors
        self.bound = bound
        self.projections: Mapping[str, Projection] = {}
        self._loaders: dict[tuple[str, str, Page | None], DataLoader[Hashable, list[Record]]] = {}

    def related(
        self, resource: Resource, match: DataItem, page: Page | None
    ) -> DataLoader[Hashable, list[Record]]:
        """The loader for records of `resource` whose `match` item equals a key."""
        cache_key = (resource.id, match.name, page)
        loader = self._loaders.get(cache_key)
        if loader is None:

            async def batch(keys: list[Hashable]) -> list[list[Record]]:
                read = self._read(resource, match.column, tuple(keys), page)
                return [
                    self._records(resource, rows)
                    for rows in await self.connectors[resource.id].read(read)
                ]

            loader = self._loaders[cache_key] = DataLoader(batch, max_batch_size=self.bound)
        return loader

    async def page(self, resource: Resource, page: Page) -> list[Record]:
        """A page of every record of `resource`, in key order."""
        [rows] = await self.connectors[resource.id].read(self._read(resource, None, None, page))
        return self._records(resource, rows)

    def _read(
        self,
        resource: Resource,
        match_column: str | None,
        keys: tuple[Hashable, ...] | None,
        page: Page | None,
    ) -> Read:
        columns = self.projections[resource.id].columns
        if match_column is not None and match_column not in columns:
            columns = (*columns, match_column)
        key_column = resource.item(resource.key_item).column
        return Read(resource.table, columns, key_column, match_column, keys, page)

    def _records(self, resource: Resource, rows: list[Row]) -> list[Record]:
        visible = self.projections[resource.id].visible
        return [Record({name: row[column] for name, column in visible}, row) for row in rows]
