"""How the policy admin's tools read a decision: its denial code, what one row gets,
and the decision as one line of text.

The tools show decisions; they never make them. Every outcome here is the engine's
(`SharingPolicy.decide`), read the same way by `explain`, `test`, `diff` and `replay`.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from policies.decision import Action, Decision, Outcome

SHANGHAI = ZoneInfo("Asia/Shanghai")
OUT_OF_SCOPE = "OUT_OF_SCOPE"
"""What the platform reports for a row outside a scoped grant whose fallback is denied."""


def denial_code(decision: Decision) -> str | None:
    """The reason code of a denied decision (APPLICATION_REQUIRED, NOT_SHARED, …); None
    when something is served. The one place the tools read a denial."""
    return decision.denial.reason.value if decision.denial is not None else None


@dataclass(frozen=True)
class Served:
    """What one row of an item gets: the outcome, its denial code, what decided it."""

    outcome: Outcome
    code: str | None
    basis: str

    @property
    def text(self) -> str:
        return f"{self.outcome.value} {self.code}" if self.code else self.outcome.value


def for_row(
    decision: Decision,
    action: Action,
    row: Mapping[str, str] | None,
    attributes: Mapping[str, str],
) -> Served | None:
    """What a row gets under `decision`; None when the decision depends on the row (a
    scoped grant) and no row is given."""
    if not decision.scoped:
        return Served(decision.outcome, denial_code(decision), decision.basis)
    if row is None:
        return None
    if any(scope.holds(row, attributes) for scope in decision.scopes):
        return Served(decision.outcome, None, decision.basis)
    outside = decision.fallback
    assert outside is not None  # a scoped decision always says what the rest get
    code = denial_code(outside)
    if code is not None and action is Action.READ_CLEAR:
        code = OUT_OF_SCOPE  # the resolvers withhold the row's value with this code
    return Served(outside.outcome, code, outside.basis)


def describe(decision: Decision) -> str:
    """`clear`, `denied APPLICATION_REQUIRED`, or for a scoped decision
    `clear within township=township, else masked`."""
    code = denial_code(decision)
    text = f"{decision.outcome.value} {code}" if code else decision.outcome.value
    if not decision.scoped or decision.fallback is None:
        return text
    within = " or ".join(scope.text for scope in decision.scopes)
    return f"{text} within {within}, else {describe(decision.fallback)}"


def bases(decision: Decision) -> set[str]:
    """Every rule, grant or catalog entry a decision rests on, its fallback's included."""
    found = {basis.strip() for basis in decision.basis.split("|")}
    if decision.fallback is not None:
        found |= bases(decision.fallback)
    return found


def local(moment: datetime.datetime) -> str:
    """A time as admins read it: Asia/Shanghai, to the minute, with its offset."""
    return moment.astimezone(SHANGHAI).isoformat(timespec="minutes")
