"""The `catalog` root field: browse departments, resources and data items, and search
items by Chinese or English name (Art. 9: find who already holds a piece of data).

The catalog is fixed for the life of a schema, so two views of it are built once, as
plain dicts read by the schema's default resolver: the whole catalog for departments
(metadata is not data), and only the resources open to the public for the anonymous
caller (Art. 20). How a caller gets a found item is answered per request from its own
decisions (`schema.access`). Nothing here reads a department's database.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from strawberry.types.field import StrawberryField

from catalog import (
    CATEGORY_DIGIT,
    Catalog,
    DataItem,
    Department,
    Resource,
    naming,
)
from resolvers.context import RequestContext
from schema.access import access

MATCHES = ("exact", "contains", "overlap")
"""How a search matched, best first: the whole name, all of the text, enough of it."""
OVERLAP_AT_LEAST = 0.5


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


@dataclass(frozen=True)
class _Entry:
    """One searchable data item: the names it is found by, and what a match answers."""

    answer: dict[str, Any]
    provider: Department
    resource: Resource
    item: DataItem
    name_zh: str
    bigrams: frozenset[str]
    english: tuple[str, ...]
    graphql: tuple[str, ...]
    words: frozenset[str]


@dataclass(frozen=True)
class _View:
    departments: list[dict[str, Any]]
    by_code: dict[str, dict[str, Any]]
    entries: list[_Entry]


def _resolve_resource(
    root: strawberry.Parent[dict[str, Any]],
    code: Annotated[str, strawberry.argument(description="信息资源代码")],
) -> dict[str, Any] | None:
    view: _View = root["view"]
    return view.by_code.get(code)


def _resolve_search(
    root: strawberry.Parent[dict[str, Any]],
    info: strawberry.Info[RequestContext, Any],
    text: Annotated[str, strawberry.argument(description="A Chinese or English item name.")],
    first: int = 20,
) -> list[dict[str, Any]]:
    view: _View = root["view"]
    context = info.context
    now = datetime.datetime.now(datetime.UTC)

    def answer(entry: _Entry) -> dict[str, Any]:
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
        for entry, match in _find(view.entries, text)[: max(first, 0)]
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
    views = {public: _view(catalog, public=public) for public in (False, True)}

    def resolve(info: strawberry.Info[RequestContext, Any]) -> dict[str, Any]:
        view = views[info.context.caller.is_public]
        return {"version": catalog.version, "departments": view.departments, "view": view}

    resolve.__name__ = "resolve_catalog"
    return strawberry.field(resolve, name=naming.CATALOG_FIELD, graphql_type=CatalogRoot)


def _view(catalog: Catalog, *, public: bool) -> _View:
    shown = {r.id: r.code for r in catalog.resources.values() if r.open_to_public or not public}
    view = _View([], {}, [])
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


def _entries(provider: Department, resource: Resource, described: dict[str, Any]) -> list[_Entry]:
    return [
        _Entry(
            answer={
                "provider": described["provider"],
                "resource": described,
                "item": item_view,
                "share_type": item.share_type,
            },
            provider=provider,
            resource=resource,
            item=item,
            name_zh=item.name_zh.casefold(),
            bigrams=_bigrams(item.name_zh.casefold()),
            english=_words(item.english_name),
            graphql=_words(item.name),
            words=frozenset(_words(item.english_name) + _words(item.name)),
        )
        for item, item_view in zip(resource.items, described["items"], strict=True)
    ]


Score = tuple[int, float]
"""(index in MATCHES, minus the similarity of the names): lower is better."""


def _find(entries: list[_Entry], text: str) -> list[tuple[_Entry, str]]:
    """Best match first; equal matches keep catalog order. Blank text finds nothing."""
    folded, words = text.strip().casefold(), _words(text)
    if not folded:
        return []
    found: list[tuple[Score, int, _Entry]] = []
    for index, entry in enumerate(entries):
        scores = [s for s in (_chinese(entry, folded), _english(entry, words)) if s]
        if scores:
            found.append((min(scores), index, entry))
    found.sort(key=lambda match: match[:2])
    return [(entry, MATCHES[score[0]]) for score, _, entry in found]


def _chinese(entry: _Entry, text: str) -> Score | None:
    """Substring either way (住所 in 企业住所), else enough shared character pairs:
    身份证号码 and 公民身份号码 share 身份 and 号码."""
    name = entry.name_zh
    return _rank(text == name, text in name or name in text, _bigrams(text), entry.bigrams)


def _english(entry: _Entry, words: tuple[str, ...]) -> Score | None:
    """Whole words, any case, of the English or the GraphQL name: `phone` finds phone,
    then contactPhone."""
    if not words:
        return None
    exact = words in (entry.english, entry.graphql)
    return _rank(exact, set(words) <= entry.words, frozenset(words), entry.words)


def _rank(
    exact: bool, contains: bool, wanted: frozenset[str], known: frozenset[str]
) -> Score | None:
    """Within a kind of match, the closer name first (Dice similarity): 持证人身份证号码
    before 法定代表人身份证号码. Overlap needs at least half of what was asked."""
    shared = len(wanted & known)
    similarity = 2 * shared / (len(wanted) + len(known) or 1)
    if exact:
        return 0, -1.0
    if contains:
        return 1, -similarity
    if wanted and shared / len(wanted) >= OVERLAP_AT_LEAST:
        return 2, -similarity
    return None


def _words(text: str) -> tuple[str, ...]:
    """`legalRepIdNumber` and `Legal rep ID number` → (legal, rep, id, number)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return tuple(re.findall(r"[a-z0-9]+", spaced.lower()))


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))
