"""What a source can answer in the source, and the refusal of a read that needs more.

A tree after Hasura's NDC: a capability is supported when it is present (not None),
and a source leaves out what it cannot do. A read needing a capability its source
leaves out is refused before the source is asked (PUSHDOWN_REFUSED), never answered
by filtering or computing here after fetching.

One exception is declared, not assumed: a source that cannot compute masks, scoped
values or flags (an HTTP API returning whole records) may say it has them computed
`on_arrival`: its connector computes each row's values as the row is parsed and drops
the clear value there, before anything else holds it (`connectors/arrival.py`). An
item whose catalog entry keeps its mask in the source (`masked_in_source_only`) is
refused such a read. Filters are never computed on arrival: an unfiltered read
filtered afterwards would fetch rows the caller may not see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from errors import PushdownRefused

if TYPE_CHECKING:
    from connectors.base import Connector, Read


@dataclass(frozen=True)
class Supported:
    """A capability with nothing more to say: present means supported (NDC's `{}`)."""


SUPPORTED = Supported()


@dataclass(frozen=True)
class Pagination:
    """Keyset pages of one row set."""

    per_parent: Supported | None = SUPPORTED
    """A page per match value of a key batch (a nested `first`), not only of all rows."""


@dataclass(frozen=True)
class Computing:
    """Values the source computes from a column, so that the column never leaves it."""

    masks: Supported | None = SUPPORTED
    """A catalog mask (`catalog.masks`) applied in the source."""
    conditions: Supported | None = SUPPORTED
    """A value only on rows where a condition holds, NULL on the others (grant scopes)."""


@dataclass(frozen=True)
class Capabilities:
    projection: Supported | None = SUPPORTED
    """Only the columns asked for: a source without it is refused every read."""
    key_batches: Supported | None = SUPPORTED
    """One row set per key of a batch in one read (NDC's variables)."""
    pagination: Pagination | None = Pagination()
    filters: Supported | None = SUPPORTED
    ordering: Supported | None = SUPPORTED
    counting: Supported | None = SUPPORTED
    computing: Computing | None = Computing()
    flags: Supported | None = SUPPORTED
    """1 or 0 per row as a condition holds or not: grant scopes, verification claims."""
    on_arrival: Supported | None = None
    """What `computing` and `flags` leave out is computed by the connector as each row
    arrives, the clear values it needed dropped at once."""


def require_capabilities(connector: Connector, read: Read, *, count: bool = False) -> None:
    """Raise PushdownRefused naming the first capability `read` needs that `connector`
    does not advertise."""
    for needed, present in _needs(connector.capabilities, read, count):
        if present is None:
            raise PushdownRefused(
                f"source {connector.name} cannot push down {needed}", source=connector.name
            )


def _needs(capabilities: Capabilities, read: Read, count: bool) -> list[tuple[str, object | None]]:
    """What `read` needs, each with the capability that supports it (None if absent)."""
    needs: list[tuple[str, object | None]] = [("projection", capabilities.projection)]
    if read.match_values is not None:
        needs.append(("key batches", capabilities.key_batches))
    pagination = capabilities.pagination
    if read.page is not None and not count:
        needs.append(("pagination", pagination))
        if read.match_values is not None:
            needs.append(("per parent pagination", pagination and pagination.per_parent))
    if read.predicate is not None:
        needs.append(("filters", capabilities.filters))
    if read.order:
        needs.append(("ordering", capabilities.ordering))
    if count:  # a count returns no values: nothing is computed
        needs.append(("counting", capabilities.counting))
        return needs
    computing, arriving = capabilities.computing, capabilities.on_arrival
    if any(value.mask is not None for value in read.computed):
        needs.append(("masks", (computing and computing.masks) or arriving))
    if any(value.condition is not None for value in read.computed):
        needs.append(("conditional values", (computing and computing.conditions) or arriving))
    if read.flags:
        needs.append(("flags", capabilities.flags or arriving))
    return needs
