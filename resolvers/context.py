"""Everything one request's resolvers read: who, why, what was decided, and its loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from policies import Caller, Purpose
from resolvers.cursor import CursorCodec
from resolvers.governance import Governance
from resolvers.loaders import Accessed, Loaders
from resolvers.plan import Plan


@dataclass
class RequestContext:
    caller: Caller
    purpose: Purpose | None
    loaders: Loaders
    cursors: CursorCodec
    max_first: int
    accessed: Accessed
    plan: Plan | None = None
    governance: Governance = field(default_factory=Governance)
