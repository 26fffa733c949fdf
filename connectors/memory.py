"""An in-memory source that answers `Read` exactly as the SQL connector does.

The seam for resolver and policy tests that need no database, like httpx's
MockTransport. It records every read and the context it was given, so tests can
assert what was asked for and for whom.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cmp_to_key
from typing import Any

from connectors.arrival import matches, shaped
from connectors.base import OrderKey, Read, ReadContext, Row
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
        rows = [row for row in self.tables[read.table] if matches(row, read.predicate)]
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
        return [shaped(row, read) for row in rows]


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
