"""Per-request DataLoaders: one backend statement per resource per level, not per row.

A loader set lives for one request only: a shared loader would hand one caller's
authorised rows to another. Loaders are keyed by (resource, matched item, page), and
every batch reads the request's projection for that resource and nothing else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, TypeVar

from aiodataloader import DataLoader

from catalog import DataItem, Resource
from connectors import (
    Comparison,
    Connector,
    Flag,
    Operator,
    OrderKey,
    Page,
    Predicate,
    Read,
    ReadContext,
    Row,
)
from resolvers.filters import UNFILTERED, ConnectionQuery
from resolvers.projection import Projection, accounting_columns
from resolvers.showing import Shown
from resolvers.verification import Verification


class Record(dict[str, Any]):
    """A record as served: only values the caller selected and may read.

    Columns read for joins, cursors and the audit log sit in `hidden`, out of reach
    of GraphQL's field resolution. It has no `__init__` of its own: `_records` sets
    `hidden`, as a Python call per record made a record a third dearer (0.6 µs, not 0.4).
    """

    __slots__ = ("hidden",)
    hidden: Row


@dataclass
class Accessed:
    """Record keys and data subjects served, per resource, for the audit record."""

    keys: dict[str, set[Hashable]] = field(default_factory=dict)
    subjects: dict[str, set[Hashable]] = field(default_factory=dict)
    out_of_scope: set[tuple[str, str]] = field(default_factory=set)
    """(type, field) withheld from some record outside the caller's grant scope."""

    def record(self, resource: Resource, rows: list[Row], accounted: tuple[str, ...]) -> None:
        """Called once per batch with the rows it serves and the columns that account for
        them (`Projection.accounted`: the key column, then every column naming a subject
        served), so it looks up no items itself."""
        self.keys.setdefault(resource.id, set()).update(map(itemgetter(accounted[0]), rows))
        subjects = self.subjects.setdefault(resource.id, set())
        for column in accounted[1:]:
            subjects.update(
                value
                for value in map(itemgetter(column), rows)
                if not isinstance(value, Exception)  # withheld upstream: nothing served
            )

    def checked(self, resource: Resource, identifiers: tuple[Hashable, ...]) -> None:
        """Identifiers a verification claimed: their subjects were asked about."""
        self.subjects.setdefault(resource.id, set()).update(identifiers)


T = TypeVar("T")


class Asked:
    """What the sources answered to the reads of one request, failures included, by
    read. When the compiled executor gives way (`execution.py`), graphql-core executes
    the request afresh: a read it repeats is answered from here, so a source is asked
    once, its failures are counted once, and a slow one costs its time once."""

    def __init__(self) -> None:
        self._answers: dict[Hashable, Any] = {}

    async def answer(
        self,
        key: Hashable,
        ask: Callable[[Read, ReadContext], Awaitable[T]],
        read: Read,
        context: ReadContext,
    ) -> T:
        try:
            known = self._answers.get(key, _UNASKED)
        except TypeError:  # a value in the read that cannot be told apart by hash
            return await ask(read, context)
        if known is _UNASKED:
            try:
                known = await ask(read, context)
            except Exception as error:
                self._answers[key] = _Failed(error)
                raise
            self._answers[key] = known
        elif isinstance(known, _Failed):
            raise known.error
        return known  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _Failed:
    error: Exception


_UNASKED = object()

LoaderKey = tuple[str, str, Page | None, Predicate | None, tuple[OrderKey, ...]]


