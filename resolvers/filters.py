"""Turn a connection's `where` and `orderBy` arguments into the connector's query values.

Works on the arguments as graphql-core coerced them for the plan, once per selection,
and names every data item they touch: filtering or ordering on an item needs the same
permission as reading it in clear, or its value could be learned bit by bit.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from catalog import DataItem, Resource
from connectors import And, Comparison, Not, Operator, Or, OrderKey, Predicate

OPERATORS = {f"_{operator.value}": operator for operator in Operator}


@dataclass(frozen=True)
class ConnectionQuery:
    predicate: Predicate | None
    order: tuple[OrderKey, ...]
    filtered: tuple[DataItem, ...]
    ordered: tuple[DataItem, ...]
    decided: str = ""
    """The decisions (outcome and basis) on the ordered items and the key item, as
    governance made them for this request."""

    @property
    def signature(self) -> str:
        """Binds a cursor to the ordering it was issued under and to the decisions on
        what it orders and pages by: after a grant changed one, it is refused."""
        order = ",".join(
            f"{key.column}:{'desc' if key.descending else 'asc'}" for key in self.order
        )
        return f"{order}|{self.decided}"


UNFILTERED = ConnectionQuery(None, (), (), ())


def connection_query(resource: Resource, arguments: Mapping[str, Any]) -> ConnectionQuery:
    filtered: dict[str, DataItem] = {}
    where = arguments.get("where")
    predicate = _where(resource, where, filtered) if where else None
    ordered: dict[str, DataItem] = {}
    order = tuple(_order_key(resource, entry, ordered) for entry in arguments.get("orderBy") or ())
    return ConnectionQuery(predicate, order, tuple(filtered.values()), tuple(ordered.values()))


def _where(resource: Resource, where: Mapping[str, Any], seen: dict[str, DataItem]) -> Predicate:
    operands: list[Predicate] = []
    for name, value in where.items():
        if value is None:
            continue
        if name == "_and":
            operands.append(And(tuple(_where(resource, w, seen) for w in value)))
        elif name == "_or":
            operands.append(Or(tuple(_where(resource, w, seen) for w in value)))
        elif name == "_not":
            operands.append(Not(_where(resource, value, seen)))
        else:
            item = seen.setdefault(name, resource.item(name))
            operands += _comparisons(item.column, value)
    return operands[0] if len(operands) == 1 else And(tuple(operands))


def _comparisons(column: str, operators: Mapping[str, Any]) -> list[Predicate]:
    return [
        Comparison(column, OPERATORS[name], _hashable(value))
        for name, value in operators.items()
        if value is not None
    ]


def _hashable(value: Any) -> Hashable:
    return tuple(value) if isinstance(value, list) else value


def _order_key(resource: Resource, entry: Mapping[str, Any], seen: dict[str, DataItem]) -> OrderKey:
    [(name, direction)] = entry.items()  # a oneOf input: exactly one item per entry
    item = seen.setdefault(name, resource.item(name))
    return OrderKey(item.column, descending=getattr(direction, "value", direction) == "desc")
