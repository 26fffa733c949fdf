"""Applications at /graphql (Art. 8): an operation that selects a root field of the
applications' schema (`schema.applications`) runs against it. Who may is checked before
anything of it runs (fail closed): a department system, or a person acting through
one, applies and reads its own; answering takes a person signed in with the role
`provider_approver`. Its audit record is written as any request's, naming the person.

An answer that makes or revokes a grant is announced to the other instances (Redis)
by the grant store; this instance reloads at once, not at its next poll, so the
approver's next query here already sees it.
"""

from __future__ import annotations

from errors import Forbidden
from platform_setup import Platform
from policies import Caller
from policies.caller import Role
from resolvers import ExecutionOutcome, GraphQLRequest
from schema.applications import (
    APPLICATION_FIELDS,
    APPLICATIONS_SCHEMA,
    APPROVER_FIELDS,
    GRANTING_FIELDS,
    ApplicationsContext,
)
from web.operations import root_fields, run, selects_any


def applies(graphql: GraphQLRequest, max_tokens: int) -> bool:
    return selects_any(graphql, APPLICATION_FIELDS, max_tokens)


async def answer_applications(
    graphql: GraphQLRequest, caller: Caller, platform: Platform
) -> ExecutionOutcome:
    if caller.is_public:
        raise Forbidden("applications are made and read by department systems and their people")
    answering = Role.PROVIDER_APPROVER in caller.roles and caller.person is not None
    if not root_fields(graphql).isdisjoint(APPROVER_FIELDS) and not answering:
        raise Forbidden(
            "answering applications takes a person signed in with the role provider_approver"
        )
    in_force = platform.policy_source.current
    versions = (graphql.document_id, in_force.policy.version, in_force.served.catalog_version)
    context = ApplicationsContext(caller, platform.applications, in_force.catalog)
    outcome = await run(APPLICATIONS_SCHEMA._schema, graphql, context, versions)
    if answering and not root_fields(graphql).isdisjoint(GRANTING_FIELDS):
        await platform.policy_source.reload()
    return outcome
