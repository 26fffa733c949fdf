"""An application for conditional items (申请, Art. 8), as data, and its state machine.

    applied ──approve──▶ approved ──revoke──▶ revoked
       │   ──approve narrower──▶ approved_narrower ──expire──▶ expired
       │   ──refuse──▶ refused ──escalate──▶ escalated ──decide: grant──▶ approved_by_office
       └── ──withdraw──▶ withdrawn              ▲   │ ──decide: uphold──▶ upheld
    not_shared (answered at once, by the        │   └─ respond (the provider's statement)
    catalog's legal basis) ──escalate───────────┘
    applied, once overdue ──escalate──▶ escalated

An approval of any kind (approved, approved_narrower, approved_by_office) is a grant,
and can be revoked or expire.

Every transition not drawn is refused (`TransitionRefused`): an answer to an answered
application, an approval of a refused one. The store makes each with a conditional
update, so the check here and the row's state cannot disagree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from policies.caller import Purpose
from policies.decision import Action

USE_CONDITIONS = "Art. 11 use conditions, version 1"
"""What an applicant acknowledges: the data is used only for the declared purpose and
never passed to a third party; recorded with the application by this name."""

NEGOTIATION = (
    "not shared: negotiate with the provider department; failing agreement, the city "
    "Administrative Service Center (市行政服务中心) coordinates (Art. 8)"
)

REASON_LENGTH = 500
REFERENCE_LENGTH = 200


class State(StrEnum):
    APPLIED = "applied"
    APPROVED = "approved"
    APPROVED_NARROWER = "approved_narrower"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    REVOKED = "revoked"
    EXPIRED = "expired"
    NOT_SHARED = "not_shared"
    ESCALATED = "escalated"
    APPROVED_BY_OFFICE = "approved_by_office"
    UPHELD = "upheld"


class Step(StrEnum):
    APPLY = "apply"
    APPROVE = "approve"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    REVOKE = "revoke"
    EXPIRE = "expire"
    ESCALATE = "escalate"
    RESPOND = "respond"
    DECIDE = "decide"


OPEN = frozenset({State.APPLIED})
"""States that still wait for an answer: a duplicate of one is refused."""
APPROVALS = frozenset({State.APPROVED, State.APPROVED_NARROWER, State.APPROVED_BY_OFFICE})
ESCALABLE = frozenset({State.REFUSED, State.NOT_SHARED, State.APPLIED})
"""What a consumer may take to the coordination office (applied: only once overdue)."""

TRANSITIONS: dict[Step, frozenset[State]] = {
    Step.APPROVE: OPEN,
    Step.REFUSE: OPEN,
    Step.WITHDRAW: OPEN,
    Step.REVOKE: APPROVALS,
    Step.EXPIRE: APPROVALS,
    Step.ESCALATE: ESCALABLE,
    Step.RESPOND: frozenset({State.ESCALATED}),
    Step.DECIDE: frozenset({State.ESCALATED}),
}
"""The states each step may be taken from."""


class ApplicationProblem(ValueError):
    """An application or answer that cannot be taken as sent: the message says why."""


class ApplicationNotFound(ApplicationProblem):
    pass


class DuplicateApplication(ApplicationProblem):
    def __init__(self, open_id: int) -> None:
        super().__init__(
            f"application {open_id} for these items and purpose is still open: wait for its "
            "answer or withdraw it"
        )
        self.open_id = open_id


class TransitionRefused(ApplicationProblem):
    def __init__(self, application_id: int, step: Step, state: State) -> None:
        super().__init__(f"application {application_id} is {state.value}: it cannot {step.value}")
        self.state = state


@dataclass(frozen=True)
class Terms:
    """What is applied for, or approved: items of one resource, for one purpose, in a
    row scope ("" = every row), until a moment (UTC), clear or masked."""

    resource_id: str
    items: tuple[str, ...]
    purpose: Purpose
    scope: str
    valid_until: datetime.datetime
    action: Action = Action.READ_CLEAR

    def as_json(self) -> dict[str, Any]:
        return {
            "resource": self.resource_id,
            "items": list(self.items),
            "purpose": self.purpose.value,
            "scope": self.scope,
            "validUntil": self.valid_until.isoformat(),
            "action": self.action.value,
        }

    def narrower_than(self, asked: Terms) -> bool:
        return (
            set(self.items) < set(asked.items)
            or self.scope != asked.scope
            or self.valid_until < asked.valid_until
            or self.action is not asked.action
        )


@dataclass(frozen=True)
class Actor:
    """Who takes a step: a person (verified by a sign-on token) or a system, of a
    department; `platform` for what the platform does itself (expiry, not_shared)."""

    person: str
    department: str | None


PLATFORM = Actor("platform", None)


@dataclass(frozen=True)
class StepTaken:
    step: Step
    state: State
    """The state the step left the application in."""
    actor: Actor
    reason: str | None
    terms: dict[str, Any]
    at: datetime.datetime


@dataclass(frozen=True)
class Application:
    id: int
    consumer: str
    """`<department code>/<system id>`: whom a grant names."""
    applicant: str | None
    """The person who applied, when a sign-on token named one."""
    provider_code: str
    asked: Terms
    business_reason: str
    case_reference: str
    acknowledged: str
    state: State
    made_at: datetime.datetime
    due_at: datetime.datetime
    provisional: bool
    """The deadline was counted over a year the calendar does not know."""
    answered_at: datetime.datetime | None = None
    grant_id: int | None = None
    granted_until: datetime.datetime | None = None
    """When an approval's grant ends: the approved validity."""
    steps: tuple[StepTaken, ...] = field(default=())

    @property
    def consumer_department(self) -> str:
        return self.consumer.partition("/")[0]

    def overdue_at(self, moment: datetime.datetime) -> bool:
        return self.state is State.APPLIED and moment >= self.due_at


def reason_problem(reason: str | None, *, required: bool) -> str | None:
    if reason is None or not reason.strip():
        return "a reason is required" if required else None
    if len(reason.strip()) > REASON_LENGTH:
        return f"a reason is at most {REASON_LENGTH} characters"
    return None
