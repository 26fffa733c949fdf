"""The `catalog` root field: browse departments, resources and data items, and search
items by Chinese or English name (Art. 9: find who already holds a piece of data)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

from schema.catalog import Catalog


def catalog_field(catalog: Catalog) -> StrawberryField:
    @strawberry.type(description="政务信息资源目录")
    class CatalogRoot:
        version: str = strawberry.field(description="Digest of the catalog files in force.")

    def resolve(info: strawberry.Info) -> Any:
        return {"version": catalog.version}

    resolve.__name__ = "resolve_catalog"
    return strawberry.field(name="catalog", resolver=resolve, graphql_type=CatalogRoot)
