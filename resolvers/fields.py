"""The resolvers of root lists, lookups and relationships: the one path data takes.

Scalar data items have no resolver of their own: a `Record` holds only what the caller
may read, so a denied item resolves to null at no cost per row, and its error is
reported once, after execution. A connection's `where` and `orderBy` were translated
and decided before execution; the resolver finds them by its response path.

Each function is both strawberry's declaration of the field (its signature gives the
arguments; strawberry keys resolvers by a unique `__name__`) and, installed by
`schema.build`, the plain graphql-core resolver that runs: strawberry's per-call
argument conversion would otherwise rebuild `where` and `orderBy` once per parent row.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, cast

import strawberry
from aiodataloader import DataLoader
from graphql import GraphQLResolveInfo
from graphql.pyutils import Path

import errors
from catalog import PYTHON_TYPES, Resource, naming
from connectors import Page
from resolvers.context import Listing, RequestContext
from resolvers.coordinates import RelationshipField
from resolvers.denials import field_denied
from resolvers.filters import ConnectionQuery
from resolvers.loaders import Loaders, Record

Connection = dict[str, Any]
Resolver = Callable[..., Any]


def list_resolver(resource: Resource, default_first: int, where: type, order: type) -> Resolver:
    coordinate = (naming.QUERY, resource.names.list_field)

    async def resolve(
        root: None,
        info: strawberry.Info,
        first: int = default_first,
        after: str | None = None,
        where: Any = None,
        orderBy: Any = None,
    ) -> Connection | None:
        context: RequestContext = info.context
        if coordinate not in context.governance.allowed:
            return None
        listing = _listing(context, info, resource, first, after)
        records = await context.loaders.page(resource, listing.page, listing.query)
        count = None
        if listing.counted:
            count = functools.partial(_count, context.loaders, resource, listing.query)
        return _connection(context, resource, records, listing, count)

    return _typed(_named(resolve, f"list_{resource.id}"), where, order)


def lookup_resolver(resource: Resource) -> Resolver:
    coordinate = (naming.QUERY, resource.names.lookup_field)
    match = resource.item(resource.key_item)

    def resolve(
        root: None, info: strawberry.Info, **arguments: Any
    ) -> Awaitable[Record | None] | None:
        context: RequestContext = info.context
        if coordinate not in context.governance.allowed:
            return None
        return context.loaders.single(resource, match).load(arguments[match.name])

    _keyword_arguments(resolve, {match.name: PYTHON_TYPES[match.data_type]})
    return _named(resolve, f"lookup_{resource.id}")


def verify_resolver(resource: Resource, claims: type) -> Resolver:
    """True when the record with this key holds every claimed value, else False; the
    stored values never leave the department database, and each call spends one check
    of the caller's daily quota; an alias refused is answered null with its own error."""
    key = resource.item(resource.key_item)

    async def resolve(root: None, info: strawberry.Info, **arguments: Any) -> bool | None:
        context: RequestContext = info.context
        path = _response_path(info.path)
        denial = context.governance.verified[path].denial
        if denial is not None:  # this alias's own error, at its own path: no check spent
            raise field_denied(denial)
        if not await context.quota.spend(context.caller):
            raise errors.QuotaExceeded(
                f"the daily verification quota of {context.caller.system_subject} is spent",
            )
        return await context.loaders.verify(resource, context.governance.verifications[path])

    _keyword_arguments(
        resolve, {key.name: PYTHON_TYPES[key.data_type], naming.CLAIMS_ARGUMENT: claims}
    )
    return _named(resolve, f"verify_{resource.id}")


def to_one_resolver(meaning: RelationshipField) -> Resolver:
    coordinate = (meaning.resource.type_name, meaning.relationship.name)
    from_column, target, to_item = meaning.from_item.column, meaning.target, meaning.to_item

    def resolve(root: Record, info: strawberry.Info) -> Awaitable[Record | None] | None:
        context: RequestContext = info.context
        value = root.hidden.get(from_column)
        if value is None or coordinate not in context.governance.allowed:
            return None
        return context.loaders.single(target, to_item).load(value)

    return _named(resolve, f"one_{meaning.resource.id}_{meaning.relationship.name}")


def to_many_resolver(
    meaning: RelationshipField, default_first: int, where: type, order: type
) -> Resolver:
    coordinate = (meaning.resource.type_name, meaning.relationship.name)
    from_column, target, to_item = meaning.from_item.column, meaning.target, meaning.to_item

    async def resolve(
        root: Record,
        info: strawberry.Info,
        first: int = default_first,
        after: str | None = None,
        where: Any = None,
        orderBy: Any = None,
    ) -> Connection | None:
        context: RequestContext = info.context
        value = root.hidden.get(from_column)
        if value is None or coordinate not in context.governance.allowed:
            return None
        listing = _listing(context, info, target, first, after)
        loaders = context.loaders
        records = await loaders.related(target, to_item, listing.page, listing.query).load(value)
        count = None
        if listing.counted:
            count = functools.partial(
                _related_count, loaders.related_counts(target, to_item, listing.query), value
            )
        return _connection(context, target, records, listing, count)

    name = f"many_{meaning.resource.id}_{meaning.relationship.name}"
    return _typed(_named(resolve, name), where, order)


