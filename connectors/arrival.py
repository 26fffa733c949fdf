"""Values computed in Python from a row's clear values: by the in-memory connector,
which stands for a database in tests, and by connectors of sources that cannot compute
masks, scoped values or flags themselves (`Capabilities.on_arrival`), as each row is
parsed, so the clear values it needed are dropped before anything else holds them.

The reference meanings are the SQL connectors': a comparison with NULL is never true,
`like` matches `%` and `_` as SQL does, and a mask is its rule's `apply`
(`catalog/masks.py`), which `connectors/masking.py` is held to.
"""

from __future__ import annotations

import operator as operator_module
import re
from collections.abc import Callable, Iterator
from typing import Any

from connectors.base import And, Comparison, Not, Operator, Or, Predicate, Read, Row
from errors import PushdownRefused


def shaped(row: Row, read: Read) -> Row:
    """The columns asked for, then the computed values and flags, as the SQL computes
    them; nothing else of `row` is kept."""
    shaped = {column: row[column] for column in read.columns}
    for value in read.computed:
        inside = value.condition is None or matches(row, value.condition)
        raw = row[value.column]
        shown = raw if value.mask is None else value.mask.apply(raw)
        shaped[value.label] = shown if inside == value.holds else None
    for flag in read.flags:
        shaped[flag.label] = 1 if matches(row, flag.condition) else 0
    return shaped


def needed_columns(read: Read) -> tuple[str, ...]:
    """Every column `shaped` reads: those asked for, and those it computes from."""
    needed = dict.fromkeys(read.columns)
    for column in computed_from(read):
        needed[column] = None
    return tuple(needed)


def computed_from(read: Read) -> Iterator[str]:
    """The columns whose clear values `shaped` computes from but does not keep."""
    for value in read.computed:
        yield value.column
        if value.condition is not None:
            yield from predicate_columns(value.condition)
    for flag in read.flags:
        yield from predicate_columns(flag.condition)


def refuse_in_source_only(read: Read, in_source_only: frozenset[str], source: str) -> None:
    """Raise PushdownRefused if a value would be computed from a column the catalog keeps
    in its source: its clear value would reach the platform."""
    kept = sorted(in_source_only.intersection(computed_from(read)))
    if kept:
        raise PushdownRefused(
            f"source {source} cannot compute {kept[0]} itself, and the catalog keeps its "
            "clear value in the source",
            source=source,
        )


def predicate_columns(predicate: Predicate) -> Iterator[str]:
    if isinstance(predicate, And | Or):
        for operand in predicate.operands:
            yield from predicate_columns(operand)
    elif isinstance(predicate, Not):
        yield from predicate_columns(predicate.operand)
    else:
        yield predicate.column


def matches(row: Row, predicate: Predicate | None) -> bool:
    if predicate is None:
        return True
    if isinstance(predicate, And):
        return all(matches(row, p) for p in predicate.operands)
    if isinstance(predicate, Or):
        return any(matches(row, p) for p in predicate.operands)
    if isinstance(predicate, Not):
        return not matches(row, predicate.operand)
    return _holds(row[predicate.column], predicate)


def _holds(value: Any, comparison: Comparison) -> bool:
    operator, operand = comparison.operator, comparison.value
    if operator is Operator.IS_NULL:
        return (value is None) == bool(operand)
    if value is None:
        return False  # SQL: a comparison with NULL is never true
    if operator is Operator.IN:
        assert isinstance(operand, tuple)
        return value in operand
    if operator is Operator.LIKE:
        return re.fullmatch(_like_pattern(str(operand)), str(value), re.S) is not None
    return bool(_COMPARE[operator](value, operand))


_COMPARE: dict[Operator, Callable[[Any, Any], Any]] = {
    Operator.EQ: operator_module.eq,
    Operator.GT: operator_module.gt,
    Operator.GTE: operator_module.ge,
    Operator.LT: operator_module.lt,
    Operator.LTE: operator_module.le,
}


def _like_pattern(pattern: str) -> str:
    return "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
