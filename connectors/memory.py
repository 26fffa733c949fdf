"""An in-memory source that answers `Read` exactly as the SQL connector does.

The seam for resolver and policy tests that need no database, like httpx's
MockTransport. It records every read, so tests can assert what was asked for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.base import Capabilities, Read, Row, require_capabilities
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
        self.down = False

    async def read(self, read: Read) -> list[list[Row]]:
        require_capabilities(self, read)
        if self.down:
            raise SourceUnavailable(f"source {self.name} is unavailable", source=self.name)
        self.reads.append(read)
        rows = sorted(self.tables[read.table], key=lambda row: row[read.key_column])
        if read.match_column is None:
            return [self._page(rows, read)]
        return [
            self._page([row for row in rows if row[read.match_column] == value], read)
            for value in read.match_values or ()
        ]

    async def ping(self) -> None:
        if self.down:
            raise SourceUnavailable(f"source {self.name} is unavailable", source=self.name)

    async def close(self) -> None:
        return None

    @staticmethod
    def _page(rows: list[Row], read: Read) -> list[Row]:
        if read.page is not None:
            after: Any = read.page.after
            if after is not None:
                rows = [row for row in rows if row[read.key_column] > after]
            rows = rows[: read.page.first + 1]
        return [{column: row[column] for column in read.columns} for row in rows]
