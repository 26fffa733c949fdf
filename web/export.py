"""Batch download (部门批量下载): `GET /export/<list field>?format=csv|jsonl&fields=a,b`.

An export is the resource's list read page by page through the same governed execution
as /graphql — one GraphQL page of at most `PAGE` records per step — so it cannot show
what a query could not: the same decisions, masks applied in the source, grants' row
scopes, and one audit record per page, written before the page is sent. Each page's
record also says where the whole download stands (`audit.downloads`): the request id of
its first page, the records served so far and a digest of their keys, so the last one
states the whole download's count and keys; a page refused carries the account of the
pages before it. A resumed download (`after=`) is a download of its own.

Fields the caller may not read are refused up front (403 with the denial's code), never
left out silently. Each row carries its edge cursor (a CSV column, a JSONL member): an
interrupted download resumes with `after=` the last cursor received and gets the rest
exactly once. A page that stops being served mid-export (a rule changed, a source went
down) ends the stream; resuming from the last cursor then answers with the reason.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import io
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from audit import DownloadAccount
from catalog import Resource, ShareMethod
from errors import BadRequest, Forbidden, NotFound, RequestError
from platform_setup import Platform
from policies import Caller, Purpose
from resolvers import GraphQLRequest
from web.answering import answered, headers_of, identify
from web.exchange import Exchange
from web.throttling import admit, client_address

PAGE = 1000
"""Records per governed page: the most one GraphQL page may hold, so memory stays flat."""

FORMATS = {"csv": "text/csv", "jsonl": "application/jsonl"}
CURSOR = "cursor"
"""The CSV column and JSONL member carrying a row's resume cursor."""


class ExportRefused(RequestError):
    """A page the governed execution would not serve whole: its first error's code."""

    status_code = 403

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ExportRequest:
    resource: Resource
    fields: tuple[str, ...]
    format: str
    after: str | None
    within: dict[str, Any] | None = None
    """The rows a scoped grant covers, as a `where`: see `_within_scope`."""


async def export_endpoint(request: Request) -> Response:
    """The first page answered as /graphql answers (on record before it is sent, a
    refusal or a store outage as its error); the rest streamed after it."""
    platform: Platform = request.app.state.platform
    exchange = Exchange(str(uuid.uuid4()), time.perf_counter())
    begun: list[tuple[ExportRequest, list[dict[str, Any]]]] = []

    async def first_page(request: Request, platform: Platform, exchange: Exchange) -> None:
        asked = _read(request, platform)
        caller = await identify(request, platform, exchange)
        within = _within_scope(platform, caller, exchange.purpose, asked)
        asked = dataclasses.replace(asked, within=within)
        begun.append((asked, await _page(platform, exchange, asked, asked.after)))

    status, content = await answered(request, platform, exchange, first_page)
    if not begun or status != 200:
        return Response(
            content, status, media_type=exchange.content_type, headers=headers_of(exchange)
        )
    asked, rows = begun[0]
    return StreamingResponse(
        _stream(request, platform, exchange, asked, rows),
        media_type=f"{FORMATS[asked.format]}; charset=utf-8",
        headers=headers_of(exchange),
    )


def _read(request: Request, platform: Platform) -> ExportRequest:
    """The resource, fields, format and cursor asked for; only the resource's own items
    may be named, so nothing of the query string reaches the document unchecked."""
    name = request.path_params["resource"]
    resource = next((r for r in platform.catalog.resources.values() if r.list_field == name), None)
    if resource is None:
        raise NotFound(f"no resource is listed as {name!r}")
    if ShareMethod.BATCH_DOWNLOAD not in resource.share_methods:
        raise Forbidden(f"{name} is not shared by batch download (共享方式)")
    form = request.query_params.get("format", "jsonl")
    if form not in FORMATS:
        raise BadRequest("format is csv or jsonl")
    items = {item.name for item in resource.items}
    fields = tuple(f for f in request.query_params.get("fields", "").split(",") if f)
    if not fields:
        raise BadRequest("fields names the items to export, comma-separated")
    unknown = sorted(set(fields) - items)
    if unknown:
        raise BadRequest(f"{name} has no item {', '.join(unknown)}")
    if CURSOR in fields or len(set(fields)) != len(fields):
        raise BadRequest("fields are named once each")
    return ExportRequest(resource, fields, form, request.query_params.get("after") or None)


