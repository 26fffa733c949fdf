"""Run one GraphQL request under governance: parse, validate, plan, decide, execute, account.

Strawberry builds the schema; graphql-core executes it. The public is served its own
schema, which holds only what the public may query, so introspection and validation
(graphql-core's "Did you mean …") show it nothing the catalog hides; both schemas use
the same names, so one map of meanings serves both. Parsing and validation are cached
per schema and document text, and the plan and decisions per call (`governed.py`): a
registered document called by id is prepared once and then goes straight to its reads,
in caches of its own that free text sent once cannot empty. The plan and every
decision are made after validation and before the request's loaders, which read only
what was decided; what comes out is a finished `ExecutionOutcome` (`outcome.py`): plain
data for the edge to send and to map to an audit record. A document whose plan
compiles (`compiled.py`) is shaped from its records without graphql-core
(`shaping.py`); graphql-core's execution is the reference, and executes the rest.

What a request is served by — the policy, and the schemas, meanings and sources of
the catalog — is one value (`InForce`) that a reload replaces whole: a request reads
it once, when it starts, and keeps it to its end.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    execute,
    parse,
    specified_rules,
    validate,
)
from graphql.utilities import get_operation_ast

from errors import BadUserInput, DenialReason, ParseFailed, UnknownOperation, ValidationFailed
from policies import Caller, Purpose
from policies.decision import Denial
from quota import Quota, Unlimited
from resolvers.compiled import Program
from resolvers.context import RequestContext, read_context
from resolvers.coordinates import ItemField
from resolvers.cursor import CursorCodec, audience
from resolvers.governance import Governance
from resolvers.governed import Governed
from resolvers.loaders import Accessed, Asked, Loaders
from resolvers.outcome import ExecutionOutcome, field_accounts, records_served
from resolvers.plan import Plan, Selection, plan_operation
from resolvers.result import account, report
from resolvers.served import InForce, PolicyInForce, Served
from resolvers.shaping import run
from resolvers.template import Template
from store import StoreUnavailable

logger = logging.getLogger("gov_share.execution")


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    operation_name: str | None = None
    request_id: str | None = None
    """The HTTP exchange's id, told to the sources with every read."""
    registered: bool = False
    """The text is a document registered for the caller's system, called by its id
    (`web.persisted`): what is prepared for it is kept apart from free text's, so texts
    sent once and never again cannot push it out."""
    purpose_reference: str | None = None
    """The caller's X-Purpose-Reference, told to the sources with every read: another
    platform records it as this one does."""

    @property
    def document_id(self) -> str:
        return document_id(self.query)


def document_id(query: str) -> str:
    """What the audit log records a document by: the SM3 hash of its text."""
    return hashlib.new("sm3", query.encode()).hexdigest()


@dataclass(frozen=True)
class Limits:
    max_first: int
    batch_bound: int
    max_tokens: int
    rules: Sequence[type[ASTValidationRule]] = ()
    """Validation rules beyond the specification's: depth and alias limits."""


PREPARED = 1024
"""Document texts whose parse and validation are remembered, per kind of call (free
text, registered documents); the least recently used go first."""


@dataclass(frozen=True)
class _Prepared:
    document: DocumentNode | None
    errors: list[dict[str, Any]]
    document_id: str
    """Hashed once per document text, with its parse and validation."""


