"""What the policy answers for one (caller, data item, purpose): a small value."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from errors import FieldDenied


class Outcome(StrEnum):
    CLEAR = "clear"
    DENIED = "denied"


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    basis: str
    """What decided it, for the audit log: the catalog's share type, or the rule."""
    denial: FieldDenied | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome is Outcome.CLEAR


def clear(basis: str) -> Decision:
    return Decision(Outcome.CLEAR, basis)


def denied(basis: str, denial: FieldDenied) -> Decision:
    return Decision(Outcome.DENIED, basis, denial)
