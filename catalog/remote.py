"""How another sharing platform serves a resource (the catalog's `remote:` block), for
a source whose URL is `graphql+http://` or `graphql+https://`: the province's
platform, or another city's gov-share.

The upstream is a gov-share: its list fields take `first`, `after`, `where` and
`orderBy` over its items, by the same naming rules as this platform's schema. The
block names the upstream's list field and type, and the upstream's item behind each
column where it differs from this catalog's item name; the URL and the link's key are
settings (`GOV_SHARE_SOURCES`), never catalog text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from catalog.terms import DataType

UpstreamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9]*$")]
ColumnName = Annotated[str, StringConstraints(pattern=r"^[a-z_][a-z0-9_]*$")]


class Remote(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    list_field: UpstreamName
    """The upstream's list field (a Relay connection) that keys are batched through."""
    type_name: UpstreamName
    """The upstream's type: its `<type>Where` and `<type>OrderBy` inputs are named by it."""
    fields: Mapping[ColumnName, UpstreamName] = Field(default_factory=dict)
    """The upstream item of each column where it is not this catalog's item name."""

    def __hash__(self) -> int:
        """A resource is a dict key (governance sorts columns by it); its mapping is not
        hashable, and equal blocks name the same list anyway."""
        return hash((self.list_field, self.type_name))


@dataclass(frozen=True, eq=False)
class RemoteEndpoint:
    """A resource's remote block with what a remote connector needs of its items: the
    upstream field of every column, each column's data type, and the columns whose mask
    must be computed where the data is kept (`DataItem.masked_in_source_only`)."""

    remote: Remote
    upstream_fields: Mapping[str, str]
    types: Mapping[str, DataType]
    in_source_only: frozenset[str]
    accounted: frozenset[str] = frozenset()
    """The key and subject columns: the audit record hashes them, so a read whose
    upstream withholds one fails, rather than account for an error."""
