"""Which columns each resource reads in a request, and which of them are served.

Derived once from the plan and its decisions, before execution, and handed to the
loaders, which read nothing else: an item denied is never read, an item served
masked or only inside a scope is read as the source computes it (`showing.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from catalog import Resource
from connectors import Computed, Flag
from policies import Decision
from resolvers.coordinates import ItemField, Meaning, RelationshipField
from resolvers.plan import Coordinate, Plan
from resolvers.showing import ComputedItems, Shown


@dataclass(frozen=True)
class Projection:
    """The columns one resource reads in this request, and which of them are served."""

    columns: tuple[str, ...]
    visible: tuple[tuple[str, str], ...]
    """(item name, column) pairs the caller selected and may read in clear."""
    shown: tuple[Shown, ...] = ()
    computed: tuple[Computed, ...] = ()
    flags: tuple[Flag, ...] = ()


def projections(
    plan: Plan,
    meanings: Mapping[Coordinate, Meaning],
    decisions: Mapping[Coordinate, Decision],
    allowed: frozenset[Coordinate],
    sort_columns: Mapping[Resource, set[str]],
    attributes: Mapping[str, str],
) -> dict[str, Projection]:
    """The projection of every resource the plan reads, by resource id."""
    columns: dict[str, dict[str, None]] = {}
    visible: dict[str, list[tuple[str, str]]] = {}
    computing: dict[str, ComputedItems] = {}

    def need(resource: Resource, column: str) -> None:
        if resource.id not in columns:
            columns[resource.id] = dict.fromkeys(internal_columns(resource))
        columns[resource.id][column] = None

    for resource, sorted_on in sort_columns.items():
        for column in sorted_on:  # read for cursors; served only if also selected
            need(resource, column)
    for coordinate in plan.touched:
        meaning = meanings.get(coordinate)
        if meaning is None or coordinate not in allowed:
            continue
        if isinstance(meaning, ItemField):
            decision = decisions[coordinate]
            if decision.clear and not decision.scoped:
                need(meaning.resource, meaning.item.column)
                visible.setdefault(meaning.resource.id, []).append(
                    (meaning.item.name, meaning.item.column)
                )
            else:
                need(meaning.resource, meaning.resource.item(meaning.resource.key_item).column)
                computing.setdefault(meaning.resource.id, ComputedItems()).add(
                    meaning.resource, meaning.item, decision, attributes
                )
        elif isinstance(meaning, RelationshipField):
            need(meaning.resource, meaning.from_item.column)
            need(meaning.target, meaning.to_item.column)
        else:
            need(meaning.resource, meaning.resource.item(meaning.resource.key_item).column)
    empty = ComputedItems()
    return {
        resource_id: Projection(
            tuple(cols),
            tuple(visible.get(resource_id, ())),
            tuple(computing.get(resource_id, empty).shown),
            tuple(computing.get(resource_id, empty).computed),
            tuple(computing.get(resource_id, empty).flags),
        )
        for resource_id, cols in columns.items()
    }


def internal_columns(resource: Resource) -> list[str]:
    """Key and subject columns are read for keyset order and the audit log, never served
    unless selected and permitted; the catalog requires them to be unconditional."""
    names = [resource.key_item, *resource.subject_items]
    return [resource.item(name).column for name in names]
