"""The auditors' operations at /graphql: an operation that selects a root field of the
auditors' schema (`schema.audit_log`) runs against it, for a person signed in with the
role `auditor` only; anyone else is refused FORBIDDEN before anything of it runs. The
schema holds the log and nothing else, so an auditor's operation reads no department
data; its own audit record names what it read (`READ_LOG`).
"""

from __future__ import annotations

from graphql import ExecutionResult, GraphQLError, execute, parse, validate
from graphql.utilities import get_operation_ast

from audit.search import hashers_in_use
from errors import Forbidden, ValidationFailed
from platform_setup import Platform
from policies import Caller
from policies.caller import Role
from policies.decision import Outcome
from resolvers import ExecutionOutcome, FieldAccount, GraphQLRequest, RecordsServed
from schema.audit_log import AUDIT_FIELDS, AUDIT_SCHEMA, READ_LOG, AuditContext
from web.graphql_errors import formatted
from web.roots import root_field_names

BASIS = "role:auditor"


def audits(graphql: GraphQLRequest, max_tokens: int) -> bool:
    """The operation selects an auditors' field (parsed only when its text names one)."""
    if not any(name in graphql.query for name in AUDIT_FIELDS):
        return False
    try:
        document = parse(graphql.query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, graphql.operation_name)
    if operation is None:
        return False
    names = root_field_names(document, operation)
    return names is not None and not names.isdisjoint(AUDIT_FIELDS)


async def audit_operation(
    graphql: GraphQLRequest, caller: Caller, platform: Platform
) -> ExecutionOutcome:
    if Role.AUDITOR not in caller.roles:
        raise Forbidden("reading the audit log takes a person signed in with the role auditor")
    in_force = platform.policy_source.current
    versions = (graphql.document_id, in_force.policy.version, in_force.served.catalog_version)
    schema = AUDIT_SCHEMA._schema
    document = parse(graphql.query, no_location=True)
    invalid = validate(schema, document)
    if invalid:
        errors = [{**e.formatted, "extensions": {"code": ValidationFailed.code}} for e in invalid]
        return ExecutionOutcome(False, None, errors, *versions)
    context = AuditContext(caller, platform.store, hashers_in_use(platform.settings))
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=dict(graphql.variables),
        operation_name=graphql.operation_name,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    operation = get_operation_ast(document, graphql.operation_name)
    roots = root_field_names(document, operation) if operation else None
    fields = tuple(
        FieldAccount(name, 1, Outcome.CLEAR, BASIS) for name in sorted(roots or AUDIT_FIELDS)
    )
    read = {READ_LOG: RecordsServed(frozenset(context.read), frozenset(context.subjects))}
    return ExecutionOutcome(
        True,
        result.data,
        [formatted(e) for e in result.errors or ()],
        *versions,
        fields=fields,
        records=read,
    )
