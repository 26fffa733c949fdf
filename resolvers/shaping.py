"""Run a compiled program (`compiled.py`): read level by level, shape objects from records.

The reads are the loaders' (`loaders.py`): the same statements with the same
projections, for the same keys, with the same bound on a batch, and a key read once
per request for each loader, as DataLoader's cache has it. Where graphql-core waits
for one event-loop tick to gather a batch, a program knows every key of a level once
the level above is shaped: each level is one wave of reads, run together, and only
then are the objects they fill shaped. Every check a resolver makes for a parent row
is made here for the same row, in the same order: the coordinate allowed, the join
value present.

What graphql-core would report as an error (a source failing, a refused cursor, a
page too long, a value that does not serialize) is not shaped here: it raises, and
the executor answers the request with graphql-core from the start.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Hashable
from dataclasses import dataclass, field
from typing import Any

from catalog import DataItem, Resource
from connectors import Page
from resolvers.compiled import Connection, Join, Node, Program, Unshaped
from resolvers.context import Listing, RequestContext
from resolvers.fields import cursor_of, listing_of
from resolvers.filters import ConnectionQuery
from resolvers.loaders import Record

Json = dict[str, Any]
_GroupKey = tuple[Hashable, ...]


@dataclass
class _Group:
    """The keys one loader is asked for in one wave, and where each answer goes."""

    kind: str
    """`one`, `many` or `count`."""
    resource: Resource
    match: DataItem
    page: Page | None = None
    query: ConnectionQuery | None = None
    wanted: list[tuple[Json, str, Hashable, Any]] = field(default_factory=list)
    """(object, response key, join value, what shapes the answer)."""


async def run(program: Program, context: RequestContext) -> Json:
    return await _Run(context).program(program)


class _Run:
    def __init__(self, context: RequestContext) -> None:
        self.context = context
        self.loaders = context.loaders
        self.allowed = context.governance.allowed
        self.bound = context.loaders.bound
        self.known: dict[_GroupKey, dict[Hashable, Any]] = {}
        """What each loader has answered, by key: DataLoader's cache."""
        self.wave: dict[_GroupKey, _Group] = {}
        self.listings: dict[int, Listing] = {}

    async def program(self, program: Program) -> Json:
        data: Json = {}
        pages: list[tuple[Json, str, Connection, Listing, Awaitable[Any]]] = []
        for root in program.roots:
            data[root.key] = None
            if root.coordinate not in self.allowed:
                continue
            if root.connection is not None:
                listing = self._listing(root.connection)
                read = self._page(root.resource, root.connection, listing)
                pages.append((data, root.key, root.connection, listing, read))
            else:
                assert root.node is not None and root.match is not None
                value = root.selection.arguments[root.match.name]
                if value is None:
                    raise Unshaped("a lookup of no key")
                self._one(root.resource, root.match, data, root.key, value, root.node)
        # Lookups are read with the root lists, as graphql-core reads them: at once.
        lookups = [self._next_wave()] if self.wave else []
        read_pages = await _together([*(read for *_, read in pages), *lookups])
        for (into, key, connection, listing, _), (records, count) in zip(
            pages, read_pages, strict=False
        ):
            into[key] = self._connection(connection, listing, records, count)
        while self.wave:
            await self._next_wave()
        return data

    async def _page(
        self, resource: Resource, connection: Connection, listing: Listing
    ) -> tuple[list[Record], int | None]:
        records = await self.loaders.page(resource, listing.page, listing.query)
        count = None
        if connection.counted:
            count = await self.loaders.count(resource, listing.query)
        return records, count

    def _listing(self, connection: Connection) -> Listing:
        selection = connection.selection
        listing = self.listings.get(id(selection))
        if listing is None:
            arguments = selection.arguments
            listing = self.listings[id(selection)] = listing_of(
                self.context,
                connection.resource,
                selection.path,
                arguments["first"],
                arguments.get("after"),
            )
        return listing

    # ---- waves ----------------------------------------------------------------------

    def _one(
        self, resource: Resource, match: DataItem, into: Json, key: str, value: Hashable, node: Node
    ) -> None:
        group = self._group(("one", resource.id, match.name), "one", resource, match)
        group.wanted.append((into, key, value, node))

    def _many(self, join: Join, into: Json, value: Hashable) -> None:
        connection = join.connection
        assert connection is not None
        listing = self._listing(connection)
        query = listing.query
        target, match = join.target, join.match
        rows = ("many", target.id, match.name, listing.page, query.predicate, query.order)
        group = self._group(rows, "many", target, match, listing.page, query)
        counts = None
        if connection.counted:
            counts = ("count", target.id, match.name, None, query.predicate, query.order)
            self._group(counts, "count", target, match, None, query).wanted.append(
                (into, join.key, value, None)
            )
        group.wanted.append((into, join.key, value, (connection, listing, counts)))

    def _group(
        self,
        key: _GroupKey,
        kind: str,
        resource: Resource,
        match: DataItem,
        page: Page | None = None,
        query: ConnectionQuery | None = None,
    ) -> _Group:
        group = self.wave.get(key)
        if group is None:
            group = self.wave[key] = _Group(kind, resource, match, page, query)
        return group

    async def _next_wave(self) -> None:
        wave, self.wave = self.wave, {}
        await _together([self._read(key, group) for key, group in wave.items()])
        for key, group in wave.items():
            answers = self.known[key]
            if group.kind == "one":
                for into, response_key, value, node in group.wanted:
                    record = answers[value]
                    into[response_key] = None if record is None else self._node(node, record)
            elif group.kind == "many":
                for into, response_key, value, (connection, listing, counts) in group.wanted:
                    count = None if counts is None else self.known[counts][value]
                    into[response_key] = self._connection(
                        connection, listing, answers[value], count
                    )

    async def _read(self, key: _GroupKey, group: _Group) -> None:
        """The keys not yet answered, in the order first asked, in batches of `bound`."""
        answers = self.known.setdefault(key, {})
        keys = list(dict.fromkeys(v for _, _, v, _ in group.wanted if v not in answers))
        batches = [keys[start : start + self.bound] for start in range(0, len(keys), self.bound)]
        loaders, resource, match = self.loaders, group.resource, group.match
        reads: list[Awaitable[list[Any]]]
        if group.kind == "one":
            reads = [loaders.read_singles(resource, match, batch) for batch in batches]
        elif group.kind == "many":
            assert group.page is not None and group.query is not None
            page, query = group.page, group.query
            reads = [loaders.read_related(resource, match, page, query, b) for b in batches]
        else:
            assert group.query is not None
            query = group.query
            reads = [loaders.read_related_counts(resource, match, query, b) for b in batches]
        for batch, found in zip(batches, await _together(reads), strict=True):
            answers.update(zip(batch, found, strict=True))

    # ---- shaping --------------------------------------------------------------------

    def _node(self, node: Node, record: Record) -> Json:
        shaped: Json = dict.fromkeys(node.keys)  # in response order; every value set below
        get = record.get
        for leaf in node.leaves:
            value = get(leaf.name)
            if value is not None and not (leaf.text and value.__class__ is str):
                value = leaf.serialize(value)
            shaped[leaf.key] = value
        for join in node.joins:
            if join.coordinate not in self.allowed:
                continue
            value = record.hidden.get(join.from_column)
            if value is None:
                continue
            if join.node is not None:
                self._one(join.target, join.match, shaped, join.key, value, join.node)
            else:
                self._many(join, shaped, value)
        return shaped

    def _connection(
        self, connection: Connection, listing: Listing, records: list[Record], count: int | None
    ) -> Json:
        shown = records[: listing.page.first]
        resource = connection.resource
        shaped: Json = {}
        for part in connection.parts:
            if part.name == "edges":
                cursors: list[str] | None = None
                if any(f.node is None for f in part.edge):
                    cursors = [cursor_of(self.context, resource, listing, r) for r in shown]
                edges = []
                for index, record in enumerate(shown):
                    edge: Json = {}
                    for edge_field in part.edge:
                        if edge_field.node is None:
                            assert cursors is not None
                            edge[edge_field.key] = cursors[index]
                        else:
                            edge[edge_field.key] = self._node(edge_field.node, record)
                    edges.append(edge)
                shaped[part.key] = edges
            elif part.name == "pageInfo":
                shaped[part.key] = self._page_info(part.page_info, resource, listing, records)
            else:
                if count is not None and not -(2**31) <= count < 2**31:
                    raise Unshaped("Int")
                shaped[part.key] = count
        return shaped

    def _page_info(
        self,
        fields: tuple[tuple[str, str], ...],
        resource: Resource,
        listing: Listing,
        records: list[Record],
    ) -> Json:
        shown = records[: listing.page.first]
        info: Json = {}
        for key, name in fields:
            if name == "hasNextPage":
                info[key] = len(records) > len(shown)
            elif name == "hasPreviousPage":
                info[key] = listing.page.after is not None
            elif name == "startCursor":
                info[key] = cursor_of(self.context, resource, listing, shown[0]) if shown else None
            else:
                info[key] = cursor_of(self.context, resource, listing, shown[-1]) if shown else None
        return info


async def _together(reads: list[Awaitable[Any]]) -> list[Any]:
    """Every read of a wave at once, each finished before the first failure is raised,
    so nothing of this request still reads when the executor starts afresh."""
    if len(reads) == 1:
        return [await reads[0]]
    found = await asyncio.gather(*reads, return_exceptions=True)
    for each in found:
        if isinstance(each, BaseException):
            raise each
    return found
