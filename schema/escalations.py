"""Escalation to the coordination office (市行政服务中心, Art. 8), overdue applications,
and each role's pending work.

A consumer escalates a refusal, a not_shared answer or an application past its
deadline, with a statement; the provider's approver responds with its own; the office
decides — grants on the provider's behalf, with conditions (a grant like any approval),
or upholds — with reasons. The office sees every escalation and every overdue
application, counted per provider.
"""

from __future__ import annotations

import datetime

import strawberry

import errors
from applications import Application, ApplicationStore, State, approved_terms
from policies.application_access import may_coordinate
from policies.caller import Role
from schema.application_context import (
    Info,
    actor_of,
    answered,
    department_names,
    reason_required,
    refusals,
    visible,
)
from schema.application_types import ApplicationType, application_type

OFFICE_FIELDS = frozenset(
    {"decideEscalation", "escalations", "overdueApplications", "overdueCounts"}
)
"""The coordination office's root fields."""


@strawberry.type(description="Applications past their deadline, of one provider.")
class OverdueCount:
    providerCode: str
    provider: str
    overdue: int


@strawberry.type(description="What waits for you, by the roles you hold.")
class PendingWork:
    mine: list[ApplicationType] = strawberry.field(
        description=(
            "Your department's applications still moving: applied, escalated, and refused "
            "or not_shared ones you may escalate."
        )
    )
    toAnswer: list[ApplicationType] = strawberry.field(
        description="As an approver: applied to your department, and escalations to respond to."
    )
    toDecide: list[ApplicationType] = strawberry.field(
        description="As the coordination office: escalations to decide."
    )
    overdue: list[ApplicationType] = strawberry.field(
        description="Past their deadline: your department's as an approver; all as the office."
    )


async def escalate(info: Info, id: int, statement: str) -> ApplicationType:
    context = info.context
    application = await visible(info, id)
    if application.consumer_department != context.caller.department:
        raise errors.ApplicationNotFound(f"there is no application {id}")
    with refusals():
        given = reason_required(statement, "an escalation states the consumer's case")
        escalated = await context.store.escalate(id, actor_of(context.caller), given)
    return application_type(escalated, context.catalog)


async def respond(info: Info, id: int, statement: str) -> ApplicationType:
    what = "a response states the provider's case"
    return await answered(info, id, statement, what, ApplicationStore.respond)


async def decide_escalation(
    info: Info,
    id: int,
    grant: bool,
    reason: str,
    fields: list[str] | None = None,
    scope: str | None = None,
    validUntil: datetime.datetime | None = None,
    masked: bool = False,
) -> ApplicationType:
    context = info.context
    application = await visible(info, id)
    by = actor_of(context.caller)
    with refusals():
        given = reason_required(reason, "the office's decision gives its reasons")
        if grant:
            terms = approved_terms(application.asked, fields, scope, validUntil, masked)
            decided = await context.store.approve(
                id, terms, by, given, context.catalog, by_office=True
            )
        else:
            decided = await context.store.uphold(id, by, given)
    return application_type(decided, context.catalog)


async def escalations(info: Info) -> list[ApplicationType]:
    context = info.context
    found = await context.store.listed(states=[State.ESCALATED])
    return [application_type(application, context.catalog) for application in found]


async def _overdue(info: Info, provider_code: str | None) -> list[Application]:
    now = datetime.datetime.now(datetime.UTC)
    found = await info.context.store.listed(provider_code=provider_code, states=[State.APPLIED])
    return [application for application in found if application.overdue_at(now)]


async def overdue_applications(
    info: Info, providerCode: str | None = None
) -> list[ApplicationType]:
    found = await _overdue(info, providerCode)
    return [application_type(application, info.context.catalog) for application in found]


async def overdue_counts(info: Info) -> list[OverdueCount]:
    counted: dict[str, int] = {}
    for application in await _overdue(info, None):
        counted[application.provider_code] = counted.get(application.provider_code, 0) + 1
    names = department_names(info.context.catalog)
    return [
        OverdueCount(providerCode=code, provider=names.get(code, code), overdue=count)
        for code, count in sorted(counted.items())
    ]


async def pending_work(info: Info) -> PendingWork:
    context = info.context
    caller = context.caller
    await context.store.expire_ended()
    following = {State.APPLIED, State.ESCALATED, State.REFUSED, State.NOT_SHARED}
    mine = await context.store.listed(consumer_department=caller.department, states=following)
    approver = caller.person is not None and Role.PROVIDER_APPROVER in caller.roles
    to_answer: list[Application] = []
    overdue: list[Application] = []
    if approver:
        to_answer = await context.store.listed(
            provider_code=caller.department, states=[State.APPLIED, State.ESCALATED]
        )
        overdue = await _overdue(info, caller.department)
    to_decide: list[Application] = []
    if may_coordinate(caller):
        to_decide = await context.store.listed(states=[State.ESCALATED])
        overdue = await _overdue(info, None)

    def typed(found: list[Application]) -> list[ApplicationType]:
        return [application_type(application, context.catalog) for application in found]

    return PendingWork(
        mine=typed(mine),
        toAnswer=typed(to_answer),
        toDecide=typed(to_decide),
        overdue=typed(overdue),
    )
