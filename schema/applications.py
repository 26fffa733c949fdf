"""The applications' schema (Art. 8): consumers apply and withdraw, the provider's
approvers answer (approve as asked or narrower, temporarily, refuse, revoke), the
coordination office decides escalations (`schema.escalations`), and each reads the
applications that are theirs. Served by `web.applying`, which checks the caller's kind
and role before anything runs; here each application is checked to be the caller's
(`policies.application_access`).
"""

from __future__ import annotations

import datetime

import strawberry

import errors
from applications import (
    USE_CONDITIONS,
    ApplicationProblem,
    ApplicationStore,
    Draft,
    State,
    approved_terms,
    asked_terms,
    text_problems,
)
from schema.application_context import (
    ApplicationsContext,
    Info,
    actor_of,
    answered,
    reason_required,
    refusals,
    visible,
)
from schema.application_figures import (
    ConsumerFiguresType,
    ProviderFiguresType,
    application_figures,
    consumer_figures_of,
)
from schema.application_types import ApplicationInput, ApplicationType, application_type
from schema.escalations import (
    OFFICE_FIELDS,
    OverdueCount,
    PendingWork,
    decide_escalation,
    escalate,
    escalations,
    overdue_applications,
    overdue_counts,
    pending_work,
    respond,
)

CONSUMER_FIELDS = frozenset(
    {"applyForAccess", "withdrawApplication", "escalateApplication", "myApplications"}
)
APPROVER_FIELDS = frozenset(
    {
        "approveApplication",
        "refuseApplication",
        "revokeApplication",
        "respondToEscalation",
        "applicationsToAnswer",
    }
)
GRANTING_FIELDS = frozenset({"approveApplication", "revokeApplication", "decideEscalation"})
"""The answers that make or revoke a grant."""
APPLICATION_FIELDS = (
    CONSUMER_FIELDS
    | APPROVER_FIELDS
    | OFFICE_FIELDS
    | {"application", "pendingWork", "applicationFigures", "consumerFigures"}
)
"""The schema's root fields: an operation selecting one is the applications'."""

__all__ = ["ApplicationsContext"]


async def _apply(info: Info, application: ApplicationInput) -> ApplicationType:
    context = info.context
    problems = text_problems(application.businessReason, application.caseReference)
    if not application.acknowledgeUseConditions:
        problems.append("acknowledge the use conditions of Art. 11 (acknowledgeUseConditions)")
    with refusals():
        try:
            terms, not_shared = asked_terms(
                context.catalog,
                application.resource,
                application.fields,
                application.purpose,
                application.scope,
                application.validUntil,
            )
        except ApplicationProblem as problem:
            problems.insert(0, str(problem))
        if problems:
            raise ApplicationProblem("; ".join(problems))
        draft = Draft(
            consumer=context.caller.system_subject,
            applicant=actor_of(context.caller),
            provider_code=context.catalog.provider_of[terms.resource_id].department.code,
            asked=terms,
            business_reason=application.businessReason.strip(),
            case_reference=application.caseReference.strip(),
            acknowledged=USE_CONDITIONS,
        )
        made = await context.store.apply(draft, not_shared=not_shared)
    return application_type(made, context.catalog)


async def _withdraw(info: Info, id: int, reason: str | None = None) -> ApplicationType:
    context = info.context
    application = await visible(info, id)
    if application.consumer_department != context.caller.department:
        raise errors.ApplicationNotFound(f"there is no application {id}")
    with refusals():
        withdrawn = await context.store.withdraw(id, actor_of(context.caller), reason)
    return application_type(withdrawn, context.catalog)


async def _approve(
    info: Info,
    id: int,
    reason: str,
    fields: list[str] | None = None,
    scope: str | None = None,
    validUntil: datetime.datetime | None = None,
    temporaryHours: int | None = None,
    masked: bool = False,
) -> ApplicationType:
    context = info.context
    application = await visible(info, id, answering=True)
    with refusals():
        given = reason_required(reason, "an approval gives its reason")
        if temporaryHours is not None:
            if validUntil is not None or not 0 < temporaryHours <= 24 * 31:
                raise ApplicationProblem(
                    "temporaryHours: 1 to 744 hours from now, instead of validUntil"
                )
            now = datetime.datetime.now(datetime.UTC)
            validUntil = now + datetime.timedelta(hours=temporaryHours)
        terms = approved_terms(application.asked, fields, scope, validUntil, masked)
        approved = await context.store.approve(
            id, terms, actor_of(context.caller), given, context.catalog
        )
    return application_type(approved, context.catalog)


async def _refuse(info: Info, id: int, reason: str) -> ApplicationType:
    what = "a refusal gives its reason (Art. 8)"
    return await answered(info, id, reason, what, ApplicationStore.refuse)


