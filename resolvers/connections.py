"""What a connection selection filters, orders and pages on.

Each item a connection uses is decided as if read (a value could be learned through
`_gt` or `_like`, or from the order of rows), and the selection's translated query is
kept for its resolver, restricted to the scope of every scoped item it filters or
orders on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

from catalog import Cardinality, DataItem, Resource
from connectors import And
from policies import Decision
from resolvers.coordinates import ListField, Meaning, RelationshipField
from resolvers.filters import ConnectionQuery, connection_query
from resolvers.plan import Selection
from resolvers.showing import scope_condition

ItemDecider = Callable[[Resource, DataItem, str], Decision]
"""Decides an item for one use of it: select, filter, order, cursor or join."""


def connection_uses(
    meaning: Meaning,
    selections: list[Selection],
    item: ItemDecider,
    attributes: Mapping[str, str],
    queries: dict[tuple[str, ...], ConnectionQuery],
    sort_columns: dict[Resource, set[str]],
) -> list[Decision]:
    """The decisions on every item the connection's selections use; each selection's
    query goes into `queries` by its response path, and the columns of items ordered on
    that may be read into `sort_columns` (cursors are made from them)."""
    if (
        isinstance(meaning, RelationshipField)
        and meaning.relationship.cardinality is Cardinality.MANY
    ):
        resource = meaning.target
    elif isinstance(meaning, ListField):
        resource = meaning.resource
    else:
        return []
    uses = []
    for selection in selections:
        query = connection_query(resource, selection.arguments)
        decided = [item(resource, filtered, "filter") for filtered in query.filtered]
        paged: dict[str, Decision] = {}
        for ordered in query.ordered:
            decision = paged[ordered.name] = item(resource, ordered, "order")
            if decision.allowed:
                sort_columns.setdefault(resource, set()).add(ordered.column)
        if _uses_cursor(selection):
            key = resource.item(resource.key_item)
            paged[key.name] = item(resource, key, "cursor")
        decided += paged.values()
        query = ConnectionQuery(
            query.predicate, query.order, query.filtered, query.ordered, _described(paged)
        )
        queries[selection.path] = _restricted(query, resource, decided, attributes)
        uses += decided
    return uses


def _described(decisions: Mapping[str, Decision]) -> str:
    return ",".join(f"{name}={d.outcome.value}:{d.basis}" for name, d in decisions.items())


def _restricted(
    query: ConnectionQuery,
    resource: Resource,
    decided: list[Decision],
    attributes: Mapping[str, str],
) -> ConnectionQuery:
    scopes = [
        scope_condition(resource, decision.scopes, attributes)
        for decision in decided
        if decision.scoped
    ]
    if not scopes:
        return query
    operands = (query.predicate, *scopes) if query.predicate is not None else tuple(scopes)
    return dataclasses.replace(query, predicate=And(operands))


def _uses_cursor(selection: Selection) -> bool:
    if selection.arguments.get("after") is not None:
        return True
    edges = selection.children.get("edges")
    page_info = selection.children.get("pageInfo")
    edge_cursor = edges is not None and any(
        c.coordinate[1] == "cursor" for c in edges.children.values()
    )
    info_cursor = page_info is not None and any(
        c.coordinate[1] in ("endCursor", "startCursor") for c in page_info.children.values()
    )
    return edge_cursor or info_cursor