class Executor:
    def __init__(
        self,
        policy_source: PolicyInForce,
        *,
        cursor_key: bytes,
        limits: Limits,
        quota: Quota | None = None,
        stale: Callable[[], Iterable[str]] = tuple,
        compiled: bool = True,
    ) -> None:
        """`stale` tells the resources found stale now (`freshness.FreshnessWatch.stale`);
        `compiled` False has graphql-core execute every document (the reference)."""
        self.policy_source = policy_source
        self.compiled = compiled
        self.stale = stale
        self.cursor_key = cursor_key
        self.limits = limits
        self.quota = quota or Unlimited()
        self._rules = (*specified_rules, *limits.rules)
        self._free = _Remembered(self._parse_and_validate)
        self._registered = _Remembered(self._parse_and_validate)

    async def execute(
        self, request: GraphQLRequest, caller: Caller, purpose: Purpose | None
    ) -> ExecutionOutcome:
        in_force = self.policy_source.current  # read once: a reload leaves this request be
        policy, served = in_force.policy, in_force.served
        schema = served.schema_for(caller.is_public)
        remembered = self._registered if request.registered else self._free
        prepared = remembered.prepare(schema, request.query)
        if prepared.document is None:
            return self._refused(prepared, in_force, prepared.errors)
        operation = get_operation_ast(prepared.document, request.operation_name)
        if operation is None:
            error = _request_error(
                "the document has no operation of that name", UnknownOperation.code
            )
            return self._refused(prepared, in_force, [error])
        try:
            template, governance, deciding = self._govern(
                remembered.governed, in_force, caller, purpose, schema, prepared, operation, request
            )
        except BadUserInput as exc:
            error = {"message": exc.message, "extensions": exc.as_extensions()}
            return self._refused(prepared, in_force, [error])
        plan = template.plan
        result = None
        if self.compiled and isinstance(template.program, Program):
            asked = Asked()
            context = self._context(caller, purpose, in_force, plan, governance, request, asked)
            result = await _shaped(template.program, context)
            if result is None:  # graphql-core reports what went wrong, from the start
                context = self._context(caller, purpose, in_force, plan, governance, request, asked)
        else:
            context = self._context(caller, purpose, in_force, plan, governance, request)
        if result is None:
            executed = execute(
                schema,
                prepared.document,
                context_value=context,
                variable_values=dict(request.variables),
                operation_name=request.operation_name,
            )
            result = executed if isinstance(executed, ExecutionResult) else await executed
        context.loaders.release()
        _end_on_store_outage(result.errors or ())
        accounting = account(result.data, plan, governance)
        withheld = self._withheld(served, context)
        reported = report(result.errors or [], governance, accounting, withheld)
        return ExecutionOutcome(
            True,
            result.data,
            reported,
            prepared.document_id,
            policy.version,
            served.catalog_version,
            field_accounts(plan, governance, accounting.counts),
            records_served(context.accessed),
            deciding,
        )

    def _refused(
        self, prepared: _Prepared, in_force: InForce, errors: list[dict[str, Any]]
    ) -> ExecutionOutcome:
        """Nothing was executed, so nothing was resolved or served."""
        versions = in_force.policy.version, in_force.served.catalog_version
        return ExecutionOutcome(False, None, errors, prepared.document_id, *versions)

    def _withheld(self, served: Served, context: RequestContext) -> list[tuple[Denial, Selection]]:
        withheld = []
        for coordinate in sorted(context.accessed.out_of_scope):
            meaning = served.meanings[coordinate]
            assert isinstance(meaning, ItemField)
            field_name = f"{coordinate[0]}.{coordinate[1]}"
            denial = Denial(DenialReason.OUT_OF_SCOPE, field_name, meaning.item.name_zh)
            withheld.append((denial, context.plan.touched[coordinate][0]))
        return withheld

    def _context(
        self,
        caller: Caller,
        purpose: Purpose | None,
        in_force: InForce,
        plan: Plan,
        governance: Governance,
        request: GraphQLRequest,
        asked: Asked | None = None,
    ) -> RequestContext:
        """The loaders are made with the decided projections, which they never change."""
        accessed = Accessed()
        loaders = Loaders(
            in_force.served.connectors,
            self.limits.batch_bound,
            accessed,
            governance.projections,
            read_context(caller, purpose, request.request_id, request.purpose_reference),
            asked,
        )
        return RequestContext(
            caller=caller,
            purpose=purpose,
            loaders=loaders,
            cursors=CursorCodec(self.cursor_key, audience(caller, purpose)),
            max_first=self.limits.max_first,
            accessed=accessed,
            policy=in_force.policy,
            quota=self.quota,
            plan=plan,
            governance=governance,
            stale=frozenset(self.stale()),
        )

    def _govern(
        self,
        governed: Governed,
        in_force: InForce,
        caller: Caller,
        purpose: Purpose | None,
        schema: GraphQLSchema,
        prepared: _Prepared,
        operation: OperationDefinitionNode,
        request: GraphQLRequest,
    ) -> tuple[Template, Governance, float]:
        """Plan the operation and decide every coordinate it touches, once, before
        execution (or find what was, for the same document, caller and purpose); and
        how long deciding took."""

        def plan() -> Plan:
            assert prepared.document is not None  # a refused document is never governed
            fragments = {
                d.name.value: d
                for d in prepared.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            return plan_operation(schema, operation, fragments, request.variables)

        document = prepared.document_id, request.operation_name, request.variables
        return governed.govern(in_force, document, caller, purpose, plan)

    def _parse_and_validate(self, schema: GraphQLSchema, query: str) -> _Prepared:
        """GraphQL's own messages for these carry no data values: they are safe to return."""
        identity = document_id(query)
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            return _Prepared(None, [_request_error(error, ParseFailed.code)], identity)
        errors = validate(schema, document, self._rules)
        if errors:
            refused = [_request_error(e, ValidationFailed.code) for e in errors]
            return _Prepared(None, refused, identity)
        return _Prepared(document, [], identity)


class _Remembered:
    """What is prepared for one kind of call: each document's parse and validation (with
    its SM3), keyed by schema too, so a reloaded catalog's schema validates documents
    afresh; and each call's plan and decisions (`Governed`)."""

    def __init__(self, parse_and_validate: Callable[[GraphQLSchema, str], _Prepared]) -> None:
        self.prepare = functools.lru_cache(maxsize=PREPARED)(parse_and_validate)
        self.governed = Governed()


async def _shaped(program: Program, context: RequestContext) -> ExecutionResult | None:
    """The response shaped by the compiled program; None when something went wrong
    that graphql-core reports as an error (a source failing, a refused cursor, a value
    that does not serialize): the request is then executed by graphql-core afresh, with
    new loaders, so what it reports and accounts is what it always would; the reads it
    repeats are answered with what the sources answered the first time (`Asked`)."""
    try:
        return ExecutionResult(await run(program, context), None)
    except Exception as error:
        logger.debug("compiled execution gave way", extra={"error": type(error).__name__})
        return None


def _end_on_store_outage(execution_errors: Sequence[GraphQLError]) -> None:
    """A resolver that found the platform store gone (the quota, spending a check):
    graphql-core made it one field's error, but the store keeps the audit log too, so
    the request ends as it would had the store been gone before execution."""
    for error in execution_errors:
        if isinstance(error.original_error, StoreUnavailable):
            raise error.original_error


def _request_error(error: GraphQLError | str, code: str) -> dict[str, Any]:
    formatted = error.formatted if isinstance(error, GraphQLError) else {"message": error}
    return {**formatted, "extensions": {"code": code}}
