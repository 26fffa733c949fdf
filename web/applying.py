"""Applications at /graphql (Art. 8): an operation that selects a root field of the
applications' schema (`schema.applications`) runs against it. Who may is checked before
anything of it runs (fail closed): a department system, or a person acting through
one, applies, escalates and reads its own; answering takes a person signed in with
the role `provider_approver`, deciding escalations one with `coordination_office`
(`policies.application_access`). Its audit record is written as any request's, naming
the person.

An answer that makes or revokes a grant is announced to the other instances (Redis)
by the grant store; this instance reloads at once, not at its next poll, so the
approver's next query here already sees it.
"""

from __future__ import annotations

from errors import Forbidden
from platform_setup import Platform
from policies import Caller
from policies.application_access import may_apply, may_coordinate, signed_in_as
from policies.caller import Role
from resolvers import ExecutionOutcome, GraphQLRequest
from schema.applications import (
    APPLICATION_FIELDS,
    APPLICATIONS_SCHEMA,
    APPROVER_FIELDS,
    GRANTING_FIELDS,
    ApplicationsContext,
)
from schema.escalations import OFFICE_FIELDS
from web.operations import root_fields, run, selects_any


def applies(graphql: GraphQLRequest, max_tokens: int) -> bool:
    return selects_any(graphql, APPLICATION_FIELDS, max_tokens)


async def answer_applications(
    graphql: GraphQLRequest, caller: Caller, platform: Platform
) -> ExecutionOutcome:
    if not may_apply(caller):
        raise Forbidden("applications are made and read by department systems and their people")
    selected = root_fields(graphql, platform.settings.max_tokens)
    if not selected.isdisjoint(APPROVER_FIELDS) and not signed_in_as(
        caller, Role.PROVIDER_APPROVER
    ):
        raise Forbidden(
            "answering applications takes a person signed in with the role provider_approver"
        )
    if not selected.isdisjoint(OFFICE_FIELDS) and not may_coordinate(caller):
        raise Forbidden(
            "deciding escalations takes a person signed in with the role coordination_office"
        )
    in_force = platform.policy_source.current
    versions = (graphql.document_id, in_force.policy.version, in_force.served.catalog_version)
    context = ApplicationsContext(caller, platform.applications, in_force.catalog)
    outcome = await run(APPLICATIONS_SCHEMA._schema, graphql, context, versions)
    if not selected.isdisjoint(GRANTING_FIELDS):
        await platform.policy_source.reload()
    return outcome
