"""Translate a `Read` into one SQLAlchemy Core statement, every value a bound parameter,
and shape what comes back; shared by the SQLite and the async SQL connectors.

Ordering is portable across SQLite, PostgreSQL and MariaDB: NULL sorts lowest
(`col IS NULL` first ascending, last descending), since MariaDB has no NULLS FIRST.
The keyset predicate follows the same convention, so a page continues exactly where
the last one ended under any ordering.

The values of the keys, the filter and the page are bound under names that
`parameters` gives from the read alone, and `shape` is everything else: a connector
may compile the statement once per shape and bind each read's values itself.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging
from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from connectors.base import (
    And,
    Comparison,
    Computed,
    Not,
    Operator,
    Or,
    OrderKey,
    Predicate,
    Read,
    Row,
)
from connectors.masking import masked_expression
from errors import SourceUnavailable

logger = logging.getLogger("gov_share.connectors")
Condition = sa.ColumnElement[bool]


def select_statement(table: sa.Table, read: Read, dialect: str) -> sa.Select[Any]:
    statement = _filtered(table, read, dialect)
    if read.page is None:
        return statement
    limit = sa.bindparam("limit", read.page.limit, type_=sa.Integer)
    if read.match_column is None:
        return statement.order_by(*_order_by(table, read.sort_keys)).limit(limit)
    position = sa.func.row_number().over(
        partition_by=table.c[read.match_column], order_by=_order_by(table, read.sort_keys)
    )
    ranked = statement.add_columns(position.label("_position")).subquery()
    return (
        sa.select(*[ranked.c[name] for name in read.labels])
        .where(ranked.c["_position"] <= limit)
        .order_by(ranked.c[read.match_column], ranked.c["_position"])
    )


def bounded_statement(table: sa.Table, read: Read, dialect: str) -> sa.Select[Any]:
    """Every row of a per-parent read, in its order within each match value, up to one
    row more than `bounded_parameters` says a window read could return: a connector cuts
    the pages itself when fewer came back, or reads `select_statement` when that many did."""
    assert read.match_column is not None
    bound = sa.bindparam("bound", _bound(read), type_=sa.Integer)
    match = table.c[read.match_column]
    statement = _filtered(table, read, dialect)
    return statement.order_by(match, *_order_by(table, read.sort_keys)).limit(bound)


def bounded_parameters(read: Read) -> dict[str, Any]:
    """`parameters`, and the bound of `bounded_statement`."""
    return {**parameters(read), "bound": _bound(read)}


def _bound(read: Read) -> int:
    """A page's rows for each match value, and one more."""
    assert read.match_values is not None and read.page is not None
    return len(read.match_values) * read.page.limit + 1


def _filtered(table: sa.Table, read: Read, dialect: str) -> sa.Select[Any]:
    """The selected columns of the rows that match, past the page's keyset if any."""
    statement = sa.select(*_selected(table, read, dialect)).where(
        *_conditions(table, read, dialect)
    )
    if read.page is not None and read.page.after is not None:
        statement = statement.where(_after(table, read.sort_keys, read.page.after))
    return statement


def _selected(table: sa.Table, read: Read, dialect: str) -> list[sa.ColumnElement[Any]]:
    selected: list[sa.ColumnElement[Any]] = [table.c[name] for name in read.columns]
    selected += [
        _computed(table, value, dialect, f"computed_{index}")
        for index, value in enumerate(read.computed)
    ]
    selected += [
        sa.case((_predicate(table, flag.condition, _names(f"flag_{index}")), 1), else_=0).label(
            flag.label
        )
        for index, flag in enumerate(read.flags)
    ]
    return selected


def _computed(
    table: sa.Table, computed: Computed, dialect: str, prefix: str
) -> sa.ColumnElement[Any]:
    column = table.c[computed.column]
    value = column if computed.mask is None else masked_expression(computed.mask, column, dialect)
    if computed.condition is None:
        return value.label(computed.label)
    condition = _predicate(table, computed.condition, _names(prefix))
    if computed.holds:
        return sa.case((condition, value), else_=sa.null()).label(computed.label)
    return sa.case((condition, sa.null()), else_=value).label(computed.label)


def count_statement(table: sa.Table, read: Read, dialect: str) -> sa.Select[Any]:
    conditions = _conditions(table, read, dialect)
    if read.match_column is None:
        return sa.select(sa.func.count()).select_from(table).where(*conditions)
    match = table.c[read.match_column]
    return sa.select(match, sa.func.count()).where(*conditions).group_by(match)


def parameters(read: Read) -> dict[str, Any]:
    """The values of `read` by the names its statement binds them under (the keys as
    one `keys` array on PostgreSQL are not among them)."""
    named: dict[str, Any] = _in_names("match", read.match_values or ())
    named.update(_values("where", read.predicate))
    for index, computed in enumerate(read.computed):
        named.update(_values(f"computed_{index}", computed.condition))
    for index, flag in enumerate(read.flags):
        named.update(_values(f"flag_{index}", flag.condition))
    if read.page is not None:
        named["limit"] = read.page.limit
        for index, value in enumerate(read.page.after or ()):
            if value is not None:  # a NULL is written into the statement: see `_after`
                named[f"after_{index}"] = value
    return named


