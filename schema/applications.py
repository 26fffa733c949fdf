"""The applications' schema (Art. 8): consumers apply and withdraw, the provider's
approvers answer (approve as asked or narrower, temporarily, refuse, revoke), and each
reads the applications that are theirs. Served by `web.applying`, which checks the
caller's kind and role before anything runs; here each application is checked to be
the caller's (its consumer's department, or its provider's).
"""

from __future__ import annotations

import contextlib
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import strawberry

import errors
from applications import (
    USE_CONDITIONS,
    Actor,
    Application,
    ApplicationNotFound,
    ApplicationProblem,
    ApplicationStore,
    Draft,
    DuplicateApplication,
    State,
    TransitionRefused,
    approved_terms,
    asked_terms,
    text_problems,
)
from applications.model import reason_problem
from catalog import Catalog
from policies import Caller
from policies.caller import Role
from schema.application_types import ApplicationInput, ApplicationType, application_type

CONSUMER_FIELDS = frozenset({"applyForAccess", "withdrawApplication", "myApplications"})
APPROVER_FIELDS = frozenset(
    {"approveApplication", "refuseApplication", "revokeApplication", "applicationsToAnswer"}
)
GRANTING_FIELDS = frozenset({"approveApplication", "revokeApplication"})
"""The answers that make or revoke a grant."""
APPLICATION_FIELDS = CONSUMER_FIELDS | APPROVER_FIELDS | {"application"}
"""The schema's root fields: an operation selecting one is the applications'."""


@dataclass(frozen=True)
class ApplicationsContext:
    caller: Caller
    store: ApplicationStore
    catalog: Catalog


Info = strawberry.Info[ApplicationsContext, Any]


@contextlib.contextmanager
def _refusals() -> Iterator[None]:
    """The applications' refusals as the caller's errors, in their words."""
    try:
        yield
    except ApplicationNotFound as missing:
        raise errors.ApplicationNotFound(str(missing)) from None
    except DuplicateApplication as duplicate:
        raise errors.ApplicationDuplicate(
            str(duplicate), openApplication=duplicate.open_id
        ) from None
    except TransitionRefused as refused:
        raise errors.ApplicationStateConflict(str(refused), state=refused.state.value) from None
    except ApplicationProblem as problem:
        raise errors.ApplicationInvalid(str(problem)) from None


def _actor(caller: Caller) -> Actor:
    """The person a token names; else the system, with the operator it asserts."""
    if caller.person is not None:
        return Actor(caller.person, caller.department)
    operator = f" ({caller.operator})" if caller.operator else ""
    return Actor(f"{caller.system_subject}{operator}"[:100], caller.department)


async def _visible(info: Info, application_id: int, *, answering: bool) -> Application:
    """The application, if the caller may see it (answering: its provider's approver);
    otherwise not found, as for one that does not exist."""
    context = info.context
    caller = context.caller
    with _refusals():
        application = await context.store.get(application_id)
    provider = application.provider_code == caller.department
    approver = Role.PROVIDER_APPROVER in caller.roles and caller.person is not None
    if answering:
        allowed = provider and approver
    else:
        office = Role.COORDINATION_OFFICE in caller.roles and caller.person is not None
        allowed = office or application.consumer_department == caller.department or provider
    if not allowed:
        raise errors.ApplicationNotFound(f"there is no application {application_id}")
    return application


async def _apply(info: Info, application: ApplicationInput) -> ApplicationType:
    context = info.context
    problems = text_problems(application.businessReason, application.caseReference)
    if not application.acknowledgeUseConditions:
        problems.append("acknowledge the use conditions of Art. 11 (acknowledgeUseConditions)")
    with _refusals():
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
            applicant=_actor(context.caller),
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
    application = await _visible(info, id, answering=False)
    if application.consumer_department != context.caller.department:
        raise errors.ApplicationNotFound(f"there is no application {id}")
    with _refusals():
        withdrawn = await context.store.withdraw(id, _actor(context.caller), reason)
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
    application = await _visible(info, id, answering=True)
    with _refusals():
        problem = reason_problem(reason, required=True)
        if problem:
            raise ApplicationProblem(problem)
        if temporaryHours is not None:
            if validUntil is not None or not 0 < temporaryHours <= 24 * 31:
                raise ApplicationProblem(
                    "temporaryHours: 1 to 744 hours from now, instead of validUntil"
                )
            now = datetime.datetime.now(datetime.UTC)
            validUntil = now + datetime.timedelta(hours=temporaryHours)
        terms = approved_terms(application.asked, fields, scope, validUntil, masked)
        approved = await context.store.approve(
            id, terms, _actor(context.caller), reason.strip(), context.catalog
        )
    return application_type(approved, context.catalog)


async def _refuse(info: Info, id: int, reason: str) -> ApplicationType:
    context = info.context
    await _visible(info, id, answering=True)
    with _refusals():
        problem = reason_problem(reason, required=True)
        if problem:
            raise ApplicationProblem(f"a refusal gives its reason (Art. 8): {problem}")
        refused = await context.store.refuse(id, _actor(context.caller), reason.strip())
    return application_type(refused, context.catalog)


async def _revoke(info: Info, id: int, reason: str) -> ApplicationType:
    context = info.context
    await _visible(info, id, answering=True)
    with _refusals():
        problem = reason_problem(reason, required=True)
        if problem:
            raise ApplicationProblem(f"a revocation gives its reason: {problem}")
        revoked = await context.store.revoke(id, _actor(context.caller), reason.strip())
    return application_type(revoked, context.catalog)


async def _application(info: Info, id: int) -> ApplicationType:
    await info.context.store.expire_ended()
    return application_type(await _visible(info, id, answering=False), info.context.catalog)


def _states(state: str | None) -> list[State] | None:
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
        consumer_department=context.caller.department, states=_states(state)
    )
    return [application_type(application, context.catalog) for application in found]


async def _to_answer(info: Info, state: str | None = "applied") -> list[ApplicationType]:
    context = info.context
    await context.store.expire_ended()
    found = await context.store.listed(
        provider_code=context.caller.department, states=_states(state)
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


APPLICATIONS_SCHEMA = strawberry.Schema(query=ApplicationsQuery, mutation=ApplicationsMutation)
