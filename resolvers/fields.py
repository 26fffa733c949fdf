"""The resolvers of root lists, lookups and relationships: the one path data takes.

Scalar data items have no resolver of their own: a `Record` holds only what the caller
may read, so a denied item resolves to null at no cost per row, and its error is
reported once, after execution. Each factory gives its resolver a unique `__name__`,
because strawberry keys resolvers by it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

import errors
from connectors import Page
from resolvers.context import RequestContext
from resolvers.coordinates import RelationshipField
from resolvers.loaders import Record
from schema.catalog import Resource

Connection = dict[str, Any]
Resolver = Callable[..., Any]


def list_resolver(resource: Resource, default_first: int) -> Resolver:
    coordinate = ("Query", resource.list_field)

    async def resolve(
        info: strawberry.Info, first: int = default_first, after: str | None = None
    ) -> Connection | None:
        context: RequestContext = info.context
        if not context.governance.allowed(coordinate):
            return None
        page = _page(context, resource, first, after)
        records = await context.loaders.page(resource, page)
        return _connection(context, resource, records, page)

    return _named(resolve, f"list_{resource.id}")


def lookup_resolver(resource: Resource) -> Resolver:
    coordinate = ("Query", resource.lookup_field)
    match = resource.item(resource.key_item)

    async def resolve(info: strawberry.Info, key: str) -> Record | None:
        context: RequestContext = info.context
        if not context.governance.allowed(coordinate):
            return None
        records = await context.loaders.related(resource, match, None).load(key)
        return _served(context, resource, records[:1])

    return _named(resolve, f"lookup_{resource.id}")


def to_one_resolver(meaning: RelationshipField) -> Resolver:
    coordinate = (meaning.resource.type_name, meaning.relationship.name)
    from_column, target, to_item = meaning.from_item.column, meaning.target, meaning.to_item

    def resolve(root: Record, info: strawberry.Info) -> Awaitable[Record | None] | None:
        context: RequestContext = info.context
        value = root.hidden.get(from_column)
        if value is None or not context.governance.allowed(coordinate):
            return None
        return _first(context, target, context.loaders.related(target, to_item, None).load(value))

    return _named(resolve, f"one_{meaning.resource.id}_{meaning.relationship.name}")


def to_many_resolver(meaning: RelationshipField, default_first: int) -> Resolver:
    coordinate = (meaning.resource.type_name, meaning.relationship.name)
    from_column, target, to_item = meaning.from_item.column, meaning.target, meaning.to_item

    async def resolve(
        root: Record, info: strawberry.Info, first: int = default_first, after: str | None = None
    ) -> Connection | None:
        context: RequestContext = info.context
        value = root.hidden.get(from_column)
        if value is None or not context.governance.allowed(coordinate):
            return None
        page = _page(context, target, first, after)
        records = await context.loaders.related(target, to_item, page).load(value)
        return _connection(context, target, records, page)

    return _named(resolve, f"many_{meaning.resource.id}_{meaning.relationship.name}")


async def _first(
    context: RequestContext, resource: Resource, pending: Awaitable[list[Record]]
) -> Record | None:
    return _served(context, resource, (await pending)[:1])


def _served(context: RequestContext, resource: Resource, records: list[Record]) -> Record | None:
    """Account for a record as it is handed to GraphQL: only what is served is recorded."""
    context.accessed.record(resource, records)
    return records[0] if records else None


def _page(context: RequestContext, resource: Resource, first: int, after: str | None) -> Page:
    if not 0 <= first <= context.max_first:
        raise errors.LimitExceeded(
            f"first must be between 0 and {context.max_first}", limit=context.max_first
        )
    key = None if after is None else context.cursors.decode(resource.id, after)
    return Page(first, key)


def _connection(
    context: RequestContext, resource: Resource, records: list[Record], page: Page
) -> Connection:
    key_column = resource.item(resource.key_item).column
    shown = records[: page.first]
    context.accessed.record(resource, shown)
    cursors = context.plan is not None and context.plan.selected(
        (f"{resource.type_name}Edge", "cursor")
    )

    def cursor(record: Record) -> str:
        return context.cursors.encode(resource.id, record.hidden[key_column])

    return {
        "edges": [
            {"node": record, "cursor": cursor(record) if cursors else None} for record in shown
        ],
        "pageInfo": {
            "hasNextPage": len(records) > page.first,
            "hasPreviousPage": page.after is not None,
            "startCursor": cursor(shown[0]) if shown else None,
            "endCursor": cursor(shown[-1]) if shown else None,
        },
    }


def _named(resolver: Resolver, name: str) -> Resolver:
    resolver.__name__ = resolver.__qualname__ = name
    return resolver
