"""What every governed endpoint does around its own work (/graphql, /export): who asks
and why, read from the same headers and charged to the same budgets; and the answer
made, on record before it is sent — refused, failed, crashed or served — logged and
counted.

Said once, so a second endpoint cannot answer a store outage, a crash or a rate
refusal differently from the first.
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from collections.abc import Awaitable, Callable

from starlette.requests import Request

from errors import AuditUnavailable, InternalError, MethodNotAllowed, RateLimited, RequestError
from platform_setup import Platform
from policies import Caller
from store import StoreUnavailable
from throttle import Throttle
from web import headers
from web.acting import acting_caller
from web.exchange import Exchange
from web.throttling import admit, authenticate, client_address

logger = logging.getLogger("gov_share.server")  # the name its log lines have always had

Step = Callable[[Request, Platform, Exchange], Awaitable[None]]


async def identify(request: Request, platform: Platform, exchange: Exchange) -> Caller:
    """The caller, on the exchange as soon as it is known (a malformed request from a
    department system is on record as that system's), its budgets spent, and the
    operator, purpose and reference it declares. A peer platform acting for its caller
    spends its own link's budget as well as the caller's: naming new callers cannot buy
    it more requests."""
    throttle: Throttle = request.app.state.throttle
    address = client_address(request)
    authenticated = await authenticate(request, platform.keys, throttle)
    exchange.caller = authenticated
    caller = acting_caller(authenticated, request.headers, platform.settings.peer_platforms)
    exchange.caller = caller
    if caller is not authenticated:
        await admit(throttle, authenticated, address)
    await admit(throttle, caller, address)
    operator = headers.text_header(request.headers, headers.OPERATOR)
    exchange.caller = dataclasses.replace(caller, operator=operator)
    exchange.purpose = headers.purpose(request.headers)
    exchange.reference = headers.text_header(request.headers, headers.PURPOSE_REFERENCE)
    return exchange.caller


async def answered(
    request: Request, platform: Platform, exchange: Exchange, step: Step
) -> tuple[int, bytes]:
    """Run `step`, then the answer's status and body, its audit record written first:
    if that write fails, AUDIT_UNAVAILABLE is the answer and no data is sent."""
    try:
        await step(request, platform, exchange)
    except RequestError as error:
        exchange.refused(error)
    except StoreUnavailable:
        # The store that keeps the keys and the quota keeps the audit log too: nothing
        # can be served, as when the record cannot be written.
        exchange.refused(AuditUnavailable("the platform store is unavailable"))
    except Exception as exc:
        _crashed(exchange, exc)
    client = request.client.host if request.client else None
    try:
        status, content = exchange.response()
        record = exchange.record(platform, status, client)
    except Exception as exc:  # an outcome that cannot be sent or accounted for
        _crashed(exchange, exc)
        status, content = exchange.response()
        record = exchange.record(platform, status, client)
    try:
        await platform.audit.write(record)
    except Exception as exc:
        if not isinstance(exc, AuditUnavailable):
            _crashed(exchange, exc)
        exchange.refused(AuditUnavailable("the audit log cannot be written; no data is served"))
        status, content = exchange.response()
    _log(exchange, status)
    request.app.state.traffic.count(exchange)
    return status, content


def headers_of(exchange: Exchange) -> dict[str, str]:
    if isinstance(exchange.error, MethodNotAllowed):
        return {"X-Request-Id": exchange.request_id, "Allow": "POST"}
    if isinstance(exchange.error, RateLimited):
        return {"X-Request-Id": exchange.request_id, "Retry-After": str(exchange.error.retry_after)}
    return {"X-Request-Id": exchange.request_id}


def _crashed(exchange: Exchange, exc: Exception) -> None:
    """An exception nothing expected: the caller gets INTERNAL_ERROR and the request id;
    the log gets the exception's type and where it was raised, never its message,
    which may quote data."""
    exchange.refused(InternalError())
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    logger.error(
        "graphql request failed",
        extra={
            "request_id": exchange.request_id,
            "error": type(exc).__name__,
            "where": f"{frame.filename}:{frame.lineno}" if frame else None,
        },
    )


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
