"""Build the GraphQL schema from the catalog at run time: no hand-written type per resource.

Every data item is nullable, because policy may withhold any of them from someone
(the public, at least) and a withheld item must never null its parent. Field
descriptions carry the catalog's Chinese name, share type and conditions, so GraphiQL
documents the catalog. Returns the schema and the map of what each coordinate means.

Two schemas are built from one catalog with the same names, so a coordinate means the
same in both: the departments' (everything; policy decides per request) and the
public's (only what the public may query, `catalog/shown.py`), so that introspection and
validation without a key show nothing the catalog hides from the public.
"""

from __future__ import annotations

import types
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import GraphQLObjectType
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import create_type
from strawberry.types.base import StrawberryObjectDefinition
from strawberry.types.field import StrawberryField

from catalog import (
    PYTHON_TYPES,
    Cardinality,
    Catalog,
    DataItem,
    Relationship,
    Resource,
    ShareType,
    Shown,
    naming,
    to_departments,
    to_public,
)
from resolvers import fields
from resolvers.coordinates import (
    ItemField,
    ListField,
    LookupField,
    Meaning,
    RelationshipField,
    VerifyField,
)
from resolvers.plan import Coordinate
from schema.browse import catalog_field
from schema.inputs import claims_input, order_input, where_input
from schema.my_access import my_access_field

SHARE_TYPE_ZH = {
    ShareType.UNCONDITIONAL: "无条件共享",
    ShareType.CONDITIONAL: "有条件共享",
    ShareType.NOT_SHARED: "不予共享",
}


@strawberry.type(name=naming.PAGE_INFO, description="Relay page information for a connection.")
class PageInfo:
    # Python names equal GraphQL names: connections are plain dicts read by key.
    hasNextPage: bool
    hasPreviousPage: bool
    startCursor: str | None
    endCursor: str | None


def read_value(source: Any, name: str) -> Any:
    return source.get(name)


def build_schema(
    catalog: Catalog, *, default_first: int, public: bool = False
) -> tuple[strawberry.Schema, dict[Coordinate, Meaning]]:
    """The departments' schema, or with `public` the public's."""
    shown = to_public(catalog) if public else to_departments(catalog)
    builder = _Builder(catalog, shown, default_first)
    for resource in shown.resources:
        builder.fill(resource)
    root_fields: list[StrawberryField] = [catalog_field(catalog)]
    if shown.resources:  # an enum of no resource ids is no GraphQL type
        root_fields.append(my_access_field(shown))
    for resource in shown.resources:
        root_fields += builder.root_fields(resource)
    query = create_type(naming.QUERY, root_fields, description="林州市政务信息资源共享平台")
    config = StrawberryConfig(auto_camel_case=False, default_resolver=read_value)
    schema = strawberry.Schema(query=query, config=config)
    _run_on_graphql_core(schema, shown)
    return schema, builder.meanings


def _run_on_graphql_core(schema: strawberry.Schema, shown: Shown) -> None:
    """Let graphql-core call the resolvers directly, and read data fields itself.

    Strawberry wraps every resolver to convert arguments and builds an `Info` per
    call; for data fields, resolved once per row, that wrapping costs more than the
    field. The data types hold plain dicts, so graphql-core's default resolver
    (`dict.get` by field name) is exact, and the resolvers of lists, lookups and
    relationships already take graphql-core's (root, info, **arguments).
    """
    names = {naming.QUERY, naming.PAGE_INFO}
    for resource in shown.resources:
        names |= {resource.names.type, resource.names.connection, resource.names.edge}
    for type_name in names:
        graphql_type = schema._schema.type_map[type_name]
        assert isinstance(graphql_type, GraphQLObjectType)
        strawberry_type = schema.get_type_by_name(type_name)
        assert isinstance(strawberry_type, StrawberryObjectDefinition)
        for each in strawberry_type.fields:
            if each.graphql_name in naming.FIXED_ROOT_FIELDS:
                continue  # catalog and myAccess are strawberry's own, resolved by strawberry
            resolver = each.base_resolver.wrapped_func if each.base_resolver else None
            graphql_type.fields[each.graphql_name or each.python_name].resolve = resolver