def shape(read: Read) -> Hashable:
    """What the text of `read`'s statements depends on: everything but the values
    `parameters` names, of which only how many there are and which are NULL."""
    page = None
    if read.page is not None:
        page = (read.page.after is None, tuple(v is None for v in read.page.after or ()))
    valueless = dataclasses.replace(
        read,
        match_values=None,
        page=None,
        predicate=None,
        computed=tuple(dataclasses.replace(c, condition=None) for c in read.computed),
        flags=(),
    )
    return (
        valueless,
        None if read.match_values is None else len(read.match_values),
        _predicate_shape(read.predicate),
        tuple(_predicate_shape(computed.condition) for computed in read.computed),
        tuple((flag.label, _predicate_shape(flag.condition)) for flag in read.flags),
        page,
    )


def _values(prefix: str, predicate: Predicate | None) -> dict[str, Any]:
    """The comparison values of `predicate`, named as `_predicate` binds them."""
    named: dict[str, Any] = {}
    for index, comparison in enumerate(_comparisons(predicate)):
        if comparison.operator is Operator.IN:
            assert isinstance(comparison.value, tuple)
            named.update(_in_names(f"{prefix}_{index}", comparison.value))
        elif comparison.operator is not Operator.IS_NULL:
            named[f"{prefix}_{index}"] = comparison.value
    return named


def _predicate_shape(predicate: Predicate | None) -> Hashable:
    if predicate is None:
        return None
    if isinstance(predicate, And | Or):
        operands = tuple(_predicate_shape(operand) for operand in predicate.operands)
        return (type(predicate).__name__, operands)
    if isinstance(predicate, Not):
        return ("Not", _predicate_shape(predicate.operand))
    value = predicate.value
    if predicate.operator is Operator.IN:
        assert isinstance(value, tuple)
        return (predicate.column, predicate.operator, len(value))
    is_null = predicate.operator is Operator.IS_NULL
    return (predicate.column, predicate.operator, bool(value) if is_null else None)


def _comparisons(predicate: Predicate | None) -> Iterator[Comparison]:
    """The comparisons of `predicate` in the order `_predicate` names them."""
    if isinstance(predicate, And | Or):
        for operand in predicate.operands:
            yield from _comparisons(operand)
    elif isinstance(predicate, Not):
        yield from _comparisons(predicate.operand)
    elif predicate is not None:
        yield predicate


def _in_names(name: str, values: Sequence[Hashable]) -> dict[str, Any]:
    return dict(zip(_numbered(name, len(values)), values, strict=True))


@functools.lru_cache(maxsize=1024)
def _numbered(name: str, count: int) -> tuple[str, ...]:
    """Names for a list of `count` values, made once: formatting a hundred names for
    each read took ~22 µs, zipping the values with the names made ~6."""
    return tuple(f"{name}_{index}" for index in range(count))


def _conditions(table: sa.Table, read: Read, dialect: str) -> list[Condition]:
    conditions = []
    if read.match_column is not None:
        conditions.append(
            _match(table.c[read.match_column], list(read.match_values or ()), dialect)
        )
    if read.predicate is not None:
        conditions.append(_predicate(table, read.predicate, _names("where")))
    return conditions


def _match(column: sa.Column[Any], values: list[Hashable], dialect: str) -> Condition:
    if dialect == "postgresql":  # one array parameter, one plan, whatever the batch size
        return column == sa.any_(sa.bindparam("keys", values, type_=sa.ARRAY(column.type)))
    return column.in_(_bind_all(column, "match", values))


def _names(prefix: str) -> Iterator[str]:
    return (f"{prefix}_{number}" for number in itertools.count())


def _predicate(table: sa.Table, predicate: Predicate, names: Iterator[str]) -> Condition:
    """The comparisons' values are bound under `names`, depth first (see `_comparisons`),
    as `parameters` names them: the read's filter as `where_<n>`, the conditions of its
    computed values and flags under their own prefixes."""
    if isinstance(predicate, And):
        return sa.and_(sa.true(), *[_predicate(table, p, names) for p in predicate.operands])
    if isinstance(predicate, Or):
        return sa.or_(sa.false(), *[_predicate(table, p, names) for p in predicate.operands])
    if isinstance(predicate, Not):
        return sa.not_(_predicate(table, predicate.operand, names))
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
        return column.in_(_bind_all(column, name, value))
    bound = _bind(column, name, value)
    if operator is Operator.LIKE:
        return column.like(bound)
    return {
        Operator.EQ: column.__eq__,
        Operator.GT: column.__gt__,
        Operator.GTE: column.__ge__,
        Operator.LT: column.__lt__,
        Operator.LTE: column.__le__,
    }[operator](bound)


def _bind(column: sa.ColumnElement[Any], name: str, value: Any) -> sa.BindParameter[Any]:
    """A parameter typed as `column`."""
    return sa.bindparam(name, value, type_=column.type)


def _bind_all(
    column: sa.ColumnElement[Any], name: str, values: Sequence[Hashable]
) -> list[sa.BindParameter[Any]]:
    """One parameter per value of an IN list, each named as `_in_names` names it."""
    return [_bind(column, key, value) for key, value in _in_names(name, values).items()]


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
    last = len(keys) - 1
    column = table.c[keys[last].column]
    value = _bind(column, f"after_{last}", values[last])
    condition: Condition = column > value  # the key column: unique, never NULL
    for index in reversed(range(last)):
        key, column = keys[index], table.c[keys[index].column]
        if values[index] is None:
            tie = sa.and_(column.is_(None), condition)
            condition = tie if key.descending else sa.or_(tie, column.is_not(None))
            continue
        value = _bind(column, f"after_{index}", values[index])
        if key.descending:
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
