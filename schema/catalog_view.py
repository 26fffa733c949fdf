"""The views of the catalog the `catalog` root field serves, built once per schema: the
whole catalog for departments (metadata is not data), and only the resources open to
the public for the anonymous caller (Art. 20). Each is plain dicts for the Catalog*
types, and the entries a search looks through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from catalog import CATEGORY_DIGIT, Catalog, Department, Resource
from schema.search import Entry, searchable


@dataclass(frozen=True)
class View:
    departments: list[dict[str, Any]]
    by_code: dict[str, dict[str, Any]]
    entries: list[Entry]


def view_of(catalog: Catalog, *, public: bool) -> View:
    shown = {r.id: r.code for r in catalog.resources.values() if r.open_to_public or not public}
    view = View([], {}, [])
    for department in catalog.departments:
        provider = {**department.department.model_dump(), "resources": []}
        view.departments.append(provider)
        for resource in department.resources:
            if resource.id in shown:
                described = _describe(resource, provider, shown)
                provider["resources"].append(described)
                view.by_code[resource.code] = described
                view.entries.extend(_entries(department.department, resource, described))
    return view


def _describe(
    resource: Resource, provider: dict[str, Any], shown: dict[str, str]
) -> dict[str, Any]:
    """Relationships and related resources the caller may not see are left out."""
    return {
        **resource.model_dump(exclude={"items", "relationships", "related_resources"}),
        "classification": {
            **resource.classification.model_dump(),
            "category": CATEGORY_DIGIT[resource.catalog_class],
        },
        "related_resources": [c for c in resource.related_resources if c in shown.values()],
        "lookup_field": resource.lookup_field,
        "provider": provider,
        "items": [
            {
                **item.model_dump(),
                "name_en": item.english_name,
                "graphql_field": f"{resource.type_name}.{item.name}",
            }
            for item in resource.items
        ],
        "relationships": [
            {**rel.model_dump(), "graphql_field": f"{resource.type_name}.{rel.name}"}
            for rel in resource.relationships
            if rel.to_resource in shown
        ],
    }


def _entries(provider: Department, resource: Resource, described: dict[str, Any]) -> list[Entry]:
    return [
        searchable(
            {
                "provider": described["provider"],
                "resource": described,
                "item": item_view,
                "share_type": item.share_type,
            },
            provider,
            resource,
            item,
        )
        for item, item_view in zip(resource.items, described["items"], strict=True)
    ]
