"""What each schema coordinate means in catalog terms; built alongside the schema.

Governance reads this map to know which data item, relationship or root list a
(type, field) of the operation stands for. Connection plumbing (edges, node, pageInfo)
has no entry: it carries no data of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from catalog import DataItem, Relationship, Resource


@dataclass(frozen=True)
class ItemField:
    resource: Resource
    item: DataItem


@dataclass(frozen=True)
class RelationshipField:
    resource: Resource
    relationship: Relationship
    target: Resource

    @property
    def from_item(self) -> DataItem:
        return self.resource.item(self.relationship.from_item)

    @property
    def to_item(self) -> DataItem:
        return self.target.item(self.relationship.to_item)


@dataclass(frozen=True)
class ListField:
    """A root connection over every record of a resource."""

    resource: Resource


@dataclass(frozen=True)
class LookupField:
    """A root field that reads one record by its key item."""

    resource: Resource


@dataclass(frozen=True)
class VerifyField:
    """A root field that checks claimed values against one record (数据校核)."""

    resource: Resource


Meaning = ItemField | RelationshipField | ListField | LookupField | VerifyField
