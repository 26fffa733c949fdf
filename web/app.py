"""The HTTP face of the platform: the app's routes and life, and the /graphql endpoint.

A request: authenticate the caller, read the declared purpose, execute under
governance, commit the audit record, respond. Every path — refused, invalid, failed,
crashed or served — writes its audit record first; if that write fails, no data is sent.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import logging
import time
import uuid
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from connectors import SOURCE_KINDS, SourceKinds
from documents import TrustedDocuments
from errors import (
    NotAcceptable,
    NotFound,
)
from platform_setup import Platform, build_platform
from settings import Settings
from web.admin import administer, administers
from web.answering import answered, headers_of, identify
from web.applying import answer_applications, applies
from web.auditing import audit_operation, audits
from web.cors import cors
from web.exchange import Exchange
from web.export import export_endpoint
from web.graphql_request import read_graphql_request
from web.ide import ide_assets, ide_page, ide_requested
from web.media import negotiate
from web.metrics import metrics
from web.readiness import healthz, readyz
from web.throttling import throttle_for
from web.traffic import Traffic

logger = logging.getLogger("gov_share.server")  # the name its log lines have always had


def create_app(
    settings: Settings, kinds: SourceKinds = SOURCE_KINDS, *, prepared: bool = False
) -> Starlette:
    """The app the settings describe; `kinds` are the kinds of source it can read (a
    test adds its own, such as the in-memory connector). `prepared`: the store and demo
    set-up done once for several workers (`platform_setup.prepare_platform`)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.platform = await build_platform(settings, kinds, prepared=prepared)
        app.state.documents = TrustedDocuments(app.state.platform.store, settings)
        app.state.throttle = throttle_for(settings)
        app.state.traffic = Traffic()
        await app.state.platform.start()
        await app.state.documents.start()
        await app.state.throttle.start()
        gc.freeze()  # start-up objects live forever: keep them out of GC pauses
        yield
        await app.state.throttle.close()
        await app.state.documents.close()
        await app.state.platform.close()

    routes: list[BaseRoute] = [
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        Route("/export/{resource}", export_endpoint),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics),
    ]
    if settings.graphiql_served():
        routes.append(ide_assets())
    # The client address on record: uvicorn's own middleware walks X-Forwarded-For back
    # through the trusted proxies; with none trusted it is the peer's, whatever it sends.
    # The app applies it, not the server command, so it holds however the app is served.
    proxies = Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    middleware = [proxies, *cors(settings.cors_origins)]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)


async def graphql_endpoint(request: Request) -> Response:
    platform: Platform = request.app.state.platform
    if ide_requested(request) and platform.settings.graphiql_served():
        return ide_page(request, platform.settings)
    exchange = Exchange(str(uuid.uuid4()), time.perf_counter())
    status, content = await answered(request, platform, exchange, _exchange)
    return Response(
        content,
        status_code=status,
        media_type=exchange.content_type,
        headers=headers_of(exchange),
    )


async def _exchange(request: Request, platform: Platform, exchange: Exchange) -> None:
    """Who asks, why, and what: each step can refuse the request with a RequestError.

    The caller is known before the rest is read, so a malformed request from a
    department system is on record as that system's."""
    if ide_requested(request):
        raise NotFound("GraphiQL is not served here (GOV_SHARE_GRAPHIQL)")
    media_type = negotiate(request.headers.get("accept"))
    if media_type is None:
        raise NotAcceptable("accept application/graphql-response+json or application/json")
    exchange.media_type = media_type
    caller = await identify(request, platform, exchange)
    trusted: TrustedDocuments = request.app.state.documents
    graphql, called = await read_graphql_request(
        request, caller, exchange.purpose, trusted, platform.settings
    )
    exchange.graphql = dataclasses.replace(
        graphql, request_id=exchange.request_id, purpose_reference=exchange.reference
    )
    exchange.document_id = called.document.document_id if called.document else None
    if administers(graphql, platform.settings.max_tokens):
        exchange.outcome = await administer(exchange.graphql, caller, platform, trusted)
        return
    if applies(graphql, platform.settings.max_tokens):
        exchange.outcome = await answer_applications(exchange.graphql, caller, platform)
        return
    if audits(graphql, platform.settings.max_tokens):
        exchange.outcome = await audit_operation(exchange.graphql, caller, platform)
        return
    exchange.outcome = await platform.executor.execute(exchange.graphql, caller, exchange.purpose)
    exchange.stale = frozenset(platform.freshness.stale())
    if called.registering is not None and exchange.outcome.executed:
        await trusted.store.register(called.registering, graphql.query)
