"""The resource catalog (政务信息资源目录): what each department declares it holds.

Plain, frozen pydantic models. Every room reads them; none writes them. Rules that
span files are checked by `loader.py` (relationship targets) and `_collisions.py` (the
GraphQL names of `naming.py`, unique across the catalog).
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from catalog.api import Api, Endpoint
from catalog.drops import Drop
from catalog.masks import Mask
from catalog.naming import ResourceNames
from catalog.remote import Remote, RemoteEndpoint
from catalog.terms import (
    CATEGORY_DIGIT,
    Cardinality,
    CatalogClass,
    DataType,
    FormatClass,
    ItemKind,
    MaskedFor,
    ShareMethod,
    ShareMethodClass,
    ShareType,
    SubjectKind,
    UpdateCycle,
)

GraphQLName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]*$")]
SqlName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]

Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
ElementId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z._:/-]{0,63}$")]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_enum_values=False)


class Classification(_Model):
    """项 / 目 / 细目 under the resource's 类 (its catalog class)."""

    item: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
    heading: Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
    subheading: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}$")]


class ResourceFormat(_Model):
    format_class: FormatClass
    format_type: Text


class ResponsiblePerson(_Model):
    """The department head who answers for its sharing work (Art. 15)."""

    name: Text
    title: Text


class Department(_Model):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9A-Z]{18}$")]
    name: Text
    name_en: Text
    responsible_person: ResponsiblePerson


class DataItem(_Model):
    """One data item (信息项) of a resource, exposed as one GraphQL field."""

    name: GraphQLName
    column: SqlName
    name_zh: Text
    data_type: DataType
    length: Annotated[int, Field(gt=0)]
    kind: ItemKind
    share_type: ShareType
    conditions: Text | None = None
    legal_basis: Text | None = None
    name_en: Text | None = None
    mask: Mask | None = None
    """How the item is shown masked: to departments without a clear grant (conditional
    items) or to the public (open resources)."""
    masked_for: MaskedFor = MaskedFor.ALL_DEPARTMENTS
    masked_in_source_only: bool = False
    """Its mask or scope is computed by the source or not at all: a source that cannot
    compute it (a REST API) is refused the read, rather than send the clear value for
    the platform to mask as it arrives."""
    element: ElementId | None = None
    """The national data-element identifier of the fact the item holds (GA/T 543.1's
    DE00001 for a citizen's identity number). Items of two resources naming one element
    serve the same fact, so they must be shared alike: if one were conditional and the
    other unconditional, the condition would be bypassed by asking the other provider
    (`python -m policies check` finds such pairs)."""
    identifies: SubjectKind | None = None
    """The kind of data subject its value identifies (a legal representative's ID number
    names a person): whoever is served it, clear or masked, or checks it, touched that
    subject's data, and the audit record says so (`Resource.identifier_items`)."""

    @property
    def english_name(self) -> str:
        """For search (Art. 9); by default the GraphQL name in words: idNumber → id number."""
        return self.name_en or re.sub(r"(?<!^)(?=[A-Z])", " ", self.name).lower()

    @model_validator(mode="after")
    def _share_type_needs_its_reasons(self) -> DataItem:
        if self.share_type is ShareType.NOT_SHARED and not self.legal_basis:
            raise ValueError("a not_shared item must cite its legal_basis (Art. 4)")
        if self.share_type is ShareType.CONDITIONAL and not self.conditions:
            raise ValueError("a conditional item must state its conditions (Art. 7)")
        if self.share_type is ShareType.NOT_SHARED and self.mask is not None:
            raise ValueError("a not_shared item is never shown, masked or not (Art. 4)")
        return self


class Relationship(_Model):
    """A link from this resource to another one, possibly in another department."""

    name: GraphQLName
    name_zh: Text
    from_item: GraphQLName
    to_resource: Slug
    to_item: GraphQLName
    cardinality: Cardinality