def _within_scope(
    platform: Platform, caller: Caller, purpose: Purpose | None, asked: ExportRequest
) -> dict[str, Any] | None:
    """The rows an export is limited to: those inside the scopes of a field served only
    in scope and denied outside (a scoped grant on an item without a mask). A query
    answers such a field null with OUT_OF_SCOPE on the other rows; an export, which never
    carries a denial's null, leaves those rows out. The scope's values are the caller's
    own attributes, so the filter cannot reach past what the grant covers, and a caller
    without the attribute gets no row. Each page is still decided as any query is: a
    scope narrowed mid-download refuses the next page."""
    policy = platform.policy_source.current.policy
    now = datetime.datetime.now(datetime.UTC)
    attributes = caller.attribute_values
    limits: list[dict[str, Any]] = []
    for name in asked.fields:
        decision = policy.decide(caller, asked.resource, asked.resource.item(name), purpose, now)
        if not decision.scoped or decision.fallback is None or decision.fallback.allowed:
            continue
        inside: list[dict[str, Any]] = [
            {
                "_and": [
                    {term.item: {"_eq": attributes[term.attribute]}}
                    if term.attribute in attributes
                    else {term.item: {"_in": []}}
                    for term in scope.terms
                ]
            }
            for scope in decision.scopes
        ]
        limits.append({"_or": inside})
    return {"_and": limits} if limits else None


async def _page(
    platform: Platform, exchange: Exchange, asked: ExportRequest, after: str | None
) -> list[dict[str, Any]]:
    """One governed page (its edges), on the exchange for its audit record; any error
    refuses it whole: an export never carries a field's null for a denial."""
    selection = " ".join(asked.fields)
    variables: dict[str, Any] = {"after": after}
    declared, arguments = "$after: String", f"first: {PAGE}, after: $after"
    if asked.within is not None:  # only then: a caller may have no `<Type>Where` to name
        variables["where"] = asked.within
        declared += f", $where: {asked.resource.type_name}Where"
        arguments += ", where: $where"
    query = (
        f"query Export({declared}) {{ {asked.resource.list_field}({arguments}) "
        f"{{ edges {{ cursor node {{ {selection} }} }} }} }}"
    )
    exchange.graphql = GraphQLRequest(
        query,
        variables,
        "Export",
        request_id=exchange.request_id,
        purpose_reference=exchange.reference,
    )
    assert exchange.caller is not None
    outcome = await platform.executor.execute(exchange.graphql, exchange.caller, exchange.purpose)
    exchange.outcome = outcome
    if outcome.errors:
        first = outcome.errors[0]
        code = first.get("extensions", {}).get("code", "FORBIDDEN")
        raise ExportRefused(code, first.get("message", "the page is not served"))
    assert outcome.data is not None
    edges: list[dict[str, Any]] = outcome.data[asked.resource.list_field]["edges"]
    served = outcome.records.get(asked.resource.id)
    keys = platform.hasher.hash_all(served.keys) if served is not None else []
    exchange.download = (exchange.download or DownloadAccount(exchange.request_id)).after(keys)
    return edges


async def _stream(
    request: Request,
    platform: Platform,
    exchange: Exchange,
    asked: ExportRequest,
    edges: list[dict[str, Any]],
) -> AsyncIterator[bytes]:
    """Page after page while pages are full. Each page is a request of the caller's
    budget and a record of its own (request ids are unique in the log), under the
    caller, purpose and reference the download began with; a page refused — a rate
    spent, a source down, a grant ended — ends the body, its refusal on record."""
    client = request.client.host if request.client else None
    throttle = request.app.state.throttle
    if asked.format == "csv":
        yield _csv([[*asked.fields, CURSOR]])
    while edges:
        yield _encode(asked, edges)
        if len(edges) < PAGE:
            return
        exchange = dataclasses.replace(
            exchange, request_id=str(uuid.uuid4()), started=time.perf_counter(), outcome=None
        )
        assert exchange.caller is not None
        try:
            await admit(throttle, exchange.caller, client_address(request))
            edges = await _page(platform, exchange, asked, edges[-1][CURSOR])
        except RequestError as error:
            exchange.refused(error)
            await platform.audit.write(exchange.record(platform, error.status_code, client))
            return
        await platform.audit.write(exchange.record(platform, 200, client))


def _encode(asked: ExportRequest, edges: Sequence[dict[str, Any]]) -> bytes:
    if asked.format == "csv":
        return _csv(
            [[_cell(edge["node"][f]) for f in asked.fields] + [edge[CURSOR]] for edge in edges]
        )
    lines = (
        json.dumps({"node": e["node"], CURSOR: e[CURSOR]}, ensure_ascii=False) + "\n" for e in edges
    )
    return "".join(lines).encode()


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def _cell(value: Any) -> str:
    """A CSV cell: no value is empty; a structured value (a list) its JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
