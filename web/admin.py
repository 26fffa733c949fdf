"""The policy admins' operations at /graphql: an operation that selects a root field
of the admin schema (`schema.documents_admin`) runs against it, for a person signed in
with the role `policy_admin` only; anyone else is refused FORBIDDEN (fail closed: the
role is checked before anything of the operation runs). Its audit record is written
as any request's.
"""

from __future__ import annotations

from graphql import (
    ExecutionResult,
    GraphQLError,
    execute,
    parse,
    validate,
)
from graphql.utilities import get_operation_ast

from documents import TrustedDocuments
from errors import Forbidden, ValidationFailed
from platform_setup import Platform
from policies import Caller
from policies.caller import Role
from resolvers import ExecutionOutcome, GraphQLRequest
from schema.documents_admin import ADMIN_FIELDS, ADMIN_SCHEMA, AdminContext
from web.graphql_errors import formatted
from web.roots import root_field_names


def administers(graphql: GraphQLRequest, max_tokens: int) -> bool:
    """The operation selects an admin field (parsed only when its text names one)."""
    if not any(name in graphql.query for name in ADMIN_FIELDS):
        return False
    try:
        document = parse(graphql.query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, graphql.operation_name)
    if operation is None:
        return False
    names = root_field_names(document, operation)
    return names is not None and not names.isdisjoint(ADMIN_FIELDS)


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
    schema = ADMIN_SCHEMA._schema
    document = parse(graphql.query, no_location=True)
    invalid = validate(schema, document)
    if invalid:
        errors = [{**e.formatted, "extensions": {"code": ValidationFailed.code}} for e in invalid]
        return ExecutionOutcome(False, None, errors, *versions)
    context = AdminContext(
        caller,
        trusted,
        platform.store,
        platform.settings,
        in_force.policy,
        in_force.served,
        platform.executor.limits,
    )
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=dict(graphql.variables),
        operation_name=graphql.operation_name,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    errors = [formatted(e) for e in result.errors or ()]
    return ExecutionOutcome(True, result.data, errors, *versions)
