"""What a connection selection filters, orders and pages on.

A selection's arguments are translated once per document (`connection_reads`: no
caller changes them). For each caller, every item a connection uses is decided as if
read (a value could be learned through `_gt` or `_like`, or from the order of rows),
and the selection's query is kept for its resolver, bound to those decisions and
restricted to the scope of every scoped item it filters or orders on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from catalog import Cardinality, DataItem, Resource
from connectors import And
from policies import Decision
from resolvers.coordinates import ListField, Meaning, RelationshipField
from resolvers.filters import ConnectionQuery, connection_query
from resolvers.plan import Selection
from resolvers.showing import scope_condition

ItemDecider = Callable[[Resource, DataItem, str], Decision]
"""Decides an item for one use of it: select, filter, order, cursor or join."""


@dataclass(frozen=True)
class ConnectionRead:
    """One connection selection as its arguments ask, the same for every caller."""

    path: tuple[str, ...]
    """The selection's response path, which its resolver finds its query by."""
    resource: Resource
    query: ConnectionQuery
    """The arguments translated, not yet decided on (`connection_uses`)."""
    cursor: bool
    """Whether the selection pages by cursor (asks for one or passes `after`)."""


def connection_reads(meaning: Meaning, selections: list[Selection]) -> tuple[ConnectionRead, ...]:
    """Every connection selection of a coordinate, translated once per document."""
    if (
        isinstance(meaning, RelationshipField)
        and meaning.relationship.cardinality is Cardinality.MANY
    ):
        resource = meaning.target
    elif isinstance(meaning, ListField):
        resource = meaning.resource
    else:
        return ()
    return tuple(
        ConnectionRead(
            selection.path,
            resource,
            connection_query(resource, selection.arguments),
            _uses_cursor(selection),
        )
        for selection in selections
    )


def connection_uses(
    reads: tuple[ConnectionRead, ...],
    item: ItemDecider,
    attributes: Mapping[str, str],
    queries: dict[tuple[str, ...], ConnectionQuery],
    sort_columns: dict[Resource, set[str]],
) -> list[Decision]:
    """The decisions on every item the connection's selections use; each selection's
    query goes into `queries` by its response path, and the columns of items ordered on
    that may be read into `sort_columns` (cursors are made from them)."""
    uses = []
    for read in reads:
        resource, query = read.resource, read.query
        decided = [item(resource, filtered, "filter") for filtered in query.filtered]
        paged: dict[str, Decision] = {}
        for ordered in query.ordered:
            decision = paged[ordered.name] = item(resource, ordered, "order")
            if decision.allowed:
                sort_columns.setdefault(resource, set()).add(ordered.column)
        if read.cursor:
            key = resource.item(resource.key_item)
            paged[key.name] = item(resource, key, "cursor")
        decided += paged.values()
        if paged:
            query = dataclasses.replace(query, decided=_described(paged))
        queries[read.path] = _restricted(query, resource, decided, attributes)
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
