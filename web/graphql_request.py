"""Read a GraphQL-over-HTTP request: its parameters from the URL (GET) or a JSON body
(POST), checked as the specification's draft words them.

`null` for an optional parameter is the same as leaving it out, and so is an empty
`operationName`; a parameter of the wrong type makes the request malformed (400). A
`query` that is a string is well-formed even when blank: that is the document's parse
error, not the request's.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLError, OperationType, parse
from graphql.utilities import get_operation_ast
from starlette.requests import Request

from documents import TrustedDocuments
from errors import BadRequest, MethodNotAllowed, UnsupportedMediaType
from policies import Caller, Purpose
from resolvers import GraphQLRequest
from settings import Settings
from store.tables import audit_records
from web.headers import audit_column_length
from web.media import JSON, parse_media_type
from web.persisted import Called, document_text

OPERATION_NAME_LIMIT = audit_column_length(audit_records.c.operation_name)


async def read_graphql_request(
    request: Request,
    caller: Caller,
    purpose: Purpose | None,
    trusted: TrustedDocuments,
    settings: Settings,
) -> tuple[GraphQLRequest, Called]:
    """The request's parameters, and the document it calls: looked up when it is sent
    by id or matched as free text, or whom to register its text for if it runs
    (`web.persisted`); a mutation by GET is refused, as GET must change nothing."""
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
        for name in ("variables", "extensions"):
            if name in params:
                params[name] = _json(params[name], f"'{name}' parameter")
    else:
        params = await _body(request)
    may_register = caller.system is not None and settings.registers_automatically(caller.system)
    called = await document_text(
        params,
        caller,
        purpose,
        trusted,
        may_register=may_register,
        max_tokens=settings.max_tokens,
    )
    graphql = graphql_request({**params, "query": called.query})
    if params.get("query") is None:  # called by id: the text is a registered document's
        graphql = dataclasses.replace(graphql, registered=True)
    if request.method == "GET" and _is_mutation(graphql, settings.max_tokens):
        raise MethodNotAllowed("a mutation must be sent by POST")
    return graphql, called


def graphql_request(params: Mapping[str, Any]) -> GraphQLRequest:
    query, variables = params.get("query"), params.get("variables")
    name, extensions = params.get("operationName"), params.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise BadRequest("'extensions' must be a JSON object")
    if query is None:
        raise BadRequest("'query' is required: the text of a GraphQL document")
    if not isinstance(query, str):
        raise BadRequest("'query' must be a string")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("'variables' must be a JSON object")
    if name is not None and not isinstance(name, str):
        raise BadRequest("'operationName' must be a string")
    if name is not None and len(name) > OPERATION_NAME_LIMIT:
        raise BadRequest(f"'operationName' must be at most {OPERATION_NAME_LIMIT} characters")
    return GraphQLRequest(query, variables or {}, name or None)


def _is_mutation(graphql: GraphQLRequest, max_tokens: int) -> bool:
    """The operation a GET would run is a mutation. Parsed here only when the text can
    hold one; a document that does not parse is the executor's to refuse."""
    if "mutation" not in graphql.query:
        return False
    try:
        document = parse(graphql.query, no_location=True, max_tokens=max_tokens)
    except GraphQLError:
        return False
    operation = get_operation_ast(document, graphql.operation_name)
    return operation is not None and operation.operation == OperationType.MUTATION


async def _body(request: Request) -> dict[str, Any]:
    content_type, parameters = parse_media_type(request.headers.get("content-type", ""))
    if content_type != JSON or parameters.get("charset", "utf-8") != "utf-8":
        raise UnsupportedMediaType("POST bodies must be application/json in UTF-8")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not valid UTF-8") from None
    params = _json(text, "body")
    if not isinstance(params, dict):
        raise BadRequest("the request body must be a JSON object")
    return params


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise BadRequest(f"the {what} is not valid JSON") from None
    except RecursionError:  # Python's parser recurses once per level of nesting
        raise BadRequest(f"the {what} nests too deeply") from None
