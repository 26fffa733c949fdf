"""Which columns each resource reads in a request, and which of them are served.

Derived once from the plan and its decisions, before execution, and handed to the
loaders, which read nothing else: an item denied is never read, an item served
masked or only inside a scope is read as the source computes it (`showing.py`).
A document's projections are remembered by all they rest on (`Projector`): consumers
whose decisions differ only in what decided them — each its own grant — share them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass

from catalog import Resource
from connectors import Computed, Flag
from policies import Decision
from resolvers.coordinates import ItemField, Meaning, RelationshipField
from resolvers.plan import Coordinate
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
    accounted: tuple[str, ...] = ()
    """The key column, then every column whose value names a data subject this request
    serves: the subject items, and each identifier item served clear or masked. A masked
    identifier is read as stored, beside its mask, for the audit log's keyed hash only:
    it is not among `visible`, so it never reaches the response."""


KNOWN = 64
"""Projections remembered per document; the oldest go first. Callers whose items are
served alike share one, so few are made: more only where scope attributes differ."""


class Projector:
    """The projections of one document's plan, remembered by everything they are made
    of: the coordinates allowed, how each allowed item is served (its decision but
    for the basis), the columns sorted on, and the caller's attributes where a scope
    binds them. What is handed out is never changed, so requests share it."""

    def __init__(self, touched: Sequence[tuple[Coordinate, Meaning]]) -> None:
        """`touched`: every coordinate the plan touches that has a meaning, in plan order."""
        self._touched = touched
        self._items = tuple(c for c, meaning in touched if isinstance(meaning, ItemField))
        self._known: dict[Hashable, dict[str, Projection]] = {}

    def __call__(
        self,
        decisions: Mapping[Coordinate, Decision],
        allowed: frozenset[Coordinate],
        sort_columns: Mapping[Resource, set[str]],
        attributes: Mapping[str, str],
    ) -> Mapping[str, Projection]:
        key = self._key(decisions, allowed, sort_columns, attributes)
        known = self._known.get(key)
        if known is None:
            known = _projections(self._touched, decisions, allowed, sort_columns, attributes)
            if len(self._known) >= KNOWN:
                del self._known[next(iter(self._known))]
            self._known[key] = known
        return known

    def _key(
        self,
        decisions: Mapping[Coordinate, Decision],
        allowed: frozenset[Coordinate],
        sort_columns: Mapping[Resource, set[str]],
        attributes: Mapping[str, str],
    ) -> Hashable:
        served: list[Decision | None] = []
        scoped = False
        for coordinate in self._items:
            if coordinate in allowed:
                decision = decisions[coordinate]
                if decision.clear and not decision.scoped:
                    served.append(None)  # read as stored, whatever decided it
                else:
                    served.append(dataclasses.replace(decision, basis=""))
                    scoped = scoped or decision.scoped
        sorted_on = frozenset((r.id, c) for r, columns in sort_columns.items() for c in columns)
        bound = tuple(sorted(attributes.items())) if scoped else ()
        return allowed, tuple(served), sorted_on, bound


def _projections(
    touched: Sequence[tuple[Coordinate, Meaning]],
    decisions: Mapping[Coordinate, Decision],
    allowed: frozenset[Coordinate],
    sort_columns: Mapping[Resource, set[str]],
    attributes: Mapping[str, str],
) -> dict[str, Projection]:
    """The projection of every resource the plan reads, by resource id."""
    columns: dict[str, dict[str, None]] = {}
    visible: dict[str, list[tuple[str, str]]] = {}
    computing: dict[str, ComputedItems] = {}
    accounted: dict[str, dict[str, None]] = {}

    resources: dict[str, Resource] = {}

    def need(resource: Resource, column: str) -> None:
        if resource.id not in columns:
            resources[resource.id] = resource
            columns[resource.id] = dict.fromkeys(internal_columns(resource))
            accounted[resource.id] = dict.fromkeys(accounting_columns(resource)[1:])
        columns[resource.id][column] = None

    for resource, sorted_on in sort_columns.items():
        for column in sorted_on:  # read for cursors; served only if also selected
            need(resource, column)
    for coordinate, meaning in touched:
        if coordinate not in allowed:
            continue
        if isinstance(meaning, ItemField):
            decision = decisions[coordinate]
            if meaning.item.identifies is not None:
                need(meaning.resource, meaning.item.column)
                accounted[meaning.resource.id][meaning.item.column] = None
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
            (accounting_columns(resources[resource_id])[0], *accounted[resource_id]),
        )
        for resource_id, cols in columns.items()
    }


def accounting_columns(resource: Resource) -> tuple[str, ...]:
    """The key column, then the subject columns (the key's again when it is the subject):
    what a read outside any projection accounts for."""
    key, *subjects = internal_columns(resource)
    return (key, *dict.fromkeys(subjects))


def internal_columns(resource: Resource) -> list[str]:
    """Key and subject columns are read for keyset order and the audit log, never served
    unless selected and permitted; the catalog requires them to be unconditional."""
    names = [resource.key_item, *resource.subject_items]
    return [resource.item(name).column for name in names]
