"""Operations answered by a schema of their own beside the catalog's: the policy admins'
(`web.admin`) and the applications' (`web.applying`). Which one an operation is for is
read from the root fields it selects, before anything of it runs; it is then validated
and executed against that schema, and its errors are worded as every other refusal.
"""

from __future__ import annotations

import functools
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSchema, execute, parse, validate
from graphql.utilities import get_operation_ast

from errors import BadUserInput, GovShareError, ValidationFailed
from resolvers import ExecutionOutcome, GraphQLRequest
from web.roots import root_field_names


def selects_any(graphql: GraphQLRequest, fields: frozenset[str], max_tokens: int) -> bool:
    """The operation selects one of `fields` at its root (parsed only when its text
    names one)."""
    return _selects_any(graphql.query, graphql.operation_name, fields, max_tokens)


@functools.lru_cache(maxsize=256)
def _selects_any(
    query: str, operation_name: str | None, fields: frozenset[str], max_tokens: int
) -> bool:
    """Remembered per document text and operation: every request asks it of three
    field sets before anything runs, and the answer depends on the text alone, never
    on who sends it."""
    if not any(name in query for name in fields):
        return False
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return False
    names = root_field_names(document, operation)
    return names is not None and not names.isdisjoint(fields)


def root_fields(graphql: GraphQLRequest) -> frozenset[str]:
    """The root fields of an operation `selects_any` found (so it parses)."""
    document = parse(graphql.query, no_location=True)
    operation = get_operation_ast(document, graphql.operation_name)
    names = root_field_names(document, operation) if operation is not None else None
    return names or frozenset()


async def run(
    schema: GraphQLSchema,
    graphql: GraphQLRequest,
    context: object,
    versions: tuple[str, str, str],
) -> ExecutionOutcome:
    """Validate and execute against `schema`; versions: the document id, the policy and
    the catalog versions the audit record names."""
    document = parse(graphql.query, no_location=True)
    invalid = validate(schema, document)
    if invalid:
        errors = [{**e.formatted, "extensions": {"code": ValidationFailed.code}} for e in invalid]
        return ExecutionOutcome(False, None, errors, *versions)
    result = execute(
        schema,
        document,
        context_value=context,
        variable_values=dict(graphql.variables),
        operation_name=graphql.operation_name,
    )
    if not isinstance(result, ExecutionResult):
        result = await result
    return ExecutionOutcome(True, result.data, [_error(e) for e in result.errors or ()], *versions)


def _error(error: GraphQLError) -> dict[str, Any]:
    """A refusal says why; anything else is an internal error, its message unsent."""
    original = error.original_error
    if isinstance(original, GovShareError):
        return {
            **error.formatted,
            "message": original.message,
            "extensions": original.as_extensions(),
        }
    if original is None:  # a variable that does not coerce: GraphQL's own words
        return {**error.formatted, "extensions": {"code": BadUserInput.code}}
    raise original  # the edge answers INTERNAL_ERROR (or 503 for the store) and logs where
