"""An in-memory source that answers `Read` exactly as the SQL connector does.

The seam for resolver and policy tests that need no database, like httpx's
MockTransport. It records every read and the context it was given, so tests can
assert what was asked for and for whom.
"""

from __future__ import annotations

import operator as operator_module
import re
from collections.abc import Callable, Mapping, Sequence
from functools import cmp_to_key
from typing import Any

from connectors.base import (
    And,
    Comparison,
    Not,
    Operator,
    Or,
    OrderKey,
    Predicate,
    Read,
    ReadContext,
    Row,
)
from connectors.capabilities import Capabilities, require_capabilities
from errors import SourceUnavailable


class MemoryConnector:
    def __init__(
        self,
        name: str,
        tables: Mapping[str, Sequence[Row]],
        capabilities: Capabilities | None = None,
    ) -> None:
        self.name = name
        self.capabilities = capabilities or Capabilities()
        self.tables = {table: list(rows) for table, rows in tables.items()}
        self.reads: list[Read] = []
        self.contexts: list[ReadContext] = []
        self.down = False

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        require_capabilities(self, read)
        self._check_up()
        self.reads.append(read)
        self.contexts.append(context)
        return [self._page(rows, read) for rows in self._row_sets(read)]

    async def count(self, read: Read, context: ReadContext) -> list[int]:
        require_capabilities(self, read, count=True)
        self._check_up()
        self.reads.append(read)
        self.contexts.append(context)
        return [len(rows) for rows in self._row_sets(read)]

    async def ping(self) -> None:
        self._check_up()

    async def close(self) -> None:
        return None

    def _check_up(self) -> None:
        if self.down:
            raise SourceUnavailable(f"source {self.name} is unavailable", source=self.name)

    def _row_sets(self, read: Read) -> list[list[Row]]:
        rows = [row for row in self.tables[read.table] if _matches(row, read.predicate)]
        rows.sort(key=cmp_to_key(lambda a, b: _compare(a, b, read.sort_keys)))
        if read.match_column is None:
            return [rows]
        return [
            [row for row in rows if row[read.match_column] == value]
            for value in read.match_values or ()
        ]

    @staticmethod
    def _page(rows: list[Row], read: Read) -> list[Row]:
        if read.page is not None:
            after = read.page.after
            if after is not None:
                cursor = dict(zip([key.column for key in read.sort_keys], after, strict=True))
                rows = [row for row in rows if _compare(row, cursor, read.sort_keys) > 0]
            rows = rows[: read.page.limit]
        return [_shaped(row, read) for row in rows]


def _shaped(row: Row, read: Read) -> Row:
    """The columns asked for, then the computed values and flags, as the SQL computes them."""
    shaped = {column: row[column] for column in read.columns}
    for value in read.computed:
        inside = value.condition is None or _matches(row, value.condition)
        raw = row[value.column]
        shown = raw if value.mask is None else value.mask.apply(raw)
        shaped[value.label] = shown if inside == value.holds else None
    for flag in read.flags:
        shaped[flag.label] = 1 if _matches(row, flag.condition) else 0
    return shaped


def _compare(a: Mapping[str, Any], b: Mapping[str, Any], keys: Sequence[OrderKey]) -> int:
    """Order as the SQL connector does: NULL lowest, each key ascending or descending."""
    for key in keys:
        left, right = a[key.column], b[key.column]
        if left == right:
            continue
        if left is None or right is None:
            result = -1 if left is None else 1
        else:
            result = -1 if left < right else 1
        return -result if key.descending else result
    return 0


def _matches(row: Row, predicate: Predicate | None) -> bool:
    if predicate is None:
        return True
    if isinstance(predicate, And):
        return all(_matches(row, p) for p in predicate.operands)
    if isinstance(predicate, Or):
        return any(_matches(row, p) for p in predicate.operands)
    if isinstance(predicate, Not):
        return not _matches(row, predicate.operand)
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
