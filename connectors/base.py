"""The connector interface: one query value in, one row set per key out.

Shaped after Hasura's NDC: a connector advertises what it can push down, and the
planner never asks for more. A read it cannot push down is refused, never answered
by filtering after fetching or by an unfiltered read.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any, Protocol

from errors import PushdownRefused

Row = dict[str, Any]


@dataclass(frozen=True)
class Capabilities:
    projection: bool = True
    key_batches: bool = True
    pagination: bool = True
    per_parent_pagination: bool = True
    filters: bool = False
    ordering: bool = False


@dataclass(frozen=True)
class Page:
    """Keyset page: rows ordered by the key column, strictly after `after`.

    A connector returns up to `first + 1` rows per row set so the caller can tell
    whether another page exists without a count.
    """

    first: int
    after: Hashable | None = None


@dataclass(frozen=True)
class Read:
    """Read `columns` of `table`, one row set per value of `match_values` (or one in all)."""

    table: str
    columns: tuple[str, ...]
    key_column: str
    match_column: str | None = None
    match_values: tuple[Hashable, ...] | None = None
    page: Page | None = None


class Connector(Protocol):
    name: str
    capabilities: Capabilities

    async def read(self, read: Read) -> list[list[Row]]:
        """Answer `read` in the source, returning one row set per match value, in order.

        Raises `SourceUnavailable` when the source cannot answer.
        """

    async def ping(self) -> None:
        """Raise `SourceUnavailable` unless the source answers a trivial query."""

    async def close(self) -> None: ...


def require_capabilities(connector: Connector, read: Read) -> None:
    needs = ["projection"]
    if read.match_values is not None:
        needs.append("key_batches")
    if read.page is not None:
        needs.append("pagination" if read.match_values is None else "per_parent_pagination")
    for capability in needs:
        if not getattr(connector.capabilities, capability):
            raise PushdownRefused(
                f"source {connector.name} cannot push down {capability.replace('_', ' ')}",
                source=connector.name,
            )