@dataclass
class _Builder:
    """The types of every shown resource, made first so relationships can refer to them."""

    catalog: Catalog
    shown: Shown
    default_first: int
    meanings: dict[Coordinate, Meaning] = field(default_factory=dict)

    def __post_init__(self) -> None:
        resources = self.shown.resources
        self.classes = {r.id: types.new_class(r.names.type, (), {}) for r in resources}
        self.connections = {r.id: _connection_type(r, self.classes[r.id]) for r in resources}
        self.inputs = {
            r.id: (
                where_input(r, self.shown.compared[r.id]),
                order_input(r, self.shown.compared[r.id]),
            )
            for r in resources
        }

    def fill(self, resource: Resource) -> None:
        cls = self.classes[resource.id]
        annotations: dict[str, Any] = {}
        for item in self.shown.items[resource.id]:
            # A maskable item's masked form is text (an income band), so the field is a String.
            kind = (str if item.mask is not None else PYTHON_TYPES[item.data_type]) | None
            description = _describe(item)
            setattr(
                cls,
                item.name,
                strawberry.field(name=item.name, graphql_type=kind, description=description),
            )
            annotations[item.name] = kind
            self.meanings[(resource.type_name, item.name)] = ItemField(resource, item)
        for rel in self.shown.relationships[resource.id]:
            annotations[rel.name] = self._relationship(cls, resource, rel)
        cls.__annotations__ = annotations
        provider = self.catalog.provider_of[resource.id].department
        strawberry.type(
            cls,
            description=f"{resource.name_zh}（{resource.code}，{provider.name}）：{resource.summary}",
        )

    def _relationship(self, cls: type, resource: Resource, rel: Relationship) -> Any:
        meaning = RelationshipField(resource, rel, self.catalog.resource(rel.to_resource))
        if rel.cardinality is Cardinality.ONE:
            kind, resolver = self.classes[rel.to_resource] | None, fields.to_one_resolver(meaning)
        else:
            kind, resolver = (
                self.connections[rel.to_resource] | None,
                fields.to_many_resolver(meaning, self.default_first, *self.inputs[rel.to_resource]),
            )
        description = (
            f"{rel.name_zh}：关联 {meaning.target.name_zh}（{rel.from_item} = {rel.to_item}）"
        )
        setattr(
            cls,
            rel.name,
            strawberry.field(
                name=rel.name, resolver=resolver, graphql_type=kind, description=description
            ),
        )
        self.meanings[(resource.type_name, rel.name)] = meaning
        return kind

    def root_fields(self, resource: Resource) -> list[StrawberryField]:
        names, key = resource.names, resource.item(resource.key_item)
        made: list[StrawberryField] = []
        if self.shown.verification:
            self.meanings[(naming.QUERY, names.verify_field)] = VerifyField(resource)
            made.append(
                strawberry.field(
                    name=names.verify_field,
                    resolver=fields.verify_resolver(resource, claims_input(resource)),
                    graphql_type=bool | None,
                    description=(
                        f"数据校核：你持有的{resource.name_zh}信息是否与记录一致"
                        "（只答是否，不返回记录的值；按日限额）。"
                    ),
                )
            )
        self.meanings[(naming.QUERY, names.list_field)] = ListField(resource)
        made.append(
            strawberry.field(
                name=names.list_field,
                resolver=fields.list_resolver(
                    resource, self.default_first, *self.inputs[resource.id]
                ),
                graphql_type=self.connections[resource.id] | None,
                description=f"{resource.name_zh}，按{key.name_zh}排序。",
            )
        )
        if resource.id in self.shown.lookups:
            self.meanings[(naming.QUERY, names.lookup_field)] = LookupField(resource)
            made.append(
                strawberry.field(
                    name=names.lookup_field,
                    resolver=fields.lookup_resolver(resource),
                    graphql_type=self.classes[resource.id] | None,
                    description=f"按{key.name_zh}查询一条{resource.name_zh}。",
                )
            )
        return made


def _connection_type(resource: Resource, node: type) -> type:
    edge = create_type(
        resource.names.edge,
        [
            strawberry.field(name="node", graphql_type=node),
            strawberry.field(
                name="cursor",
                graphql_type=str,
                description="Opaque; valid for your department only.",
            ),
        ],
    )
    return create_type(
        resource.names.connection,
        [
            strawberry.field(name="edges", graphql_type=list[edge]),  # type: ignore[valid-type]
            strawberry.field(name="pageInfo", graphql_type=PageInfo),
            strawberry.field(
                name="totalCount",
                graphql_type=int | None,
                description="Records matching the filter, across all pages.",
            ),
        ],
    )


def _describe(item: DataItem) -> str:
    parts = [item.name_zh, f"{SHARE_TYPE_ZH[item.share_type]}（{item.share_type.value}）"]
    parts.append("基础信息项" if item.kind.value == "basic" else "业务信息项")
    if item.conditions:
        parts.append(f"共享条件：{item.conditions}")
    if item.legal_basis:
        parts.append(f"不予共享依据：{item.legal_basis}")
    if item.mask is not None:
        parts.append(f"脱敏规则：{MASK_ZH[item.mask.rule]}（{item.mask.rule}）")
    return "｜".join(parts)


MASK_ZH = {
    "hide_middle": "隐去中间部分",
    "keep_through": "仅保留至乡镇（街道）",
    "band": "以档次代替金额",
    "surname": "仅保留姓氏",
}
