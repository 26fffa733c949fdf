"""A caller's own view of a data item: what a query by it gets now for a purpose, on
which basis, while which rules hold, and what it would take otherwise.

The answer is made from the policy's own decisions (the same a query gets, from the
same cache), so the view never promises what a query would be refused nor hides
what it would get. A conditional item the caller may only check (数据校核) is
`VERIFY_ONLY`: reading it is refused, a verification of a value it holds is not.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

from catalog import DataItem, Mask, Resource
from errors import DenialReason
from policies.caller import Caller, Purpose
from policies.decision import Action, Decision, Denial, Outcome
from policies.engine import Policy
from policies.rule import from_instant
from policies.scope import Scope


class Access(StrEnum):
    CLEAR = "clear"
    MASKED = "masked"
    VERIFY_ONLY = "verify_only"
    DENIED = "denied"


@dataclass(frozen=True)
class ItemAccess:
    item: DataItem
    access: Access
    basis: str
    """What decided it: the catalog's share type, a rule line (`file.csv:12`) or a grant
    (`grant:7`); several joined by " | " when each gives one scope."""
    valid_from: datetime.datetime | None
    """Since when the rules or grants it rests on hold together; None if always."""
    valid_until: datetime.datetime | None
    """Until when (exclusive); None if no end is set."""
    scopes: tuple[Scope, ...] = ()
    """When given, `access` holds only for records inside one of these."""
    outside_scope: Outcome | None = None
    """When scoped: the outcome for the other records."""
    mask: Mask | None = None
    """When MASKED: how the value is shown."""
    denial: Denial | None = None
    """When DENIED: why, and (APPLICATION_REQUIRED) what to apply for."""
    verifiable: bool = False
    """Whether a verification of a value the caller holds is answered (in some scope at
    least): so with CLEAR, and possible beside MASKED too."""


def item_access(
    policy: Policy,
    caller: Caller,
    resource: Resource,
    item: DataItem,
    purpose: Purpose | None,
    now: datetime.datetime,
) -> ItemAccess:
    reading = policy.decide(caller, resource, item, purpose, now)
    if reading.clear:
        return _answer(policy, item, Access.CLEAR, reading, verifiable=True)
    checking = policy.decide(caller, resource, item, purpose, now, Action.VERIFY)
    if reading.allowed:
        return _answer(policy, item, Access.MASKED, reading, verifiable=checking.allowed)
    assert reading.denial is not None  # the engine gives every denied decision one
    if reading.denial.reason is DenialReason.APPLICATION_REQUIRED and checking.allowed:
        return _answer(policy, item, Access.VERIFY_ONLY, checking, verifiable=True)
    return _answer(policy, item, Access.DENIED, reading, verifiable=False)


def _answer(
    policy: Policy, item: DataItem, access: Access, decision: Decision, *, verifiable: bool
) -> ItemAccess:
    valid_from, valid_until = policy.window(decision.basis)
    return ItemAccess(
        item,
        access,
        decision.basis,
        from_instant(valid_from) if valid_from else None,
        from_instant(valid_until) if valid_until else None,
        decision.scopes,
        decision.fallback.outcome if decision.fallback is not None else None,
        decision.mask,
        decision.denial,
        verifiable,
    )
