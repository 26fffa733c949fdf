"""The auditors' operations at /graphql: an operation that selects a root field of the
auditors' schema (`schema.audit_log`) runs against it, for a person signed in with the
role `auditor` only; anyone else is refused FORBIDDEN before anything of it runs. The
schema holds the log and nothing else, so an auditor's operation reads no department
data; its own audit record names what it read (`READ_LOG`).
"""

from __future__ import annotations

import dataclasses

from audit.search import hashers_in_use
from errors import Forbidden
from platform_setup import Platform
from policies import Caller
from policies.caller import Role
from policies.decision import Outcome
from resolvers import ExecutionOutcome, FieldAccount, GraphQLRequest, RecordsServed
from schema.audit_log import AUDIT_FIELDS, AUDIT_SCHEMA, READ_LOG, AuditContext
from web.operations import root_fields, run, selects_any

BASIS = "role:auditor"


def audits(graphql: GraphQLRequest, max_tokens: int) -> bool:
    """The operation selects an auditors' field (parsed only when its text names one)."""
    return selects_any(graphql, AUDIT_FIELDS, max_tokens)


async def audit_operation(
    graphql: GraphQLRequest, caller: Caller, platform: Platform
) -> ExecutionOutcome:
    if Role.AUDITOR not in caller.roles:
        raise Forbidden("reading the audit log takes a person signed in with the role auditor")
    in_force = platform.policy_source.current
    versions = (graphql.document_id, in_force.policy.version, in_force.served.catalog_version)
    context = AuditContext(
        caller,
        platform.store,
        hashers_in_use(platform.settings),
        platform.settings,
        platform.calendar,
    )
    outcome = await run(AUDIT_SCHEMA._schema, graphql, context, versions)
    if not outcome.executed:
        return outcome
    roots = root_fields(graphql, platform.settings.max_tokens)
    fields = tuple(
        FieldAccount(name, 1, Outcome.CLEAR, BASIS) for name in sorted(roots or AUDIT_FIELDS)
    )
    read = {READ_LOG: RecordsServed(frozenset(context.read), frozenset(context.subjects))}
    return dataclasses.replace(outcome, fields=fields, records=read)
