"""Translate a `Read` into one SQLAlchemy Core statement, every value a bound parameter,
and shape what comes back; shared by the SQLite and the async SQL connectors.

Ordering is portable across SQLite, PostgreSQL and MariaDB: NULL sorts lowest
(`col IS NULL` first ascending, last descending), since MariaDB has no NULLS FIRST.
The keyset predicate follows the same convention, so a page continues exactly where
the last one ended under any ordering.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from typing import Any

import sqlalchemy as sa

from connectors.base import And, Comparison, Not, Operator, Or, OrderKey, Predicate, Read, Row
from errors import SourceUnavailable

logger = logging.getLogger("gov_share.connectors")
Condition = sa.ColumnElement[bool]


def select_statement(table: sa.Table, read: Read, dialect: str) -> sa.Select[Any]:
    statement = sa.select(*[table.c[name] for name in read.columns]).where(
        *_conditions(table, read, dialect)
    )
    if read.page is None:
        return statement
    if read.page.after is not None:
        statement = statement.where(_after(table, read.sort_keys, read.page.after))
    limit = read.page.limit
    if read.match_column is None:
        return statement.order_by(*_order_by(table, read.sort_keys)).limit(limit)
    position = sa.func.row_number().over(
        partition_by=table.c[read.match_column], order_by=_order_by(table, read.sort_keys)
    )
    ranked = statement.add_columns(position.label("_position")).subquery()
    return (
        sa.select(*[ranked.c[name] for name in read.columns])
        .where(ranked.c["_position"] <= limit)
        .order_by(ranked.c[read.match_column], ranked.c["_position"])
    )


def count_statement(table: sa.Table, read: Read, dialect: str) -> sa.Select[Any]:
    conditions = _conditions(table, read, dialect)
    if read.match_column is None:
        return sa.select(sa.func.count()).select_from(table).where(*conditions)
    match = table.c[read.match_column]
    return sa.select(match, sa.func.count()).where(*conditions).group_by(match)


def _conditions(table: sa.Table, read: Read, dialect: str) -> list[Condition]:
    conditions = []
    if read.match_column is not None:
        conditions.append(
            _match(table.c[read.match_column], list(read.match_values or ()), dialect)
        )
    if read.predicate is not None:
        conditions.append(_predicate(table, read.predicate))
    return conditions


def _match(column: sa.Column[Any], values: list[Hashable], dialect: str) -> Condition:
    if dialect == "postgresql":  # one array parameter, one plan, whatever the batch size
        return column == sa.any_(sa.bindparam("keys", values, type_=sa.ARRAY(column.type)))
    return column.in_(values)


def _predicate(table: sa.Table, predicate: Predicate) -> Condition:
    if isinstance(predicate, And):
        return sa.and_(sa.true(), *[_predicate(table, p) for p in predicate.operands])
    if isinstance(predicate, Or):
        return sa.or_(sa.false(), *[_predicate(table, p) for p in predicate.operands])
    if isinstance(predicate, Not):
        return sa.not_(_predicate(table, predicate.operand))
    return _comparison(table.c[predicate.column], predicate)


def _comparison(column: sa.Column[Any], comparison: Comparison) -> Condition:
    value, operator = comparison.value, comparison.operator
    if operator is Operator.IS_NULL:
        return column.is_(None) if value else column.is_not(None)
    if operator is Operator.IN:
        assert isinstance(value, tuple)
        return column.in_(list(value))
    if operator is Operator.LIKE:
        return column.like(value)
    return {
        Operator.EQ: column.__eq__,
        Operator.GT: column.__gt__,
        Operator.GTE: column.__ge__,
        Operator.LT: column.__lt__,
        Operator.LTE: column.__le__,
    }[operator](value)


def _order_by(table: sa.Table, keys: Sequence[OrderKey]) -> list[sa.ColumnElement[Any]]:
    """The last key is the key column, never NULL: ordering by it alone lets the
    database walk its index instead of sorting."""
    clauses: list[sa.ColumnElement[Any]] = []
    for position, key in enumerate(keys):
        column = table.c[key.column]
        nullable = column.nullable and position < len(keys) - 1
        if nullable:
            clauses.append(column.is_(None).asc() if key.descending else column.is_(None).desc())
        clauses.append(column.desc() if key.descending else column.asc())
    return clauses


def _after(table: sa.Table, keys: Sequence[OrderKey], values: Sequence[Hashable]) -> Condition:
    """Rows strictly after `values` in the order `keys` (NULL lowest), built from the last key."""
    column, value = table.c[keys[-1].column], values[-1]
    condition: Condition = column > value  # the key column: unique, never NULL
    for key, value in zip(reversed(keys[:-1]), reversed(values[:-1]), strict=True):
        column = table.c[key.column]
        if value is None:
            tie = sa.and_(column.is_(None), condition)
            condition = tie if key.descending else sa.or_(tie, column.is_not(None))
        elif key.descending:
            condition = sa.or_(
                column < value, sa.and_(column == value, condition), column.is_(None)
            )
        else:
            condition = sa.or_(column > value, sa.and_(column == value, condition))
    return condition


def counts_per_match(result: Sequence[Sequence[Any]], read: Read) -> list[int]:
    """The rows of `count_statement`, as one count per match value (or one in all)."""
    if read.match_column is None:
        return [int(result[0][0])]
    counts = {row[0]: int(row[1]) for row in result}
    return [counts.get(value, 0) for value in read.match_values or ()]


def source_unavailable(source: str, exc: BaseException) -> SourceUnavailable:
    # The driver's message may quote values from the statement: log its class only.
    logger.warning("source unavailable", extra={"source": source, "error": type(exc).__name__})
    return SourceUnavailable(f"source {source} is unavailable", source=source)


def group_rows(rows: list[Row], read: Read) -> list[list[Row]]:
    """One row set per match value, in the order of the values (NDC's variables)."""
    if read.match_column is None:
        return [rows]
    groups: dict[Any, list[Row]] = {}
    for row in rows:
        groups.setdefault(row[read.match_column], []).append(row)
    return [groups.get(value, []) for value in read.match_values or ()]
