"""Operations answered by a schema of their own beside the catalog's: the policy admins'
(`web.admin`), the applications' (`web.applying`) and the auditors'
(`web.auditing`). Which one an operation is for is
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
    if not any(name in graphql.query for name in fields):
        return False
    names = _root_names(graphql.query, graphql.operation_name, max_tokens)
    return names is not None and not names.isdisjoint(fields)


def root_fields(graphql: GraphQLRequest, max_tokens: int) -> frozenset[str]:
    """The root fields of an operation `selects_any` found (so it parses)."""
    return _root_names(graphql.query, graphql.operation_name, max_tokens) or frozenset()


@functools.lru_cache(maxsize=256)
def _root_names(query: str, operation_name: str | None, max_tokens: int) -> frozenset[str] | None:
    """The operation's root fields, parsed once per document text and operation: every
    request asks of three own schemas whether it is theirs before anything runs, and
    the answer depends on the text alone, never on who sends it. None: the text does
    not parse, or names no operation of that name."""
    try:
        document = parse(query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    return None if operation is None else root_field_names(document, operation)


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
