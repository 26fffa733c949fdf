"""Run one GraphQL request under governance: plan, decide, execute, account.

The plan and decisions are made in `on_execute`, after parsing and validation (both
cached) and before any resolver runs. What comes out is plain data for the server to
send and for the audit log to record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import FragmentDefinitionNode, GraphQLError, GraphQLSyntaxError
from graphql.utilities import get_operation_ast
from strawberry import Schema
from strawberry.extensions import SchemaExtension

from connectors import Connector
from policies import Caller, Purpose, SharingPolicy
from resolvers.context import RequestContext
from resolvers.coordinates import Meaning
from resolvers.cursor import CursorCodec
from resolvers.governance import govern
from resolvers.loaders import Accessed, Loaders
from resolvers.plan import Coordinate, PlanError, plan_operation
from resolvers.result import Accounting, account, report


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    operation_name: str | None = None


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


class Governing(SchemaExtension):
    """Plans the operation and decides every coordinate it touches, once, before execution."""

    def __init__(self, *, meanings: Mapping[Coordinate, Meaning], policy: SharingPolicy) -> None:
        super().__init__()
        self.meanings = meanings
        self.policy = policy

    def on_execute(self) -> Iterator[None]:
        context: RequestContext = self.execution_context.context
        document = self.execution_context.graphql_document
        operation = (
            get_operation_ast(document, self.execution_context.operation_name) if document else None
        )
        if document is not None and operation is not None:
            fragments = {
                d.name.value: d
                for d in document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            try:
                context.plan = plan_operation(
                    self.execution_context.schema._schema,
                    operation,
                    fragments,
                    self.execution_context.variables or {},
                )
            except PlanError:
                context.plan = None  # execution reports the variable error; nothing is allowed
            if context.plan is not None:
                context.governance = govern(
                    context.plan, self.meanings, self.policy, context.caller, context.purpose
                )
                context.loaders.projections = context.governance.projections
        yield


class Executor:
    def __init__(
        self,
        schema: Schema,
        connectors: Mapping[str, Connector],
        *,
        cursor_key: bytes,
        batch_bound: int,
        max_first: int,
    ) -> None:
        self.schema = schema
        self.connectors = connectors
        self.cursor_key = cursor_key
        self.batch_bound = batch_bound
        self.max_first = max_first

    async def execute(
        self, request: GraphQLRequest, caller: Caller, purpose: Purpose | None
    ) -> ExecutionOutcome:
        accessed = Accessed()
        context = RequestContext(
            caller=caller,
            purpose=purpose,
            loaders=Loaders(self.connectors, self.batch_bound),
            cursors=CursorCodec(self.cursor_key, caller.department or "public"),
            max_first=self.max_first,
            accessed=accessed,
        )
        result = await self.schema.execute(
            request.query,
            variable_values=dict(request.variables),
            context_value=context,
            operation_name=request.operation_name,
        )
        if context.plan is None and result.data is None:
            return ExecutionOutcome(
                False, None, _request_errors(result.errors or []), context, Accounting()
            )
        accounting = account(result.data, context.plan) if context.plan else Accounting()
        errors = report(result.errors or [], context.governance, accounting)
        return ExecutionOutcome(True, result.data, errors, context, accounting)


def _request_errors(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    """Parse and validation errors carry no data values: GraphQL's own messages are safe."""
    out = []
    for error in errors:
        code = (
            "GRAPHQL_PARSE_FAILED"
            if isinstance(error, GraphQLSyntaxError)
            else "GRAPHQL_VALIDATION_FAILED"
        )
        out.append({**error.formatted, "extensions": {"code": code}})
    return out
