"""What the policy answers for one (caller, data item, purpose, time): a small value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from catalog import Mask
from errors import FieldDenied
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
class Decision:
    outcome: Outcome
    basis: str
    """What decided it, for the audit log: the catalog's share type, a rule or a grant."""
    denial: FieldDenied | None = None
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


def denied(basis: str, denial: FieldDenied) -> Decision:
    return Decision(Outcome.DENIED, basis, denial)
