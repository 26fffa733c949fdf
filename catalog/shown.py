"""What one schema shows of the catalog: all of it to departments; to the public
(Art. 20) only what the public may query.

Policy gives the public the unconditional items of resources open to the public,
masked where the catalog masks them, and nothing else; no rule or grant reaches past
that ceiling (`policies/engine.py`). So the public's schema is cut from the catalog
alone, and introspection and validation show the public no type, field, condition or
legal basis of what it may not query. Joining, filtering and ordering need an item
clear, so the public's relationships, `where` and `orderBy` use only the items it
reads unmasked. Plain catalog knowledge: no GraphQL library here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from catalog.model import Catalog, DataItem, Relationship, Resource
from catalog.terms import ShareType


@dataclass(frozen=True)
class Shown:
    resources: tuple[Resource, ...]
    items: Mapping[str, tuple[DataItem, ...]]
    """By resource id: the items served as fields."""
    compared: Mapping[str, tuple[DataItem, ...]]
    """By resource id: the items `where` and `orderBy` offer."""
    relationships: Mapping[str, tuple[Relationship, ...]]
    lookups: frozenset[str]
    """Ids of the resources with a lookup field: the key is looked up, so it must be clear."""
    verification: bool


def to_departments(catalog: Catalog) -> Shown:
    """Everything: policy decides per caller, purpose and item at run time."""
    resources = tuple(catalog.resources.values())
    items = {resource.id: resource.items for resource in resources}
    return Shown(
        resources,
        items,
        items,
        {resource.id: resource.relationships for resource in resources},
        frozenset(items),
        verification=True,
    )


def to_public(catalog: Catalog) -> Shown:
    resources = tuple(r for r in catalog.resources.values() if r.open_to_public)
    readable = {
        r.id: tuple(i for i in r.items if i.share_type is ShareType.UNCONDITIONAL)
        for r in resources
    }
    clear = {rid: tuple(i for i in items if i.mask is None) for rid, items in readable.items()}
    clear_names = {rid: {item.name for item in items} for rid, items in clear.items()}

    def joinable(resource: Resource, rel: Relationship) -> bool:
        return (
            rel.to_resource in clear_names
            and rel.from_item in clear_names[resource.id]
            and rel.to_item in clear_names[rel.to_resource]
        )

    return Shown(
        resources,
        readable,
        clear,
        {r.id: tuple(rel for rel in r.relationships if joinable(r, rel)) for r in resources},
        frozenset(r.id for r in resources if r.key_item in clear_names[r.id]),
        verification=False,
    )