class Resource(_Model):
    id: Slug
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{8}/[0-9]{6}$")]
    name_zh: Text
    summary: Text
    catalog_class: CatalogClass
    classification: Classification
    internal_unit: Text | None = None
    format: ResourceFormat
    update_cycle: UpdateCycle
    """更新周期: how often the department declares it updates the resource; a resource
    whose last update is older than its cycle allows is stale (Art. 10, `freshness`)."""
    updated_column: SqlName | None = None
    """The column of its table whose greatest value says when it was last updated (a
    database source): read as one aggregate, never as rows."""
    updated_header: Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]*$")] | None = (
        None
    )
    """The response header of its API path that says when it was last updated
    (`Last-Modified`), asked with HEAD so no record comes back."""
    share_method_class: ShareMethodClass = ShareMethodClass.SHARED_PLATFORM
    share_methods: Annotated[tuple[ShareMethod, ...], Field(min_length=1)]
    open_to_public: bool
    open_conditions: Text | None = None
    release_date: datetime.date
    related_resources: tuple[
        Annotated[str, StringConstraints(pattern=r"^[0-9]{8}/[0-9]{6}$")], ...
    ] = ()
    type_name: GraphQLName
    list_field: GraphQLName
    table: SqlName
    key_item: GraphQLName
    subject_items: Annotated[tuple[GraphQLName, ...], Field(min_length=1)]
    items: Annotated[tuple[DataItem, ...], Field(min_length=1)]
    relationships: tuple[Relationship, ...] = ()
    api: Api | None = None
    """How the department's REST API serves it, for a source that is an API."""
    remote: Remote | None = None
    """How another sharing platform serves it, for a source that is one (`catalog.remote`)."""
    drop: Drop | None = None
    """How the department's delivered files hold it, for a source that is a file drop."""

    @model_validator(mode="after")
    def _names_resolve_inside(self) -> Resource:
        names = [item.name for item in self.items]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"data item names repeated: {', '.join(duplicated)}")
        for label, name in self._referenced_items():
            if name not in names:
                raise ValueError(f"{label} {name!r} is not a data item of this resource")
        return self

    @model_validator(mode="after")
    def _id_is_an_enum_value(self) -> Resource:
        """`myAccess(resource:)` takes resource ids as GraphQL enum values."""
        if self.id in ("true", "false", "null"):
            raise ValueError(f"resource id {self.id!r} is a word GraphQL reserves")
        return self

    @model_validator(mode="after")
    def _code_follows_classification(self) -> Resource:
        """The code's front part is 类 + 项 + 目 + 细目, as the catalog guide composes it."""
        c = self.classification
        prefix = CATEGORY_DIGIT[self.catalog_class] + c.item + c.heading + c.subheading
        if not self.code.startswith(prefix + "/"):
            raise ValueError(f"code {self.code!r} must start with {prefix}/ (类 项 目 细目)")
        return self

    @model_validator(mode="after")
    def _read_items_are_unconditional(self) -> Resource:
        """Key and subject items are read for joins, cursors and the audit log."""
        for name in (self.key_item, *self.subject_items):
            if self.item(name).share_type is not ShareType.UNCONDITIONAL:
                raise ValueError(f"key or subject item {name!r} must be unconditional")
        return self

    @model_validator(mode="after")
    def _subject_items_identify(self) -> Resource:
        """A subject item is recorded as the record's data subject: it must say whom."""
        for name in self.subject_items:
            if self.item(name).identifies is None:
                raise ValueError(
                    f"subject item {name!r} must declare whom it identifies "
                    "(identifies: person or enterprise)"
                )
        return self

    @model_validator(mode="after")
    def _basic_items_are_shared(self) -> Resource:
        if self.catalog_class is CatalogClass.BASIC:
            for item in self.items:
                if item.kind is ItemKind.BASIC and item.share_type is not ShareType.UNCONDITIONAL:
                    raise ValueError(
                        f"basic item {item.name!r} of a basic resource must be unconditional "
                        "(Art. 5)"
                    )
        return self

    @model_validator(mode="after")
    def _remote_names_columns(self) -> Resource:
        if self.remote is None:
            return self
        if self.api is not None:
            raise ValueError("an api block and a remote block: a resource has one source")
        columns = {item.column for item in self.items}
        for column in self.remote.fields:
            if column not in columns:
                raise ValueError(f"remote.fields: {column!r} is not the column of a data item")
        return self

    @model_validator(mode="after")
    def _api_names_columns(self) -> Resource:
        if self.api is None:
            return self
        columns = {item.column for item in self.items}
        for column in self.api.columns():
            if column not in columns:
                raise ValueError(f"api: {column!r} is not the column of a data item")
        key_column = self.item(self.key_item).column
        ordering = self.api.ordering
        if ordering is not None and key_column not in ordering.columns:
            raise ValueError(
                f"api.ordering: the key column {key_column!r} is missing (pages end on it)"
            )
        looked_up = [lookup.column for lookup in self.api.lookups]
        if len(set(looked_up)) < len(looked_up):
            raise ValueError("api.lookups: one lookup per column")
        return self

    @model_validator(mode="after")
    def _drop_names_columns(self) -> Resource:
        columns = {item.column for item in self.items}
        for column in self.drop.headers if self.drop else ():
            if column not in columns:
                raise ValueError(f"drop.headers: {column!r} is not the column of a data item")
        return self

    def _referenced_items(self) -> list[tuple[str, str]]:
        refs = [("key_item", self.key_item)]
        refs += [("subject_items", name) for name in self.subject_items]
        refs += [
            (f"relationship {rel.name} from_item", rel.from_item) for rel in self.relationships
        ]
        return refs

    @property
    def names(self) -> ResourceNames:
        """Its GraphQL names; the loader has checked that no other name equals one."""
        return ResourceNames(self.type_name, self.list_field)

    @property
    def lookup_field(self) -> str:
        return self.names.lookup_field

    def item(self, name: str) -> DataItem:
        return self._items_by_name[name]

    @functools.cached_property
    def identifier_items(self) -> tuple[DataItem, ...]:
        """Its items that identify a data subject, subject items or not."""
        return tuple(item for item in self.items if item.identifies is not None)

    @functools.cached_property
    def endpoint(self) -> Endpoint | RemoteEndpoint | None:
        """Its API or remote platform with its items' types, made once: every read of a
        source that is not a database carries it."""
        types = {item.column: item.data_type for item in self.items}
        kept = frozenset(item.column for item in self.items if item.masked_in_source_only)
        if self.remote is not None:
            fields = self.remote.fields
            upstream = {item.column: fields.get(item.column, item.name) for item in self.items}
            accounted = frozenset(
                self.item(name).column for name in (self.key_item, *self.subject_items)
            )
            return RemoteEndpoint(self.remote, upstream, types, kept, accounted)
        if self.api is None:
            return None
        return Endpoint(self.api, types, kept)

    @functools.cached_property
    def _items_by_name(self) -> dict[str, DataItem]:
        """Asked dozens of times a request by governance: a lookup, not a scan."""
        return {item.name: item for item in self.items}


class DepartmentCatalog(_Model):
    """One department's catalog file."""

    department: Department
    source: Slug
    resources: Annotated[tuple[Resource, ...], Field(min_length=1)]


class Catalog:
    """Every department's catalog, checked as a whole, with its version."""

    def __init__(
        self,
        departments: tuple[DepartmentCatalog, ...],
        version: str,
        files: Mapping[str, Path] | None = None,
    ) -> None:
        self.departments = departments
        self.version = version
        self.files: Mapping[str, Path] = files or {}
        """The file each department's catalog was read from, by department code: where a
        tool points an admin to (empty for a catalog made in code)."""
        self.resources: dict[str, Resource] = {}
        self.provider_of: dict[str, DepartmentCatalog] = {}
        for department in departments:
            for resource in department.resources:
                self.resources[resource.id] = resource
                self.provider_of[resource.id] = department

    def resource(self, resource_id: str) -> Resource:
        return self.resources[resource_id]

    def by_type_name(self) -> dict[str, Resource]:
        return {resource.type_name: resource for resource in self.resources.values()}
