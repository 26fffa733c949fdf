"""What the policy answers for one (caller, data item, purpose, time): a small value.

A denial is plain typed data too (the reason, the item, what the caller can do about
it), so that a decision can be cached, audited, explained in the catalog or taken as
an application's input; `resolvers.denials` alone words it as a GraphQL error.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from catalog import Mask
from errors import DenialReason
from policies.caller import Purpose
from policies.scope import Scope


class Action(StrEnum):
    """What a rule or grant permits on an item: the model's `act`."""

    READ_CLEAR = "read_clear"
    READ_MASKED = "read_masked"
    VERIFY = "verify"


class Outcome(StrEnum):
    CLEAR = "clear"
    MASKED = "masked"
    VERIFIED = "verified"
    """Only whether a value the caller holds matches (数据校核), never the value."""
    DENIED = "denied"


@dataclass(frozen=True)
class ApplicationRequest:
    """What a consumer applies to a provider for (申请), when no rule or grant opens a
    conditional item to it: the input of the applications workflow."""

    resource_id: str
    resource_code: str
    resource_name_zh: str
    provider_name: str
    provider_code: str
    items: tuple[str, ...]
    """The item names applied for: the decided item; the denials a request reports each
    name every item of the resource it was refused, so one application covers them all."""
    purpose: Purpose
    conditions: str | None
    """The catalog's conditions of sharing (共享条件), as its provider states them."""


@dataclass(frozen=True)
class Denial:
    """Why a field is refused, in catalog names only: never a value."""

    reason: DenialReason
    field: str
    """The denied item as the schema names it (`Person.householdAddress`), or the root
    field the public may not query (`Query.persons`)."""
    name_zh: str | None = None
    """The item's name in the catalog; None where `field` is no item."""
    legal_basis: str | None = None
    """Why a NOT_SHARED item is never shared: the law the catalog cites."""
    application: ApplicationRequest | None = None
    """What to apply for, when the reason is APPLICATION_REQUIRED."""
    resting_field: str | None = None
    """A relationship or root field refused because it joins, filters, orders or pages
    on `field`: the error is reported on it. None when `field` itself was asked for."""

    def __post_init__(self) -> None:
        if self.name_zh is None and self.reason is not DenialReason.NOT_OPEN:
            raise ValueError(f"{self.reason} names the item it refuses")
        if (self.reason is DenialReason.NOT_SHARED) != (self.legal_basis is not None):
            raise ValueError("a legal basis is given for NOT_SHARED, and only for it")
        if (self.reason is DenialReason.APPLICATION_REQUIRED) != (self.application is not None):
            raise ValueError("an application is given for APPLICATION_REQUIRED, and only for it")


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    basis: str
    """What decided it, for the audit log: the catalog's share type, a rule or a grant."""
    denial: Denial | None = None
    mask: Mask | None = None
    """How a MASKED value is shown."""
    scopes: tuple[Scope, ...] = ()
    """When given, `outcome` holds only for rows inside one of these; `fallback` for the rest."""
    fallback: Decision | None = None

    @property
    def allowed(self) -> bool:
        """Something of the item may be served (clear or masked, perhaps only in scope)."""
        return self.outcome is not Outcome.DENIED

    @property
    def clear(self) -> bool:
        return self.outcome is Outcome.CLEAR

    @property
    def scoped(self) -> bool:
        return bool(self.scopes)


def clear(basis: str) -> Decision:
    return Decision(Outcome.CLEAR, basis)


def masked(basis: str, mask: Mask) -> Decision:
    return Decision(Outcome.MASKED, basis, mask=mask)


def denied(basis: str, denial: Denial) -> Decision:
    return Decision(Outcome.DENIED, basis, denial)
