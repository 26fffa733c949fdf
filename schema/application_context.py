"""What the applications' resolvers share: the request's context, the refusals worded
for the caller, who a step is taken by, and the application if the caller may see it."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import strawberry

import errors
from applications import (
    Actor,
    Application,
    ApplicationNotFound,
    ApplicationProblem,
    ApplicationStore,
    DuplicateApplication,
    TransitionRefused,
)
from applications.model import reason_problem
from catalog import Catalog
from policies import Caller
from policies.application_access import may_answer, may_read
from schema.application_types import ApplicationType, application_type


@dataclass(frozen=True)
class ApplicationsContext:
    caller: Caller
    store: ApplicationStore
    catalog: Catalog


Info = strawberry.Info[ApplicationsContext, Any]


@contextlib.contextmanager
def refusals() -> Iterator[None]:
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


def actor_of(caller: Caller) -> Actor:
    """The person a token names; else the system, with the operator it asserts."""
    if caller.person is not None:
        return Actor(caller.person, caller.department)
    operator = f" ({caller.operator})" if caller.operator else ""
    return Actor(f"{caller.system_subject}{operator}"[:100], caller.department)


async def visible(info: Info, application_id: int, *, answering: bool = False) -> Application:
    """The application, if the caller may read it (answering: answer it); otherwise not
    found, in the same words as for one that does not exist."""
    context = info.context
    with refusals():
        application = await context.store.get(application_id)
    caller = context.caller
    if answering:
        allowed = may_answer(caller, application.provider_code)
    else:
        allowed = may_read(caller, application.consumer_department, application.provider_code)
    if not allowed:
        raise errors.ApplicationNotFound(f"there is no application {application_id}")
    return application


Taking = Callable[[ApplicationStore, int, Actor, str], Awaitable[Application]]
"""A step of the store that names who takes it and why (`ApplicationStore.refuse`, …)."""


async def answered(info: Info, id: int, reason: str, what: str, take: Taking) -> ApplicationType:
    """A step the provider's approver takes with its reason: checked to be theirs, the
    reason required (`what` says whose), taken, and shown."""
    context = info.context
    await visible(info, id, answering=True)
    with refusals():
        given = reason_required(reason, what)
        done = await take(context.store, id, actor_of(context.caller), given)
    return application_type(done, context.catalog)


def department_names(catalog: Catalog) -> dict[str, str]:
    """Department code → name, as the catalog names them (the figures' labels)."""
    return {entry.department.code: entry.department.name for entry in catalog.departments}


def reason_required(reason: str | None, what: str) -> str:
    """The reason, stripped; ApplicationProblem when it is missing or too long."""
    problem = reason_problem(reason, required=True)
    if problem or reason is None:
        raise ApplicationProblem(f"{what}: {problem}")
    return reason.strip()
