"""The `where` and `orderBy` inputs of every connection, Hasura-style, built per resource.

One comparison input per scalar (`_eq`, `_in`, `_gt`, `_gte`, `_lt`, `_lte`, `_is_null`,
and `_like` on strings); an unknown item or operator is a GraphQL validation error.
`orderBy` entries are oneOf inputs, so each names exactly one item and the order of
entries is the order of sorting.
"""

from __future__ import annotations

import datetime
import decimal
import keyword
import types
from collections.abc import Sequence
from enum import Enum
from typing import Any

import strawberry

from catalog import PYTHON_TYPES, DataItem, Resource, ShareType, naming

SCALAR_NAMES = {
    str: "String",
    float: "Float",
    int: "Int",
    decimal.Decimal: "Decimal",
    datetime.date: "Date",
    datetime.datetime: "DateTime",
    bool: "Boolean",
}
"""The GraphQL scalar each Python type is served as, named by `naming.SCALARS`."""


@strawberry.enum(
    name=naming.ORDER_DIRECTION,
    description="Sort direction; NULL sorts first ascending and last descending.",
)
class OrderDirection(Enum):
    asc = "asc"
    desc = "desc"


def _comparison(scalar: type) -> type:
    operators: dict[str, Any] = {
        "_eq": scalar | None,
        "_in": list[scalar] | None,  # type: ignore[valid-type]
        "_gt": scalar | None,
        "_gte": scalar | None,
        "_lt": scalar | None,
        "_lte": scalar | None,
        "_is_null": bool | None,
    }
    if scalar is str:
        operators["_like"] = str | None
    if scalar is bool:
        operators = {"_eq": bool | None, "_is_null": bool | None}
    cls = types.new_class(naming.comparison_input(SCALAR_NAMES[scalar]), (), {})
    for graphql_name, kind in operators.items():
        field = strawberry.field(name=graphql_name, graphql_type=kind, default=None)
        setattr(cls, _python_name(graphql_name), field)
    cls.__annotations__ = {_python_name(name): kind for name, kind in operators.items()}
    return strawberry.input(cls)


def _python_name(graphql_name: str) -> str:
    name = graphql_name.lstrip("_")
    return name + "_" if keyword.iskeyword(name) else name


COMPARISONS = {scalar: _comparison(scalar) for scalar in SCALAR_NAMES}


def where_input(resource: Resource, items: Sequence[DataItem]) -> type:
    """On `items`: the ones the schema's callers may compare."""
    cls = types.new_class(resource.names.where, (), {})
    annotations: dict[str, Any] = {}
    for item in items:
        kind = COMPARISONS[PYTHON_TYPES[item.data_type]] | None
        setattr(cls, item.name, strawberry.field(name=item.name, graphql_type=kind, default=None))
        annotations[item.name] = kind
    for name, kind in (("and_", list[cls] | None), ("or_", list[cls] | None), ("not_", cls | None)):  # type: ignore[valid-type]
        setattr(cls, name, strawberry.field(name=f"_{name[:-1]}", graphql_type=kind, default=None))
        annotations[name] = kind
    cls.__annotations__ = annotations
    return strawberry.input(
        cls, description=f"Filter {resource.name_zh}: all conditions must hold."
    )


def order_input(resource: Resource, items: Sequence[DataItem]) -> type:
    cls = types.new_class(resource.names.order_by, (), {})
    for item in items:
        setattr(
            cls, item.name, strawberry.field(name=item.name, graphql_type=OrderDirection | None)
        )
    cls.__annotations__ = {item.name: OrderDirection | None for item in items}
    return strawberry.input(cls, one_of=True, description=f"Sort {resource.name_zh} by one item.")


def claims_input(resource: Resource) -> type:
    """What a verification query may claim: whole values of items, compared for equality
    only (no prefixes, ranges or patterns). not_shared items cannot even be checked."""
    cls = types.new_class(resource.names.claims, (), {})
    annotations: dict[str, Any] = {}
    for item in resource.items:
        if item.name == resource.key_item or item.share_type is ShareType.NOT_SHARED:
            continue
        kind = PYTHON_TYPES[item.data_type] | None
        setattr(cls, item.name, strawberry.field(name=item.name, graphql_type=kind, default=None))
        annotations[item.name] = kind
    cls.__annotations__ = annotations
    return strawberry.input(
        cls, description=f"Values you hold for one {resource.name_zh}, to check against it."
    )
