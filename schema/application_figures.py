"""`applicationFigures` and `consumerFigures`: Art. 12's figures per provider
(`applications.figures`) and per consumer (approvals used or never used,
`applications.usage`), for the coordination office, which evaluates sharing work,
over every department; for anyone else, over their own."""

from __future__ import annotations

import datetime

import strawberry

from applications.figures import provider_figures
from applications.usage import consumer_figures
from policies.application_access import may_coordinate
from schema.application_context import Info, department_names


@strawberry.type(description="How one provider answers applications (Art. 12).")
class ProviderFiguresType:
    providerCode: str
    provider: str
    applications: int
    answered: int
    medianAnswerWorkingHours: float | None = strawberry.field(
        description="Hours on working days (Asia/Shanghai) from application to answer."
    )
    p90AnswerWorkingHours: float | None
    answeredInTime: float | None = strawberry.field(
        description="The share of answers given by the deadline (0 to 1)."
    )
    refusals: int = strawberry.field(description="Each gives its reason (Art. 8).")
    overdue: int = strawberry.field(description="Waiting past the deadline now.")


async def application_figures(info: Info) -> list[ProviderFiguresType]:
    context = info.context
    caller = context.caller
    provider = None if may_coordinate(caller) else caller.department
    found = await context.store.listed(provider_code=provider)
    now = datetime.datetime.now(datetime.UTC)
    names = department_names(context.catalog)
    return [
        ProviderFiguresType(
            providerCode=figures.provider_code,
            provider=names.get(figures.provider_code, figures.provider_code),
            applications=figures.applications,
            answered=figures.answered,
            medianAnswerWorkingHours=figures.median_answer_hours,
            p90AnswerWorkingHours=figures.p90_answer_hours,
            answeredInTime=figures.answered_in_time,
            refusals=figures.refusals,
            overdue=figures.overdue,
        )
        for figures in provider_figures(found, context.store.calendar, now)
    ]


@strawberry.type(description="Whether one consumer used what it was approved (Art. 12).")
class ConsumerFiguresType:
    consumerDepartment: str
    consumer: str
    approvals: int = strawberry.field(description="Applications approved (a grant made).")
    used: int = strawberry.field(description="Approvals whose grant decided a field it read.")
    neverUsed: int


async def consumer_figures_of(info: Info) -> list[ConsumerFiguresType]:
    context = info.context
    caller = context.caller
    consumer = None if may_coordinate(caller) else caller.department
    found = await context.store.listed(consumer_department=consumer)
    names = department_names(context.catalog)
    return [
        ConsumerFiguresType(
            consumerDepartment=figures.consumer_department,
            consumer=names.get(figures.consumer_department, figures.consumer_department),
            approvals=figures.approvals,
            used=figures.used,
            neverUsed=figures.never_used,
        )
        for figures in await consumer_figures(context.store.engine, found)
    ]
