"""The connector interface: one query value in, one row set per key out.

Shaped after Hasura's NDC: a connector advertises what it can push down
(`capabilities.py`), and the planner never asks for more. A read it cannot push down
is refused, never answered by filtering after fetching or by an unfiltered read.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from catalog import Endpoint, Mask, RemoteEndpoint
from connectors.capabilities import Capabilities

Row = dict[str, Any]


class Operator(StrEnum):
    EQ = "eq"
    IN = "in"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    LIKE = "like"
    IS_NULL = "is_null"


@dataclass(frozen=True)
class Comparison:
    """`column <operator> value`; IN with no values holds on no row, NULL or not, so
    its negation holds on every row."""

    column: str
    operator: Operator
    value: Hashable


@dataclass(frozen=True)
class And:
    operands: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    operand: Predicate


Predicate = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderKey:
    """Order by one column; NULL sorts lowest, so first ascending and last descending."""

    column: str
    descending: bool = False


@dataclass(frozen=True)
class Page:
    """Keyset page, strictly after `after`: the values of the read's order keys and then
    its key column, of the last row already seen.

    With `probe`, a connector returns up to `first + 1` rows per row set so the caller
    can tell whether another page exists without a count; without it, `first`.
    """

    first: int
    after: tuple[Hashable, ...] | None = None
    probe: bool = True

    @property
    def limit(self) -> int:
        return self.first + 1 if self.probe else self.first


@dataclass(frozen=True)
class Computed:
    """A value the source computes from a column, so the column never leaves it: the
    clear value (`mask` None) or its mask, on rows where `condition` is true (`holds`)
    or not true (not `holds`; NULL counts as not true), NULL on the other rows; without
    a condition, on every row. The connector knows no policy: only a column, a form and
    a condition."""

    label: str
    column: str
    mask: Mask | None = None
    condition: Predicate | None = None
    holds: bool = True


@dataclass(frozen=True)
class Flag:
    """1 on rows where `condition` is true, else 0."""

    label: str
    condition: Predicate


@dataclass(frozen=True)
class Read:
    """Read `columns` of `table` matching `predicate`, ordered by `order` then the key
    column, one row set per value of `match_values` (or one in all)."""

    table: str
    columns: tuple[str, ...]
    key_column: str
    match_column: str | None = None
    match_values: tuple[Hashable, ...] | None = None
    page: Page | None = None
    predicate: Predicate | None = None
    order: tuple[OrderKey, ...] = ()
    computed: tuple[Computed, ...] = ()
    flags: tuple[Flag, ...] = ()
    endpoint: Endpoint | RemoteEndpoint | None = None
    """How the resource is served by a source that is an API (`catalog.api`) or another
    platform (`catalog.remote`); a database's own schema says it, so a SQL source has
    no use for it."""

    @property
    def labels(self) -> tuple[str, ...]:
        """The names of what each row holds: the columns, then the computed values."""
        return (
            *self.columns,
            *(value.label for value in self.computed),
            *(flag.label for flag in self.flags),
        )

    @property
    def sort_keys(self) -> tuple[OrderKey, ...]:
        """The full ordering: the requested keys, then the key column as tie-breaker."""
        return (*self.order, OrderKey(self.key_column))


@dataclass(frozen=True)
class ReadContext:
    """Who reads and why: the request a read serves, the same for all its reads.

    Values only, no caller or policy object: a source that is itself a platform (the
    province's, another city's) forwards them upstream, whose audit log must name the
    person and purpose behind each read as this platform's does (Art. 11). A database
    has no use for them.
    """

    request_id: str | None = None
    department: str | None = None
    """The consumer department's unified social credit code; None for the public."""
    system: str | None = None
    operator: str | None = None
    """The person operating the system, as the system asserts it."""
    purpose: str | None = None
    """The declared purpose of use (Art. 7), e.g. `administrative_basis`."""
    purpose_reference: str | None = None
    """The case or file the purpose is declared for, as the caller states it."""
    person: str | None = None
    """The person a sign-on token named, verified by this platform."""


class Connector(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def capabilities(self) -> Capabilities:
        """What the connector can push down (read-only here: a wrapper passes on its
        connector's)."""

    async def read(self, read: Read, context: ReadContext) -> list[list[Row]]:
        """Answer `read` in the source, returning one row set per match value, in order;
        `context` says for whom.

        Raises `SourceUnavailable` when the source cannot answer.
        """

    async def count(self, read: Read, context: ReadContext) -> list[int]:
        """Count the rows `read` matches (ignoring its page), one count per match value."""

    async def ping(self) -> None:
        """Raise `SourceUnavailable` unless the source answers a trivial query."""

    async def close(self) -> None: ...
