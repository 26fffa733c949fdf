"""The GraphQL types the `catalog` root field answers with: the catalog guide's
metadata of departments, resources, data items and relationships, and what a search
finds. Their names are the platform's own (`catalog.naming`); the values are the plain
dicts of `catalog_view`, read by strawberry's default resolver.
"""

from __future__ import annotations

import datetime
from typing import Any

import strawberry

from catalog import naming
from resolvers.context import RequestContext


def _resolve_stale(
    root: strawberry.Parent[dict[str, Any]], info: strawberry.Info[RequestContext, Any]
) -> bool:
    return root["id"] in info.context.stale


@strawberry.type(
    name=naming.CATALOG_RESPONSIBLE_PERSON,
    description="部门负责人: who answers for the department's sharing work (Art. 15).",
)
class CatalogResponsiblePerson:
    name: str
    title: str


@strawberry.type(
    name=naming.CATALOG_DEPARTMENT,
    description="政务部门: a provider of resources, and the catalog it keeps.",
)
class CatalogDepartment:
    code: str = strawberry.field(description="统一社会信用代码 of the department.")
    name: str
    name_en: str = strawberry.field(name="nameEn")
    responsible_person: CatalogResponsiblePerson = strawberry.field(name="responsiblePerson")
    resources: list[CatalogResource] = strawberry.field(
        description="Its resources; the public sees only those open to the public."
    )


@strawberry.type(
    name=naming.CATALOG_CLASSIFICATION,
    description="类 / 项 / 目 / 细目: the front part of the resource code.",
)
class CatalogClassification:
    category: str = strawberry.field(description="类: 1 basic, 2 theme, 3 department.")
    item: str = strawberry.field(description="项")
    heading: str = strawberry.field(description="目")
    subheading: str = strawberry.field(description="细目")


@strawberry.type(name=naming.CATALOG_FORMAT, description="信息资源格式: format class and type.")
class CatalogFormat:
    format_class: str = strawberry.field(name="formatClass")
    format_type: str = strawberry.field(name="formatType")


@strawberry.type(
    name=naming.CATALOG_RESOURCE,
    description="信息资源: one resource of the catalog with the guide's metadata.",
)
class CatalogResource:
    code: str = strawberry.field(
        description="信息资源代码: 类 项 目 细目 (eight digits) / sequence (six digits)."
    )
    id: str = strawberry.field(
        description="The name sharing rules use, as in `<resource id>.<item name>`."
    )
    name_zh: str = strawberry.field(name="nameZh")
    summary: str
    catalog_class: str = strawberry.field(name="catalogClass")
    classification: CatalogClassification
    internal_unit: str | None = strawberry.field(name="internalUnit")
    format: CatalogFormat
    update_cycle: str = strawberry.field(name="updateCycle")

    stale: bool = strawberry.field(
        resolver=_resolve_stale,
        description="Whether its last update, as its source tells it, is older than its "
        "update cycle allows (Art. 10): as the last background check found it.",
    )

    share_method_class: str = strawberry.field(name="shareMethodClass")
    share_methods: list[str] = strawberry.field(name="shareMethods")
    open_to_public: bool = strawberry.field(name="openToPublic")
    open_conditions: str | None = strawberry.field(name="openConditions")
    release_date: datetime.date = strawberry.field(name="releaseDate")
    related_resources: list[str] = strawberry.field(name="relatedResources")
    type_name: str = strawberry.field(name="graphqlType")
    list_field: str = strawberry.field(name="listField")
    lookup_field: str = strawberry.field(name="lookupField")
    key_item: str = strawberry.field(name="keyItem")
    provider: CatalogDepartment
    items: list[CatalogItem]
    relationships: list[CatalogRelationship]


@strawberry.type(
    name=naming.CATALOG_ITEM, description="信息项: one data item, served as one GraphQL field."
)
class CatalogItem:
    name: str = strawberry.field(description="The GraphQL field name.")
    name_zh: str = strawberry.field(name="nameZh")
    name_en: str = strawberry.field(name="nameEn")
    data_type: str = strawberry.field(name="dataType", description="C N I Y D T L M B F.")
    length: int
    kind: str = strawberry.field(description="basic or business (基础/业务信息项).")
    share_type: str = strawberry.field(name="shareType")
    conditions: str | None
    legal_basis: str | None = strawberry.field(name="legalBasis")
    graphql_field: str = strawberry.field(
        name="graphqlField", description="`<GraphQL type>.<field>`, as the schema names it."
    )


@strawberry.type(
    name=naming.CATALOG_RELATIONSHIP,
    description="A link to another resource, possibly another department's.",
)
class CatalogRelationship:
    name: str
    name_zh: str = strawberry.field(name="nameZh")
    from_item: str = strawberry.field(name="fromItem")
    to_resource: str = strawberry.field(name="toResource")
    to_item: str = strawberry.field(name="toItem")
    cardinality: str
    graphql_field: str = strawberry.field(name="graphqlField")


@strawberry.type(
    name=naming.CATALOG_ACCESS,
    description=(
        "How this caller gets a data item (Art. 8), from the decision a query by it would "
        "get now, for the purpose it declared."
    ),
)
class CatalogAccess:
    available: bool = strawberry.field(description="Whether it can be had at all.")
    how: str = strawberry.field(
        description=(
            "What to do next: query_directly (see outcome), declare_purpose (send X-Purpose), "
            "apply_to_provider (an application is required for this purpose) or "
            "not_available (not shared, or not open to the public)."
        )
    )
    outcome: str = strawberry.field(
        description=(
            "What a query gets now: clear, masked, verify_only (only verify… can check a "
            "value you hold) or denied."
        )
    )
    scoped: bool = strawberry.field(
        description="Whether the outcome holds only for records inside your grant's scope."
    )
    outside_scope: str | None = strawberry.field(
        name="outsideScope", description="When scoped: the outcome for the other records."
    )
    purpose: str | None = strawberry.field(description="The purpose it was decided for.")
    basis: str = strawberry.field(
        description="What decided it: the catalog's share type, a rule or a grant."
    )
    advice: str
    list_field: str | None = strawberry.field(name="listField", description="Root list to query.")
    lookup_field: str | None = strawberry.field(name="lookupField")
    field: str | None = strawberry.field(description="The field to select on its records.")
    verify_field: str | None = strawberry.field(
        name="verifyField", description="When verify_only: the root field that checks a value."
    )
    conditions: str | None
    purposes: list[str] = strawberry.field(description="The purposes the conditions name.")
    legal_basis: str | None = strawberry.field(name="legalBasis")


@strawberry.type(
    name=naming.CATALOG_MATCH,
    description="A data item found by search: who holds it, and how to get it.",
)
class CatalogMatch:
    match: str = strawberry.field(description="exact, contains or overlap: best first.")
    provider: CatalogDepartment
    resource: CatalogResource
    item: CatalogItem
    share_type: str = strawberry.field(name="shareType")
    access: CatalogAccess
