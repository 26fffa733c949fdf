"""Everything one request's resolvers read: who, why, what was decided, and its loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors import Page, ReadContext
from policies import Caller, Policy, Purpose
from quota import Quota
from resolvers.cursor import CursorCodec
from resolvers.filters import ConnectionQuery
from resolvers.governance import Governance
from resolvers.loaders import Accessed, Loaders
from resolvers.plan import Plan


@dataclass(frozen=True)
class Listing:
    """How one connection field of the operation reads and renders, the same for every
    parent row: made on the field's first call, then looked up."""

    page: Page
    query: ConnectionQuery
    sort_columns: tuple[str, ...]
    edge_cursors: bool
    page_info: bool
    start_cursor: bool
    end_cursor: bool
    counted: bool


@dataclass
class RequestContext:
    """Made after the request is planned and decided, so nothing in it changes what
    may be read once execution starts."""

    caller: Caller
    purpose: Purpose | None
    loaders: Loaders
    cursors: CursorCodec
    max_first: int
    accessed: Accessed
    policy: Policy
    """The policy this request is decided by, fixed at its start (a reload may follow)."""
    quota: Quota
    plan: Plan
    governance: Governance
    listings: dict[int, Listing] = field(default_factory=dict)
    """By the id of the field's AST node: one node, one set of arguments."""


def read_context(
    caller: Caller, purpose: Purpose | None, request_id: str | None, reference: str | None = None
) -> ReadContext:
    """What a source is told of the request its reads serve: values, never the caller."""
    return ReadContext(
        request_id,
        caller.department,
        caller.system,
        caller.operator,
        purpose.value if purpose is not None else None,
        reference,
        caller.person,
    )