def _listing(
    context: RequestContext,
    info: strawberry.Info,
    resource: Resource,
    first: int,
    after: str | None,
) -> Listing:
    """Everything that is the same for every parent of this field, made once.

    `info` is graphql-core's own at run time (see the module docstring); it is declared
    as strawberry's only so that strawberry builds the schema from the signature.
    """
    node = id(cast("GraphQLResolveInfo[RequestContext]", info).field_nodes[0])
    listing = context.listings.get(node)
    if listing is None:
        path = _response_path(info.path)
        listing = context.listings[node] = listing_of(context, resource, path, first, after)
    return listing


def listing_of(
    context: RequestContext,
    resource: Resource,
    path: tuple[str, ...],
    first: int,
    after: str | None,
) -> Listing:
    """How the connection selection at response path `path` reads and renders; the
    compiled executor (`compiled.py`) makes it the same way."""
    query = context.governance.query(path)
    names = resource.names
    sort_columns = (
        *(key.column for key in query.order),
        resource.item(resource.key_item).column,
    )
    return Listing(
        page=_page(context, resource, first, after, query),
        query=query,
        sort_columns=sort_columns,
        # Cursors are encrypted (~10 µs each): made only where the operation asks.
        edge_cursors=_selected(context, names.edge, "cursor"),
        page_info=_selected(context, names.connection, "pageInfo"),
        start_cursor=_selected(context, naming.PAGE_INFO, "startCursor"),
        end_cursor=_selected(context, naming.PAGE_INFO, "endCursor"),
        counted=_selected(context, names.connection, "totalCount"),
    )


def _page(
    context: RequestContext,
    resource: Resource,
    first: int,
    after: str | None,
    query: ConnectionQuery,
) -> Page:
    if not 0 <= first <= context.max_first:
        raise errors.LimitExceeded(
            f"first must be between 0 and {context.max_first}", limit=context.max_first
        )
    # One row more than asked tells whether another page exists: read only if asked.
    probe = _selected(context, naming.PAGE_INFO, "hasNextPage")
    if after is None:
        return Page(first, probe=probe)
    length = len(query.order) + 1
    keyset = context.cursors.decode(resource.id, after, query.signature, length)
    return Page(first, keyset, probe)


def _selected(context: RequestContext, type_name: str, field_name: str) -> bool:
    return context.plan.selected((type_name, field_name))


def _connection(
    context: RequestContext,
    resource: Resource,
    records: list[Record],
    listing: Listing,
    count: Counting | None,
) -> Connection:
    """Only what the operation selects: this runs once per parent row."""
    shown = records[: listing.page.first]
    if listing.edge_cursors:
        edges = [{"node": r, "cursor": cursor_of(context, resource, listing, r)} for r in shown]
    else:
        edges = [{"node": record} for record in shown]
    connection: Connection = {"edges": edges}
    if listing.page_info:
        connection["pageInfo"] = _page_info(context, resource, records, shown, listing)
    if count is not None:
        connection["totalCount"] = count
    return connection


Counting = Callable[[GraphQLResolveInfo[RequestContext]], Awaitable[int]]
"""A connection's totalCount, read only when graphql-core resolves it (its default
resolver calls a callable value): `counted` says some connection of the type asks
for it, not that this one does, and a count made and never awaited would be a read
for nothing."""


async def _count(
    loaders: Loaders,
    resource: Resource,
    query: ConnectionQuery,
    _info: GraphQLResolveInfo[RequestContext],
) -> int:
    return await loaders.count(resource, query)


def _related_count(
    counter: DataLoader[Hashable, int], value: Hashable, _info: GraphQLResolveInfo[RequestContext]
) -> Awaitable[int]:
    return counter.load(value)


def _page_info(
    context: RequestContext,
    resource: Resource,
    records: list[Record],
    shown: list[Record],
    listing: Listing,
) -> dict[str, Any]:
    return {
        "hasNextPage": len(records) > len(shown),
        "hasPreviousPage": listing.page.after is not None,
        "startCursor": (
            cursor_of(context, resource, listing, shown[0])
            if shown and listing.start_cursor
            else None
        ),
        "endCursor": (
            cursor_of(context, resource, listing, shown[-1])
            if shown and listing.end_cursor
            else None
        ),
    }


def cursor_of(context: RequestContext, resource: Resource, listing: Listing, record: Record) -> str:
    values = [record.hidden[column] for column in listing.sort_columns]
    return context.cursors.encode(resource.id, values, listing.query.signature)


def _response_path(path: Path) -> tuple[str, ...]:
    keys: list[str] = []
    step: Path | None = path
    while step is not None:
        if isinstance(step.key, str):
            keys.append(step.key)
        step = step.prev
    return tuple(reversed(keys))


def _keyword_arguments(resolver: Resolver, arguments: dict[str, type]) -> None:
    """Declare arguments named after catalog items, which a `def` cannot spell out,
    for strawberry to build the field from."""
    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [
        inspect.Parameter("root", positional),
        inspect.Parameter("info", positional, annotation=strawberry.Info),
        *(
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind)
            for name, kind in arguments.items()
        ),
    ]
    resolver.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    resolver.__annotations__ = {"info": strawberry.Info, **arguments}


def _typed(resolver: Resolver, where: type, order: type) -> Resolver:
    """Give the generic resolver this resource's own input types, for the schema."""
    resolver.__annotations__ = {
        **resolver.__annotations__,
        "where": where | None,
        "orderBy": list[order] | None,  # type: ignore[valid-type]
    }
    return resolver


def _named(resolver: Resolver, name: str) -> Resolver:
    resolver.__name__ = resolver.__qualname__ = name
    return resolver