class Loaders:
    """Made once the request is decided: `projections` (what each resource may read)
    is fixed for their life."""

    def __init__(
        self,
        connectors: Mapping[str, Connector],
        bound: int,
        accessed: Accessed,
        projections: Mapping[str, Projection],
        context: ReadContext,
        asked: Asked | None = None,
    ) -> None:
        """`asked`: what the sources answered to an earlier attempt at this request,
        answered again from it, not asked twice (`Asked`)."""
        self.connectors = connectors
        self.asked = asked
        self.bound = bound
        self.accessed = accessed
        self.projections = projections
        self.context = context
        self._loaders: dict[LoaderKey, DataLoader[Hashable, list[Record]]] = {}
        self._singles: dict[tuple[str, str], DataLoader[Hashable, Record | None]] = {}
        self._counters: dict[LoaderKey, DataLoader[Hashable, int]] = {}

    def release(self) -> None:
        """Forget this request's loaders once it has executed. Each one's batch function
        refers back to this object: left in place, that cycle keeps every record and row
        the request read alive until the garbage collector's next pass over old objects,
        instead of until the response is sent."""
        self._loaders.clear()
        self._singles.clear()
        self._counters.clear()

    def single(self, resource: Resource, match: DataItem) -> DataLoader[Hashable, Record | None]:
        """The loader for the one record of `resource` whose `match` item equals a key;
        what it returns is served whole, so it is accounted for as it is read."""
        cache_key = (resource.id, match.name)
        loader = self._singles.get(cache_key)
        if loader is None:

            async def batch(keys: list[Hashable]) -> list[Record | None]:
                return await self.read_singles(resource, match, keys)

            loader = self._singles[cache_key] = DataLoader(batch, max_batch_size=self.bound)
        return loader

    def related(
        self,
        resource: Resource,
        match: DataItem,
        page: Page,
        query: ConnectionQuery = UNFILTERED,
    ) -> DataLoader[Hashable, list[Record]]:
        """The loader for records of `resource` whose `match` item equals a key; a page's
        first `page.first` records are served (the probe row only tells that there are
        more), so they are accounted for as they are read, once per batch: once per
        parent row, accounting took 3.1 of the 33 million instructions an N=100 request
        of bench/ spent beyond plain graphql-core (callgrind); per batch, under 1."""
        cache_key = (resource.id, match.name, page, query.predicate, query.order)
        loader = self._loaders.get(cache_key)
        if loader is None:

            async def batch(keys: list[Hashable]) -> list[list[Record]]:
                return await self.read_related(resource, match, page, query, keys)

            loader = self._loaders[cache_key] = DataLoader(batch, max_batch_size=self.bound)
        return loader

    def related_counts(
        self, resource: Resource, match: DataItem, query: ConnectionQuery
    ) -> DataLoader[Hashable, int]:
        """Counts of records of `resource` per key of `match`, one statement per batch."""
        cache_key = (resource.id, match.name, None, query.predicate, query.order)
        counter = self._counters.get(cache_key)
        if counter is None:

            async def batch(keys: list[Hashable]) -> list[int]:
                return await self.read_related_counts(resource, match, query, keys)

            counter = self._counters[cache_key] = DataLoader(batch, max_batch_size=self.bound)
        return counter

    async def read_singles(
        self, resource: Resource, match: DataItem, keys: list[Hashable]
    ) -> list[Record | None]:
        """One batch of `single`: one statement for `keys`, a record or None for each."""
        read = self._read(resource, match.column, tuple(keys), None, UNFILTERED)
        row_sets = await self._rows(resource, read)
        firsts = [rows[0] for rows in row_sets if rows]
        self.accessed.record(resource, firsts, self._accounted(resource))
        records = iter(self._records(resource, firsts))
        return [next(records) if rows else None for rows in row_sets]

    async def read_related(
        self,
        resource: Resource,
        match: DataItem,
        page: Page,
        query: ConnectionQuery,
        keys: list[Hashable],
    ) -> list[list[Record]]:
        """One batch of `related`: one statement for `keys`, a page of records for each."""
        read = self._read(resource, match.column, tuple(keys), page, query)
        row_sets = await self._rows(resource, read)
        served = [r for rows in row_sets for r in rows[: page.first]]
        self.accessed.record(resource, served, self._accounted(resource))
        return [self._records(resource, rows) for rows in row_sets]

    async def read_related_counts(
        self, resource: Resource, match: DataItem, query: ConnectionQuery, keys: list[Hashable]
    ) -> list[int]:
        """One batch of `related_counts`: one statement for `keys`, a count for each."""
        read = self._read(resource, match.column, tuple(keys), None, query)
        return await self._counts(resource, read)

    async def page(self, resource: Resource, page: Page, query: ConnectionQuery) -> list[Record]:
        """A page of the records of `resource` that match, in the query's order; its
        first `page.first` are served, and accounted for."""
        read = self._read(resource, None, None, page, query)
        [rows] = await self._rows(resource, read)
        self.accessed.record(resource, rows[: page.first], self._accounted(resource))
        return self._records(resource, rows)

    async def verify(self, resource: Resource, check: Verification) -> bool:
        """One statement: the record's key and subjects (for the audit log), and a flag
        the database computes from the claims; the claimed items are never selected, so
        a claimed identifier is accounted for as claimed."""
        key_column = resource.item(resource.key_item).column
        accounted = accounting_columns(resource)
        read = Read(
            resource.table,
            tuple(dict.fromkeys(accounted)),
            key_column,
            predicate=Comparison(key_column, Operator.EQ, check.key),
            page=Page(1, probe=False),
            flags=(Flag("_matches", check.condition),),
            endpoint=resource.endpoint,
        )
        [rows] = await self._rows(resource, read)
        self.accessed.record(resource, rows, accounted)
        self.accessed.checked(resource, check.identifiers)
        return bool(rows) and bool(rows[0]["_matches"])

    async def count(self, resource: Resource, query: ConnectionQuery) -> int:
        read = self._read(resource, None, None, None, query)
        [total] = await self._counts(resource, read)
        return total

    def _accounted(self, resource: Resource) -> tuple[str, ...]:
        return self.projections[resource.id].accounted

    async def _rows(self, resource: Resource, read: Read) -> list[list[Row]]:
        connector = self.connectors[resource.id]
        if self.asked is None:
            return await connector.read(read, self.context)
        return await self.asked.answer(
            ("read", resource.id, read), connector.read, read, self.context
        )

    async def _counts(self, resource: Resource, read: Read) -> list[int]:
        connector = self.connectors[resource.id]
        if self.asked is None:
            return await connector.count(read, self.context)
        return await self.asked.answer(
            ("count", resource.id, read), connector.count, read, self.context
        )

    def _read(
        self,
        resource: Resource,
        match_column: str | None,
        keys: tuple[Hashable, ...] | None,
        page: Page | None,
        query: ConnectionQuery,
    ) -> Read:
        projection = self.projections[resource.id]
        columns = projection.columns
        if match_column is not None and match_column not in columns:
            columns = (*columns, match_column)
        key_column = resource.item(resource.key_item).column
        return Read(
            resource.table,
            columns,
            key_column,
            match_column,
            keys,
            page,
            query.predicate,
            query.order,
            projection.computed,
            projection.flags,
            resource.endpoint,
        )

    def _records(self, resource: Resource, rows: list[Row]) -> list[Record]:
        projection = self.projections[resource.id]
        visible = projection.visible
        records = []
        for row in rows:
            record = Record({name: row[column] for name, column in visible})
            record.hidden = row
            records.append(record)
        for shown in projection.shown:
            for record in records:
                record[shown.name] = self._shown(resource, shown, record.hidden)
        return records

    def _shown(self, resource: Resource, shown: Shown, row: Row) -> Any:
        """A masked or scoped item's value as the source computed it for this row."""
        if shown.flag is None or row[shown.flag]:
            value = row[shown.label]
        elif shown.outside is not None:
            value = row[shown.outside]
        else:
            self.accessed.out_of_scope.add((resource.type_name, shown.name))
            return None
        if shown.as_text and value is not None and not isinstance(value, str | Exception):
            return str(value)
        return value