async def _revoke(info: Info, id: int, reason: str) -> ApplicationType:
    what = "a revocation gives its reason"
    return await answered(info, id, reason, what, ApplicationStore.revoke)


async def _application(info: Info, id: int) -> ApplicationType:
    await info.context.store.expire_ended()
    return application_type(await visible(info, id), info.context.catalog)


def states_of(state: str | None) -> list[State] | None:
    if state is None:
        return None
    try:
        return [State(state)]
    except ValueError:
        known = ", ".join(s.value for s in State)
        raise errors.ApplicationInvalid(f"state {state!r} is not one of {known}") from None


async def _mine(info: Info, state: str | None = None) -> list[ApplicationType]:
    context = info.context
    await context.store.expire_ended()
    found = await context.store.listed(
        consumer_department=context.caller.department, states=states_of(state)
    )
    return [application_type(application, context.catalog) for application in found]


async def _to_answer(info: Info, state: str | None = "applied") -> list[ApplicationType]:
    context = info.context
    await context.store.expire_ended()
    found = await context.store.listed(
        provider_code=context.caller.department, states=states_of(state)
    )
    return [application_type(application, context.catalog) for application in found]


@strawberry.type(name="Query")
class ApplicationsQuery:
    application: ApplicationType = strawberry.field(
        resolver=_application,
        description="One application: its consumer's, its provider's, or the office's.",
    )
    myApplications: list[ApplicationType] = strawberry.field(
        resolver=_mine, description="Your department's applications (state: one state only)."
    )
    applicationsToAnswer: list[ApplicationType] = strawberry.field(
        resolver=_to_answer,
        description="Applications addressed to your department (default: those applied).",
    )
    pendingWork: PendingWork = strawberry.field(
        resolver=pending_work,
        description="What waits for you, by the roles you hold (consumer, approver, office).",
    )
    applicationFigures: list[ProviderFiguresType] = strawberry.field(
        resolver=application_figures,
        description=(
            "Art. 12's figures per provider: every provider's for the coordination office, "
            "your department's for anyone else."
        ),
    )
    consumerFigures: list[ConsumerFiguresType] = strawberry.field(
        resolver=consumer_figures_of,
        description=(
            "Art. 12's figures per consumer: approvals used and never used (from the audit "
            "log); every consumer's for the coordination office, your department's otherwise."
        ),
    )
    escalations: list[ApplicationType] = strawberry.field(
        resolver=escalations, description="The coordination office's: escalations to decide."
    )
    overdueApplications: list[ApplicationType] = strawberry.field(
        resolver=overdue_applications,
        description="The coordination office's: applications past their deadline.",
    )
    overdueCounts: list[OverdueCount] = strawberry.field(
        resolver=overdue_counts,
        description="The coordination office's: overdue applications counted per provider.",
    )


@strawberry.type(name="Mutation")
class ApplicationsMutation:
    applyForAccess: ApplicationType = strawberry.mutation(
        resolver=_apply,
        description=(
            "Apply for conditional items (Art. 8); a not_shared item is answered at once "
            "with its legal basis and the way to negotiate."
        ),
    )
    withdrawApplication: ApplicationType = strawberry.mutation(
        resolver=_withdraw, description="Withdraw your department's open application."
    )
    escalateApplication: ApplicationType = strawberry.mutation(
        resolver=escalate,
        description=(
            "Take a refusal, a not_shared answer or an overdue application to the "
            "coordination office, with your statement."
        ),
    )
    approveApplication: ApplicationType = strawberry.mutation(
        resolver=_approve,
        description=(
            "Approve as asked, or narrower: some `fields`, a `scope` with more terms, an "
            "earlier `validUntil` or `temporaryHours` from now, `masked` instead of clear. "
            "It is a grant at once, on every instance."
        ),
    )
    refuseApplication: ApplicationType = strawberry.mutation(
        resolver=_refuse, description="Refuse, with the reason (required, Art. 8)."
    )
    revokeApplication: ApplicationType = strawberry.mutation(
        resolver=_revoke, description="End an approval early, with the reason: its grant ends."
    )
    respondToEscalation: ApplicationType = strawberry.mutation(
        resolver=respond, description="The provider's statement on an escalation."
    )
    decideEscalation: ApplicationType = strawberry.mutation(
        resolver=decide_escalation,
        description=(
            "The coordination office decides: grant on the provider's behalf (with "
            "conditions: fields, scope, validUntil, masked) or uphold, with reasons."
        ),
    )


APPLICATIONS_SCHEMA = strawberry.Schema(query=ApplicationsQuery, mutation=ApplicationsMutation)
