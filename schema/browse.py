"""The `catalog` root field: browse departments, resources and data items, and search
items by Chinese or English name (Art. 9: find who already holds a piece of data).

The catalog is fixed for the life of a schema, so its two views (`catalog_view`) are
built once, as plain dicts read by the schema's default resolver into the Catalog*
types (`catalog_types`). How a caller gets a found item (`search`) is answered per
request from its own decisions (`schema.access`). Nothing here reads a department's
database.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Any

import strawberry
from strawberry.types.field import StrawberryField

from catalog import Catalog, naming
from resolvers.context import RequestContext
from schema.access import access
from schema.catalog_types import CatalogDepartment, CatalogMatch, CatalogResource
from schema.catalog_view import View, view_of
from schema.search import Entry, find


def _resolve_resource(
    root: strawberry.Parent[dict[str, Any]],
    code: Annotated[str, strawberry.argument(description="信息资源代码")],
) -> dict[str, Any] | None:
    view: View = root["view"]
    return view.by_code.get(code)


def _resolve_search(
    root: strawberry.Parent[dict[str, Any]],
    info: strawberry.Info[RequestContext, Any],
    text: Annotated[str, strawberry.argument(description="A Chinese or English item name.")],
    first: int = 20,
) -> list[dict[str, Any]]:
    view: View = root["view"]
    context = info.context
    now = datetime.datetime.now(datetime.UTC)

    def answer(entry: Entry) -> dict[str, Any]:
        return access(
            context.policy,
            context.caller,
            context.purpose,
            now,
            entry.provider,
            entry.resource,
            entry.item,
        )

    return [
        {**entry.answer, "match": match, "access": answer(entry)}
        for entry, match in find(view.entries, text)[: max(first, 0)]
    ]


@strawberry.type(
    name=naming.CATALOG_ROOT,
    description="政务信息资源目录: who holds what, on which terms (Art. 3, 4, 9).",
)
class CatalogRoot:
    version: str = strawberry.field(description="Digest of the catalog files in force.")
    departments: list[CatalogDepartment]
    resource = strawberry.field(
        _resolve_resource,
        graphql_type=CatalogResource | None,
        description="One resource by its code; null if unknown or not open to the public.",
    )
    search = strawberry.field(
        _resolve_search,
        graphql_type=list[CatalogMatch],
        description=(
            "Data items by Chinese name (substring, shared character pairs) or English "
            "words (`id number`, `idNumber`); best first. Blank text finds nothing."
        ),
    )


def catalog_field(catalog: Catalog) -> StrawberryField:
    """The root field picks the caller's view, so the public never reaches a closed resource."""
    views = {public: view_of(catalog, public=public) for public in (False, True)}

    def resolve(info: strawberry.Info[RequestContext, Any]) -> dict[str, Any]:
        view = views[info.context.caller.is_public]
        return {"version": catalog.version, "departments": view.departments, "view": view}

    resolve.__name__ = "resolve_catalog"
    return strawberry.field(resolve, name=naming.CATALOG_FIELD, graphql_type=CatalogRoot)
