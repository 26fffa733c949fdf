"""How a department's REST API serves a resource (the catalog's `api:` block), for a
source whose URL is `http://` or `https://`.

The catalog says what the API offers — its path, the items it finds records by and
how many keys one call takes, how it pages, which filters and orderings it applies
itself, and where each column sits in its JSON — and the platform asks for nothing
more: a read needing what is not declared here is refused, never fetched whole and
filtered afterwards. The source's base URL and its secrets are settings
(`GOV_SHARE_SOURCES`), never catalog text.

Columns are named as the resource's items name them (`column:`), so the platform's
reads mean the same thing whatever kind of source answers them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from catalog.terms import DataType

ApiPath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._~/{}-]*$")]
Parameter = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.\[\]-]*$")]
JsonPath = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
]
"""Dot-separated keys into a JSON object: `holder.creditCode`."""
ColumnName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$")]
FilterOperator = Literal["eq", "in", "gt", "gte", "lt", "lte", "like", "is_null"]
"""The comparisons of `connectors.Operator`, by their values."""


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Lookup(_Model):
    """Records found by the values of one column (a key, or a relationship's target).

    `query`: one GET with the keys joined, `?ids=a,b,c`; `body`: one POST of
    `{"<parameter>": [keys]}`; `single`: one call per key, `?id=a` or a `path` holding
    `{key}` (a missing record is a 404), at most the source's `concurrency` at once.
    """

    column: ColumnName
    batch: Literal["query", "body", "single"]
    parameter: Parameter | None = None
    path: ApiPath | None = None
    """By default the resource's `path`."""
    separator: str = Field(default=",", min_length=1)
    max_keys: int = Field(default=50, gt=0)
    """The most keys one call may carry; a larger batch is split into several calls."""

    @model_validator(mode="after")
    def _keys_have_a_place(self) -> Lookup:
        templated = self.path is not None and "{key}" in self.path
        if self.batch == "single":
            if templated == (self.parameter is not None):
                raise ValueError("a single-key lookup names a parameter or a path with {key}")
        elif self.parameter is None or templated:
            raise ValueError(f"a {self.batch} lookup names the parameter that carries its keys")
        return self


class ApiPagination(_Model):
    """How the API pages a list: by page number, by offset, by a cursor it returns, or by
    a link to the next page it returns. `next` is where the cursor or link is in the
    body; an absent, null or empty one ends the list."""

    style: Literal["page", "offset", "cursor", "next_link"]
    size_parameter: Parameter
    max_size: int = Field(default=100, gt=0)
    parameter: Parameter | None = None
    """The page number, the offset, or the cursor parameter."""
    next: JsonPath | None = None
    first_page: int = Field(default=1, ge=0)

    @model_validator(mode="after")
    def _style_is_complete(self) -> ApiPagination:
        if self.style != "next_link" and self.parameter is None:
            raise ValueError(f"{self.style} pagination names its parameter")
        if self.style in ("cursor", "next_link") and self.next is None:
            raise ValueError(f"{self.style} pagination says where the body gives the next one")
        return self


class ApiFilter(_Model):
    """The query parameter of each comparison the API applies to one column: values of
    `in` are joined with `separator`, `is_null` is sent as `true` or `false`."""

    column: ColumnName
    parameters: Annotated[Mapping[FilterOperator, Parameter], Field(min_length=1)]
    separator: str = Field(default=",", min_length=1)


class ApiOrdering(_Model):
    """`?sort=a,-b`: the columns the API orders by, descending with the prefix. The key
    column must be one of them: pages and cursors need the key as the last order."""

    parameter: Parameter
    columns: Annotated[tuple[ColumnName, ...], Field(min_length=1)]
    descending_prefix: str = Field(default="-", min_length=1)
    separator: str = Field(default=",", min_length=1)


class Api(_Model):
    path: ApiPath
    """The list of records, relative to the source's URL."""
    records: JsonPath | None = None
    """Where the list of records is in a response body; none: the body is the list."""
    lookups: tuple[Lookup, ...] = ()
    pagination: ApiPagination | None = None
    filters: tuple[ApiFilter, ...] = ()
    ordering: ApiOrdering | None = None
    fields_parameter: Parameter | None = None
    """`?fields=a,b`: the API returns only the fields named. Without it the API returns
    whole records, and every value not asked for is dropped as each record is parsed."""
    fields: Mapping[ColumnName, JsonPath] = Field(default_factory=dict)
    """The JSON field of each column where it is not the column's name."""

    def __hash__(self) -> int:
        """A resource is a dict key (governance sorts columns by it); its mappings are
        not hashable, and equal blocks have the same path anyway."""
        return hash((self.path, self.records))

    def columns(self) -> list[str]:
        """Every column the block names, to be checked against the resource's items."""
        named = [lookup.column for lookup in self.lookups]
        named += [api_filter.column for api_filter in self.filters]
        named += list(self.ordering.columns if self.ordering else ())
        return named + list(self.fields)


@dataclass(frozen=True, eq=False)
class Endpoint:
    """A resource's API with what a REST connector needs of its items: each column's
    data type (JSON carries text where the catalog means a date or an amount) and the
    columns whose values must never leave the source clear to be masked or scoped by
    the platform (`DataItem.masked_in_source_only`)."""

    api: Api
    types: Mapping[str, DataType]
    in_source_only: frozenset[str]
