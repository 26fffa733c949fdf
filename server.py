"""The HTTP face of the platform: GraphQL over HTTP at /graphql, health and readiness.

A request: authenticate the caller, read the declared purpose, execute under
governance, commit the audit record, respond. Every path — refused, invalid, failed
or served — writes its audit record first; if that write fails, no data is sent.

    python server.py [--host H] [--port P] [--demo]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import hashlib
import json
import logging
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from strawberry.http.ides import get_graphql_ide_html

from audit import AuditRecord, FieldAccount
from errors import AuditUnavailable, BadPurpose, BadRequest, RequestError, UnsupportedMediaType
from platform_setup import Platform, build_platform
from policies import Caller, Purpose
from resolvers.execution import ExecutionOutcome, GraphQLRequest
from settings import Settings
from startup import CONFIGURATION_ERROR, describe, settings_to_serve

logger = logging.getLogger("gov_share.server")

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


@dataclass
class Exchange:
    """What one /graphql request has gathered so far, for its response and audit record."""

    request_id: str
    started: float
    media_type: str = JSON
    caller: Caller | None = None
    purpose: Purpose | None = None
    reference: str | None = None
    graphql: GraphQLRequest | None = None
    outcome: ExecutionOutcome | None = None
    error: RequestError | None = None

    @property
    def error_codes(self) -> list[str]:
        if self.error is not None:
            return [self.error.code]
        return self.outcome.error_codes if self.outcome is not None else []


def create_app(settings: Settings) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.platform = await build_platform(settings)
        await app.state.platform.start()
        gc.freeze()  # start-up objects live forever: keep them out of GC pauses
        yield
        await app.state.platform.close()

    routes = [
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    return Starlette(routes=routes, lifespan=lifespan)


async def graphql_endpoint(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    if request.method == "GET" and _wants_ide(request):
        if not platform.settings.demo:
            return JSONResponse({"detail": "GraphiQL is served in demo mode only"}, status_code=404)
        return HTMLResponse(get_graphql_ide_html(graphql_ide="graphiql"))
    exchange = Exchange(str(uuid.uuid4()), time.perf_counter())
    media_type = _negotiate(request.headers.get("accept"))
    if media_type is None:
        return JSONResponse(
            {"detail": "accept application/graphql-response+json or application/json"}, 406
        )
    exchange.media_type = media_type
    try:
        exchange.graphql = await _read_graphql_request(request)
        exchange.caller = await platform.keys.authenticate(
            request.headers.get("authorization"), _header_text(request, "x-operator")
        )
        exchange.purpose, exchange.reference = _read_purpose(request)
        exchange.outcome = await platform.executor.execute(
            exchange.graphql, exchange.caller, exchange.purpose
        )
    except RequestError as error:
        exchange.error = error
    status, body = _respond(exchange)
    try:
        await platform.audit.write(_audit_record(platform, exchange, status, request))
    except AuditUnavailable as error:
        exchange.error, exchange.outcome = error, None
        status, body = _respond(exchange)
    _log(exchange, status)
    return JSONResponse(
        body,
        status_code=status,
        media_type=exchange.media_type,
        headers={"X-Request-Id": exchange.request_id},
    )


def _wants_ide(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "query" not in request.query_params


def _negotiate(accept: str | None) -> str | None:
    """GraphQL over HTTP: prefer the GraphQL media type; no Accept header means JSON."""
    if not accept:
        return JSON
    types = [part.split(";")[0].strip() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in types:
        return GRAPHQL_RESPONSE
    if JSON in types or "*/*" in types or "application/*" in types:
        return JSON
    return None


async def _read_graphql_request(request: Request) -> GraphQLRequest:
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
        if "variables" in params:
            params["variables"] = _json(params["variables"], "variables")
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type != JSON:
            raise UnsupportedMediaType("POST bodies must be application/json")
        params = _json((await request.body()).decode("utf-8", errors="replace"), "body")
        if not isinstance(params, dict):
            raise BadRequest("the request body must be a JSON object")
    query, variables, name = (
        params.get("query"),
        params.get("variables"),
        params.get("operationName"),
    )
    if not isinstance(query, str) or not query.strip():
        raise BadRequest("'query' must be a non-empty string")
    if variables is not None and not isinstance(variables, dict):
        raise BadRequest("'variables' must be a JSON object")
    if name is not None and not isinstance(name, str):
        raise BadRequest("'operationName' must be a string")
    return GraphQLRequest(query, variables or {}, name)


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise BadRequest(f"the {what} is not valid JSON") from None


def _header_text(request: Request, name: str) -> str | None:
    """Free-text headers (a case number, an operator) arrive percent-encoded UTF-8."""
    value = request.headers.get(name)
    return unquote(value) if value is not None else None


def _read_purpose(request: Request) -> tuple[Purpose | None, str | None]:
    declared = request.headers.get("x-purpose")
    reference = _header_text(request, "x-purpose-reference")
    if declared is None:
        return None, reference
    try:
        return Purpose(declared.strip()), reference
    except ValueError:
        allowed = ", ".join(p.value for p in Purpose)
        raise BadPurpose(f"X-Purpose must be one of: {allowed}") from None


def _respond(exchange: Exchange) -> tuple[int, dict[str, Any]]:
    extensions = {"requestId": exchange.request_id}
    if exchange.error is not None:
        error = {"message": exchange.error.message, "extensions": exchange.error.as_extensions()}
        return exchange.error.status_code, {"errors": [error], "extensions": extensions}
    outcome = exchange.outcome
    assert outcome is not None
    if not outcome.executed:
        status = 400 if exchange.media_type == GRAPHQL_RESPONSE else 200
        return status, {"errors": outcome.errors, "extensions": extensions}
    body: dict[str, Any] = {"data": outcome.data}
    if outcome.errors:
        body["errors"] = outcome.errors
    body["extensions"] = extensions
    return 200, body


def _audit_record(
    platform: Platform, exchange: Exchange, status: int, request: Request
) -> AuditRecord:
    caller, outcome, graphql = exchange.caller, exchange.outcome, exchange.graphql
    record = AuditRecord(
        request_id=exchange.request_id,
        occurred_at=datetime.datetime.now(datetime.UTC),
        outcome=_outcome_name(exchange),
        http_status=status,
        hash_key_id=platform.hasher.key_id,
        catalog_version=platform.catalog.version,
        policy_version=(outcome.context.policy if outcome else platform.policy).version,
        duration_ms=(time.perf_counter() - exchange.started) * 1000,
        caller_department=caller.department if caller else None,
        caller_system=caller.system if caller else None,
        operator=caller.operator if caller else _header_text(request, "x-operator"),
        purpose=exchange.purpose.value if exchange.purpose else None,
        purpose_reference=exchange.reference,
        operation_hash=hashlib.new("sm3", graphql.query.encode()).hexdigest() if graphql else None,
        operation_name=graphql.operation_name if graphql else None,
        client_address=request.client.host if request.client else None,
    )
    record.error_codes = exchange.error_codes
    if outcome is not None:
        record.fields = _field_accounts(outcome)
        record.records = _record_hashes(platform, outcome)
    return record


def _outcome_name(exchange: Exchange) -> str:
    if exchange.error is not None:
        return exchange.error.code.lower()
    outcome = exchange.outcome
    assert outcome is not None
    if not outcome.executed:
        return "invalid"
    if outcome.data is None:
        return "failed"
    return "partial" if outcome.errors else "served"


def _field_accounts(outcome: ExecutionOutcome) -> list[FieldAccount]:
    plan, governance = outcome.context.plan, outcome.context.governance
    if plan is None:
        return []
    accounts = []
    for selection in plan.walk():
        decision = governance.decisions.get(selection.coordinate)
        accounts.append(
            FieldAccount(
                path=".".join(selection.path),
                count=outcome.accounting.counts.get(selection.path, 0),
                decision=decision.outcome.value if decision else "structure",
                basis=decision.basis if decision else "",
            )
        )
    return sorted(accounts, key=lambda account: account.path)


def _record_hashes(
    platform: Platform, outcome: ExecutionOutcome
) -> dict[str, dict[str, list[str]]]:
    accessed, hasher = outcome.context.accessed, platform.hasher
    return {
        resource: {
            "keys": hasher.hash_all(keys),
            "subjects": hasher.hash_all(accessed.subjects.get(resource, ())),
        }
        for resource, keys in accessed.keys.items()
    }


def _log(exchange: Exchange, status: int) -> None:
    """One structured line per request: no operator, no variables, no values."""
    caller = exchange.caller
    logger.info(
        "graphql request",
        extra={
            "request_id": exchange.request_id,
            "department": caller.department if caller else None,
            "system": caller.system if caller else None,
            "purpose": exchange.purpose.value if exchange.purpose else None,
            "status": status,
            "codes": exchange.error_codes,
            "duration_ms": round((time.perf_counter() - exchange.started) * 1000, 2),
        },
    )


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    """Ready when the platform's own store answers; each department is reported, and one
    department down does not take the platform out of service."""
    platform: Platform = request.app.state.platform
    sources = {}
    for name, connector in platform.sources.items():
        try:
            await connector.ping()
            sources[name] = "available"
        except Exception:
            sources[name] = "unavailable"
    try:
        await platform.audit.ping()
        store = "available"
    except Exception:
        store = "unavailable"
    status = 200 if store == "available" else 503
    return JSONResponse({"store": store, "sources": sources}, status_code=status)


class JsonLogFormatter(logging.Formatter):
    FIELDS = (
        "request_id",
        "department",
        "system",
        "purpose",
        "status",
        "codes",
        "duration_ms",
        "source",
        "error",
        "path",
    )

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
        }
        line["message"] = record.getMessage()
        line.update({name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)})
        return json.dumps(line, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description="gov-share GraphQL data-access layer")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--demo", action="store_true", help="serve demo data and accept demo keys")
    arguments = parser.parse_args()
    try:
        settings = settings_to_serve(demo=arguments.demo)
    except ExceptionGroup as problems:
        print(describe(problems), file=sys.stderr)
        sys.exit(CONFIGURATION_ERROR)
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLogFormatter())
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    uvicorn.run(
        create_app(settings),
        host=arguments.host,
        port=arguments.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=30,  # drain in-flight requests, but never hang on idle clients
    )


if __name__ == "__main__":
    main()
