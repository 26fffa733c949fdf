"""The policy admins' operations at /graphql: an operation that selects a root field
of the admin schema (`schema.documents_admin`) runs against it, for a person signed in
with the role `policy_admin` only; anyone else is refused FORBIDDEN (fail closed: the
role is checked before anything of the operation runs). Its audit record is written
as any request's.
"""

from __future__ import annotations

from documents import TrustedDocuments
from errors import Forbidden
from platform_setup import Platform
from policies import Caller
from policies.caller import Role
from resolvers import ExecutionOutcome, GraphQLRequest
from schema.documents_admin import ADMIN_FIELDS, ADMIN_SCHEMA, AdminContext
from web.operations import run, selects_any


def administers(graphql: GraphQLRequest, max_tokens: int) -> bool:
    """The operation selects an admin field (parsed only when its text names one)."""
    return selects_any(graphql, ADMIN_FIELDS, max_tokens)


async def administer(
    graphql: GraphQLRequest, caller: Caller, platform: Platform, trusted: TrustedDocuments
) -> ExecutionOutcome:
    if Role.POLICY_ADMIN not in caller.roles:
        raise Forbidden("registering documents takes a person signed in with the role policy_admin")
    in_force = platform.policy_source.current
    versions = (
        graphql.document_id,
        in_force.policy.version,
        in_force.served.catalog_version,
    )
    context = AdminContext(
        caller,
        trusted,
        platform.store,
        platform.settings,
        in_force.policy,
        in_force.served,
        platform.executor.limits,
    )
    return await run(ADMIN_SCHEMA._schema, graphql, context, versions)
