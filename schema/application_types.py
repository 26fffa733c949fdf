"""The applications' GraphQL types (Art. 8): what a consumer sends to apply, and an
application as consumers, providers and the coordination office read it, with every
step on record (who, when, what, why)."""

from __future__ import annotations

import datetime
import json

import strawberry

from applications import NEGOTIATION, Application, State
from catalog import Catalog


@strawberry.input(
    description=(
        "An application: `resource`, `fields` and `purpose` as the `application` of an "
        "APPLICATION_REQUIRED error names them, so a form is filled from the error alone."
    )
)
class ApplicationInput:
    resource: str = strawberry.field(description="The resource's id, as rules name it.")
    fields: list[str] = strawberry.field(description="The items applied for, by field name.")
    purpose: str = strawberry.field(description="The usage purpose (Art. 7).")
    businessReason: str = strawberry.field(description="Why the items are needed (业务事由).")
    caseReference: str = strawberry.field(description="The case or file number it serves.")
    validUntil: datetime.datetime = strawberry.field(
        description="Until when the items are needed, with a time zone (+08:00)."
    )
    acknowledgeUseConditions: bool = strawberry.field(
        description=(
            "Art. 11: the items are used only for the declared purpose and never passed to "
            "a third party; true, or the application is refused."
        )
    )
    scope: str = strawberry.field(
        default="",
        description="Which rows: `item=attribute[ & …]` compared with your key's attributes; "
        "empty: every row.",
    )


@strawberry.type(description="One step of an application: who took it, when, how and why.")
class ApplicationStep:
    step: str = strawberry.field(description="apply, approve, refuse, withdraw, revoke, expire.")
    state: str = strawberry.field(description="The state it left the application in.")
    person: str = strawberry.field(
        description="The person (verified by a sign-on token), the system, or `platform`."
    )
    department: str | None
    reason: str | None
    terms: str = strawberry.field(description="What was applied for or approved, as JSON.")
    at: datetime.datetime


@strawberry.type(name="Application", description="An application for conditional items.")
class ApplicationType:
    id: int
    state: str = strawberry.field(
        description=(
            "applied, approved, approved_narrower, refused, withdrawn, revoked, expired, "
            "not_shared."
        )
    )
    consumer: str = strawberry.field(description="`<department code>/<system id>`.")
    applicant: str | None
    provider: str = strawberry.field(description="The provider department's name.")
    providerCode: str
    resource: str
    fields: list[str]
    purpose: str
    scope: str
    validUntil: datetime.datetime
    businessReason: str
    caseReference: str
    acknowledged: str = strawberry.field(description="The use conditions acknowledged (Art. 11).")
    madeAt: datetime.datetime
    dueAt: datetime.datetime = strawberry.field(
        description="The answer is due by then: the end of the next working day, Asia/Shanghai."
    )
    deadlineProvisional: bool = strawberry.field(
        description="The calendar did not know a year the deadline was counted over."
    )
    overdue: bool
    answeredAt: datetime.datetime | None
    grant: int | None = strawberry.field(description="The grant an approval became.")
    grantedUntil: datetime.datetime | None = strawberry.field(
        description="When the approval's grant ends (what was approved, perhaps earlier)."
    )
    legalBasis: str | None = strawberry.field(description="When not_shared: the law cited.")
    negotiation: str | None = strawberry.field(
        description="When not_shared or refused: the way on (Art. 8)."
    )
    steps: list[ApplicationStep]


def application_type(application: Application, catalog: Catalog) -> ApplicationType:
    asked = application.asked
    provider = catalog.provider_of.get(asked.resource_id)
    not_shared = application.state is State.NOT_SHARED
    now = datetime.datetime.now(datetime.UTC)
    return ApplicationType(
        id=application.id,
        state=application.state.value,
        consumer=application.consumer,
        applicant=application.applicant,
        provider=provider.department.name if provider else application.provider_code,
        providerCode=application.provider_code,
        resource=asked.resource_id,
        fields=list(asked.items),
        purpose=asked.purpose.value,
        scope=asked.scope,
        validUntil=asked.valid_until,
        businessReason=application.business_reason,
        caseReference=application.case_reference,
        acknowledged=application.acknowledged,
        madeAt=application.made_at,
        dueAt=application.due_at,
        deadlineProvisional=application.provisional,
        overdue=application.overdue_at(now),
        answeredAt=application.answered_at,
        grant=application.grant_id,
        grantedUntil=application.granted_until,
        legalBasis=application.steps[-1].reason if not_shared else None,
        negotiation=NEGOTIATION if not_shared or application.state is State.REFUSED else None,
        steps=[
            ApplicationStep(
                step=step.step.value,
                state=step.state.value,
                person=step.actor.person,
                department=step.actor.department,
                reason=step.reason,
                terms=json.dumps(step.terms, ensure_ascii=False, sort_keys=True),
                at=step.at,
            )
            for step in application.steps
        ],
    )
