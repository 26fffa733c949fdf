"""Department tables as the catalog declares them, in types every supported database has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Double,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

from catalog import DataItem, DataType, DepartmentCatalog, Resource


def joined_items(departments: Iterable[DepartmentCatalog]) -> set[tuple[str, str]]:
    """(resource id, item name) of both ends of every relationship, in any department."""
    joined: set[tuple[str, str]] = set()
    for department in departments:
        for resource in department.resources:
            for relationship in resource.relationships:
                joined.add((resource.id, relationship.from_item))
                joined.add((relationship.to_resource, relationship.to_item))
    return joined


def build_table(
    metadata: MetaData, resource: Resource, joined: set[tuple[str, str]], name: str | None = None
) -> Table:
    """The resource's table, keyed on its key item and indexed where relationships join;
    `name` instead of the resource's `table` for one that will be renamed to it (a file
    drop's staging table, `drops/staging.py`)."""
    name = name or resource.table
    table = Table(
        name,
        metadata,
        *(
            Column(item.column, column_type(item), primary_key=item.name == resource.key_item)
            for item in resource.items
        ),
        # Chinese text needs four-byte UTF-8 on MySQL whatever the server's default;
        # other databases ignore the option.
        mysql_charset="utf8mb4",
    )
    for column in _indexed_columns(resource, joined):
        Index(f"ix_{name}_{column}", table.c[column])
    return table


def column_type(item: DataItem) -> TypeEngine[Any]:
    match item.data_type:
        case DataType.CHARACTER:
            return String(item.length)
        case DataType.MEMO:
            return Text()
        case DataType.NUMERIC | DataType.DOUBLE | DataType.FLOAT:
            return Double()  # a Float that MySQL stores in 8 bytes rather than 4
        case DataType.CURRENCY:
            return Numeric(18, 2)
        case DataType.INTEGER:
            return Integer()
        case DataType.DATE:
            return Date()
        case DataType.DATETIME:
            return DateTime()
        case DataType.LOGICAL:
            return Boolean()


def _indexed_columns(resource: Resource, joined: set[tuple[str, str]]) -> Sequence[str]:
    """Joined columns other than the primary key, which is indexed already."""
    return [
        item.column
        for item in resource.items
        if (resource.id, item.name) in joined and item.name != resource.key_item
    ]
