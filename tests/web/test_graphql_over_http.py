"""GraphQL over HTTP as the specification's draft words it, through the app: request
parameters, media types and their quality values, charsets and status codes per media
type. Documents called by id: tests/web/test_persisted_documents.py."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import Gateway

pytestmark = pytest.mark.anyio

TYPENAME = "{ __typename }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


async def post(
    gateway: Gateway, body: dict[str, Any] | str, headers: dict[str, str] | None = None
) -> httpx.Response:
    content = body if isinstance(body, str) else json.dumps(body)
    sent = {"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE, **(headers or {})}
    return await gateway.client.post("/graphql", content=content, headers=sent)


def media_type(response: httpx.Response) -> str:
    return response.headers["content-type"].split(";")[0]


def code(response: httpx.Response) -> str:
    [error] = response.json()["errors"]
    return str(error["extensions"]["code"])


async def test_an_empty_operation_name_means_absent(gateway: Gateway) -> None:
    response = await post(gateway, {"query": TYPENAME, "operationName": ""})
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {"__typename": "Query"}
    assert (await gateway.audit(response))["operation_name"] is None
    response = await gateway.client.get("/graphql", params={"query": TYPENAME, "operationName": ""})
    assert response.json()["data"] == {"__typename": "Query"}


async def test_operation_name_null_means_absent_and_a_name_picks_the_operation(
    gateway: Gateway,
) -> None:
    two = "query A { a: __typename } query B { b: __typename }"
    response = await post(gateway, {"query": TYPENAME, "operationName": None})
    assert response.json()["data"] == {"__typename": "Query"}
    response = await post(gateway, {"query": two, "operationName": "B"})
    assert response.json()["data"] == {"b": "Query"}
    assert (await gateway.audit(response))["operation_name"] == "B"


async def test_extensions_must_be_an_object(gateway: Gateway) -> None:
    for extensions in ([1], "x", 3, True):
        response = await post(gateway, {"query": TYPENAME, "extensions": extensions})
        assert response.status_code == 400, extensions
        assert code(response) == "BAD_REQUEST"
        assert (await gateway.audit(response))["outcome"] == "bad_request"
    for fine in (None, {}, {"tracing": True}):
        response = await post(gateway, {"query": TYPENAME, "extensions": fine})
        assert response.status_code == 200, fine
    response = await gateway.client.get("/graphql", params={"query": TYPENAME, "extensions": "[1]"})
    assert response.status_code == 400 and code(response) == "BAD_REQUEST"


async def test_accept_quality_values_are_honoured(gateway: Gateway) -> None:
    for accept, expected in (
        (f"{GRAPHQL_RESPONSE};q=0.1, {JSON}", JSON),
        (f"{GRAPHQL_RESPONSE};q=0, {JSON};q=0.2", JSON),
        (f"{JSON};q=0.5, {GRAPHQL_RESPONSE};q=0.9", GRAPHQL_RESPONSE),
        (f"{JSON}, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),  # a tie: the GraphQL type
        (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),
        (JSON, JSON),
        ("*/*", GRAPHQL_RESPONSE),
        ("application/*", GRAPHQL_RESPONSE),
        (f"*/*;q=0.8, {JSON}", JSON),
        (f"application/*;q=0.3, {GRAPHQL_RESPONSE};q=0, text/html", JSON),
        (f"{GRAPHQL_RESPONSE}; charset=utf-8, {JSON}; charset=utf-8", GRAPHQL_RESPONSE),
    ):
        response = await post(gateway, {"query": TYPENAME}, {"Accept": accept})
        assert response.status_code == 200, accept
        assert media_type(response) == expected, accept


async def test_nothing_acceptable_is_406_with_a_body_and_a_record(gateway: Gateway) -> None:
    for accept in ("text/csv", f"{JSON};q=0", f"{JSON};q=0, {GRAPHQL_RESPONSE};q=0, text/*"):
        response = await post(gateway, {"query": TYPENAME}, {"Accept": accept})
        assert response.status_code == 406, accept
        assert code(response) == "NOT_ACCEPTABLE"
        assert response.json()["extensions"]["requestId"] == response.headers["x-request-id"]
        assert (await gateway.audit(response))["outcome"] == "not_acceptable"


async def test_media_types_compare_case_insensitively(gateway: Gateway) -> None:
    response = await post(
        gateway,
        {"query": TYPENAME},
        {"Content-Type": "Application/JSON; Charset=UTF-8", "Accept": "Application/JSON"},
    )
    assert response.status_code == 200, response.text
    assert media_type(response) == JSON
    response = await post(
        gateway, {"query": TYPENAME}, {"Accept": "APPLICATION/GRAPHQL-RESPONSE+JSON"}
    )
    assert media_type(response) == GRAPHQL_RESPONSE


async def test_without_accept_the_response_is_graphql_response_json(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql", json={"query": "{"})
    assert media_type(response) == GRAPHQL_RESPONSE
    assert response.status_code == 400  # a parse error, with the GraphQL media type


async def test_the_response_content_type_says_utf_8(gateway: Gateway) -> None:
    for accept in (GRAPHQL_RESPONSE, JSON):
        response = await post(gateway, {"query": TYPENAME}, {"Accept": accept})
        assert response.headers["content-type"] == f"{accept}; charset=utf-8"
    refused = await post(gateway, "[]")
    assert refused.headers["content-type"] == f"{GRAPHQL_RESPONSE}; charset=utf-8"


async def test_bodies_are_json_in_utf_8(gateway: Gateway) -> None:
    latin = await post(
        gateway, {"query": TYPENAME}, {"Content-Type": "application/json; charset=latin-1"}
    )
    assert latin.status_code == 415 and code(latin) == "UNSUPPORTED_MEDIA_TYPE"
    assert (await gateway.audit(latin))["outcome"] == "bad_media_type"
    response = await gateway.client.post(
        "/graphql",
        content=b'{"query": "{ __typename }", "variables": {"x": "\xff"}}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and code(response) == "BAD_REQUEST"


async def test_json_nested_past_the_parser_is_a_malformed_request(gateway: Gateway) -> None:
    """Nesting deep enough to exhaust the JSON parser's recursion is one clear 400, on
    record, not an INTERNAL_ERROR."""
    deep = "[" * 5_000 + "]" * 5_000
    response = await gateway.client.post(
        "/graphql",
        content=f'{{"query": "{{ __typename }}", "variables": {{"x": {deep}}}}}'.encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400 and code(response) == "BAD_REQUEST"
    assert response.json()["errors"][0]["message"] == "the body nests too deeply"
    assert (await gateway.audit(response))["http_status"] == 400
    by_get = await gateway.client.get(
        "/graphql", params={"query": "{ __typename }", "variables": deep}
    )
    assert by_get.status_code == 400 and code(by_get) == "BAD_REQUEST"


async def test_a_blank_query_is_a_parse_error(gateway: Gateway) -> None:
    for query in ("", "   \n\t"):
        strict = await post(gateway, {"query": query})
        assert strict.status_code == 400
        assert code(strict) == "GRAPHQL_PARSE_FAILED"
        assert "data" not in strict.json()
        legacy = await post(gateway, {"query": query}, {"Accept": JSON})
        assert legacy.status_code == 200 and code(legacy) == "GRAPHQL_PARSE_FAILED"
        assert (await gateway.audit(legacy))["outcome"] == "invalid"


async def test_a_missing_query_is_a_malformed_request_in_both_media_types(
    gateway: Gateway,
) -> None:
    for accept in (GRAPHQL_RESPONSE, JSON):
        for body in ({}, {"query": None}, {"qeury": TYPENAME}):
            response = await post(gateway, body, {"Accept": accept})
            assert response.status_code == 400, body
            assert code(response) == "BAD_REQUEST"


async def test_an_overlong_operation_name_is_refused(gateway: Gateway) -> None:
    name = "Q" * 201
    response = await post(
        gateway, {"query": f"query {name} {{ __typename }}", "operationName": name}
    )
    assert response.status_code == 400 and code(response) == "BAD_REQUEST"
    assert "200" in response.json()["errors"][0]["message"]


async def test_status_codes_per_media_type(gateway: Gateway) -> None:
    """Request errors are 4xx in both; a document's errors are 4xx only with the GraphQL
    media type; data, even with field errors, is 200."""
    for accept, parse_status in ((GRAPHQL_RESPONSE, 400), (JSON, 200)):
        assert (await post(gateway, "{", {"Accept": accept})).status_code == 400
        assert (await post(gateway, {"query": "{"}, {"Accept": accept})).status_code == parse_status
        assert (
            await post(gateway, {"query": "{ nope }"}, {"Accept": accept})
        ).status_code == parse_status
        served = await post(gateway, {"query": TYPENAME}, {"Accept": accept})
        assert served.status_code == 200
