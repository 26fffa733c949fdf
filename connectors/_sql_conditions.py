"""A predicate as a SQL condition, each comparison's value a parameter named as
`_sql_names.parameters` names it."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from connectors._sql_names import in_names
from connectors.base import And, Comparison, Not, Operator, Or, Predicate

Condition = sa.ColumnElement[bool]


def sql_condition(table: sa.Table, predicate: Predicate, names: Iterator[str]) -> Condition:
    """The comparisons' values are bound under `names`, depth first (see `_sql_names._comparisons`),
    as `parameters` names them: the read's filter as `where_<n>`, the conditions of its
    computed values and flags under their own prefixes."""
    if isinstance(predicate, And):
        return sa.and_(sa.true(), *[sql_condition(table, p, names) for p in predicate.operands])
    if isinstance(predicate, Or):
        return sa.or_(sa.false(), *[sql_condition(table, p, names) for p in predicate.operands])
    if isinstance(predicate, Not):
        return sa.not_(sql_condition(table, predicate.operand, names))
    return _comparison(table.c[predicate.column], predicate, next(names))


def _comparison(column: sa.Column[Any], comparison: Comparison, name: str) -> Condition:
    value, operator = comparison.value, comparison.operator
    if operator is Operator.IS_NULL:
        return column.is_(None) if value else column.is_not(None)
    if operator is Operator.IN:
        assert isinstance(value, tuple)
        if not value:
            # False on every row, NULLs included, so its negation holds on every row;
            # SQLAlchemy's own empty IN needs rendering at execution, which a
            # statement compiled once per shape never gets.
            return sa.false()
        return column.in_(bind_all(column, name, value))
    bound = bind(column, name, value)
    if operator is Operator.LIKE:
        return column.like(bound)
    return {
        Operator.EQ: column.__eq__,
        Operator.GT: column.__gt__,
        Operator.GTE: column.__ge__,
        Operator.LT: column.__lt__,
        Operator.LTE: column.__le__,
    }[operator](bound)


def bind(column: sa.ColumnElement[Any], name: str, value: Any) -> sa.BindParameter[Any]:
    """A parameter typed as `column`."""
    return sa.bindparam(name, value, type_=column.type)


def bind_all(
    column: sa.ColumnElement[Any], name: str, values: Sequence[Hashable]
) -> list[sa.BindParameter[Any]]:
    """One parameter per value of an IN list, each named as `in_names` names it."""
    return [bind(column, key, value) for key, value in in_names(name, values).items()]
