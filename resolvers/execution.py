"""Run one GraphQL request under governance: parse, validate, plan, decide, execute, account.

Strawberry builds the schema; graphql-core executes it. The public is served its own
schema, which holds only what the public may query, so introspection and validation
(graphql-core's "Did you mean …") show it nothing the catalog hides; both schemas use
the same names, so one map of meanings serves both. Parsing and validation are cached
per schema and document text; the plan and every decision are made after validation
and before any resolver runs, and what comes out is plain data for the server to send
and for the audit log to record.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping, Sequence
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

import errors
from connectors import Connector
from errors import (
    BadUserInput,
    FieldDenied,
    ParseFailed,
    UnknownOperation,
    ValidationFailed,
)
from policies import Caller, Purpose
from policies.quota import Quota, Unlimited
from resolvers.context import RequestContext, read_context
from resolvers.coordinates import ItemField, Meaning
from resolvers.cursor import CursorCodec, audience
from resolvers.governance import Policy, govern
from resolvers.loaders import Accessed, Loaders
from resolvers.plan import Coordinate, Selection, plan_operation
from resolvers.result import Accounting, account, report


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    operation_name: str | None = None
    request_id: str | None = None
    """The HTTP exchange's id, told to the sources with every read."""


@dataclass
class ExecutionOutcome:
    """What happened: the response body's parts, and what the audit log must record."""

    executed: bool
    data: dict[str, Any] | None
    errors: list[dict[str, Any]]
    context: RequestContext
    accounting: Accounting

    @property
    def error_codes(self) -> list[str]:
        return [error["extensions"]["code"] for error in self.errors]


@dataclass(frozen=True)
class Limits:
    max_first: int
    batch_bound: int
    max_tokens: int
    rules: Sequence[type[ASTValidationRule]] = ()
    """Validation rules beyond the specification's: depth and alias limits."""


@dataclass(frozen=True)
class _Prepared:
    document: DocumentNode | None
    errors: list[dict[str, Any]]


class Executor:
    def __init__(
        self,
        schema: GraphQLSchema,
        meanings: Mapping[Coordinate, Meaning],
        policy: Policy,
        connectors: Mapping[str, Connector],
        *,
        cursor_key: bytes,
        limits: Limits,
        public_schema: GraphQLSchema,
        quota: Quota | None = None,
    ) -> None:
        self.schema = schema
        self.public_schema = public_schema
        self.meanings = meanings
        self.policy = policy
        self.connectors = connectors
        self.cursor_key = cursor_key
        self.limits = limits
        self.quota = quota or Unlimited()
        self._rules = (*specified_rules, *limits.rules)
        self._prepare = {
            public: functools.lru_cache(maxsize=512)(
                functools.partial(self._parse_and_validate, self._schema_for(public))
            )
            for public in (False, True)
        }

    async def execute(
        self, request: GraphQLRequest, caller: Caller, purpose: Purpose | None
    ) -> ExecutionOutcome:
        context = self._context(caller, purpose, request.request_id)
        schema = self._schema_for(caller.is_public)
        prepared = self._prepare[caller.is_public](request.query)
        if prepared.document is None:
            return ExecutionOutcome(False, None, prepared.errors, context, Accounting())
        operation = get_operation_ast(prepared.document, request.operation_name)
        if operation is None:
            error = _request_error(
                "the document has no operation of that name", UnknownOperation.code
            )
            return ExecutionOutcome(False, None, [error], context, Accounting())
        try:
            self._govern(context, schema, prepared.document, operation, request.variables)
        except BadUserInput as exc:
            error = {"message": exc.message, "extensions": exc.as_extensions()}
            return ExecutionOutcome(False, None, [error], context, Accounting())
        result = execute(
            schema,
            prepared.document,
            context_value=context,
            variable_values=dict(request.variables),
            operation_name=request.operation_name,
        )
        if not isinstance(result, ExecutionResult):
            result = await result
        context.loaders.release()
        assert context.plan is not None
        accounting = account(result.data, context.plan, context.governance)
        withheld = self._withheld(context)
        reported = report(result.errors or [], context.governance, accounting, withheld)
        return ExecutionOutcome(True, result.data, reported, context, accounting)

    def _withheld(self, context: RequestContext) -> list[tuple[FieldDenied, Selection]]:
        assert context.plan is not None
        withheld = []
        for coordinate in sorted(context.accessed.out_of_scope):
            meaning = self.meanings[coordinate]
            assert isinstance(meaning, ItemField)
            field_name = f"{coordinate[0]}.{coordinate[1]}"
            error = errors.out_of_scope(field_name, meaning.item.name_zh)
            withheld.append((error, context.plan.touched[coordinate][0]))
        return withheld

    def _context(
        self, caller: Caller, purpose: Purpose | None, request_id: str | None
    ) -> RequestContext:
        accessed = Accessed()
        asked = read_context(caller, purpose, request_id)
        return RequestContext(
            caller=caller,
            purpose=purpose,
            loaders=Loaders(self.connectors, self.limits.batch_bound, accessed, asked),
            cursors=CursorCodec(self.cursor_key, audience(caller, purpose)),
            policy=self.policy,
            quota=self.quota,
            max_first=self.limits.max_first,
            accessed=accessed,
        )

    def _schema_for(self, public: bool) -> GraphQLSchema:
        return self.public_schema if public else self.schema

    def _govern(
        self,
        context: RequestContext,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any],
    ) -> None:
        """Plan the operation and decide every coordinate it touches, once, before execution."""
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        context.plan = plan_operation(schema, operation, fragments, variables)
        context.governance = govern(
            context.plan,
            self.meanings,
            context.policy,
            context.caller,
            context.purpose,
            datetime.datetime.now(datetime.UTC),
        )
        context.loaders.projections = context.governance.projections

    def _parse_and_validate(self, schema: GraphQLSchema, query: str) -> _Prepared:
        """GraphQL's own messages for these carry no data values: they are safe to return."""
        try:
            document = parse(query, max_tokens=self.limits.max_tokens)
        except GraphQLError as error:
            return _Prepared(None, [_request_error(error, ParseFailed.code)])
        errors = validate(schema, document, self._rules)
        if errors:
            return _Prepared(None, [_request_error(e, ValidationFailed.code) for e in errors])
        return _Prepared(document, [])


def _request_error(error: GraphQLError | str, code: str) -> dict[str, Any]:
    formatted = error.formatted if isinstance(error, GraphQLError) else {"message": error}
    return {**formatted, "extensions": {"code": code}}
